/**
 * 7. A host used for months: the real host and runtime with 1,000 sessions across 3 workspaces
 * and 100,000 events through its hub, against the same host idle and empty. Host memory, the
 * time a device waits for `sessions.list` (its first page, and every page), and what the event
 * journal holds (in memory only: host/events/journal.ts) and the data directory on disk.
 * @module
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { createOpencodeClient } from '@opencode-ai/sdk/v2';
import { authHeaders } from '../../host/runtime/health.ts';
import { connectDevice, inPool, now, type BenchClient } from '../lib/clients.ts';
import type { Measurement } from '../lib/context.ts';
import { prepareHostData } from '../lib/fleet.ts';
import { startHostProcess, type HostProcess } from '../lib/host-process.ts';
import { atMost, mb, section } from '../lib/report.ts';
import { median } from '../lib/stats.ts';
import { liveSandbox } from '../live/sandbox.ts';
import type { BenchDevice } from '../lib/fleet.ts';
import type { HostStats } from '../host/protocol.ts';
import { directorySize } from '../lib/disk.ts';

const SESSIONS = 1000;
const WORKSPACES = 3;
const EVENTS = 100_000;
const LISTS = 5;
const SETTLE_MS = 2000;

interface Point {
  stats: HostStats;
  /** The runtime's own lists and states (GET /session and /session/status, every workspace at once): the floor. */
  runtimeListMs: number;
  firstPageMs: number;
  allPagesMs: number;
  listed: number;
  dataDirBytes: number;
}

/** `sessions.list` as the app asks it: the first page's median over LISTS asks, and every page once. */
type Sdk = ReturnType<typeof createOpencodeClient>;

/** The runtime asked directly for what the host asks it for the first page: each workspace's newest 101 sessions and their states. */
async function runtimeListTime(sdks: Sdk[]): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < LISTS; i++) {
    const started = now();
    await Promise.all(sdks.flatMap((sdk) => [sdk.session.list({ limit: 101 }), sdk.session.status()]));
    times.push(now() - started);
  }
  return median(times);
}

async function listTimes(host: HostProcess, hostKey: Uint8Array, device: BenchDevice): Promise<Omit<Point, 'stats' | 'dataDirBytes' | 'runtimeListMs'>> {
  const client: BenchClient = await connectDevice(host.url, hostKey, device);
  try {
    const firsts: number[] = [];
    for (let i = 0; i < LISTS; i++) {
      const started = now();
      await client.channel.request({ t: 'sessions.list' });
      firsts.push(now() - started);
    }
    const started = now();
    let listed = 0;
    let cursor: string | undefined;
    do {
      const page = await client.channel.request({ t: 'sessions.list', ...(cursor === undefined ? {} : { cursor }) });
      listed += page.sessions.length;
      cursor = page.next;
    } while (cursor !== undefined);
    return { firstPageMs: median(firsts), allPagesMs: now() - started, listed };
  } finally {
    client.close();
  }
}

export const history: Measurement = {
  id: 'history',
  title: `7. A host used for months: ${SESSIONS.toLocaleString('en-US')} sessions in ${WORKSPACES} workspaces and ${EVENTS.toLocaleString('en-US')} events`,
  budgetMs: 300_000,
  async run(ctx) {
    const s = section(this.id, this.title);
    const { sandbox } = await liveSandbox(ctx);
    const more = Array.from({ length: WORKSPACES - 1 }, (_, i) => join(sandbox.root, `project-${i + 2}`));
    for (const dir of more) mkdirSync(dir, { recursive: true });
    const workspaces = [sandbox.workspace, ...more];
    const device = ctx.devices[0]!;
    const data = prepareHostData([device]);
    ctx.defer(data.dispose);
    ctx.progress('history: starting the host and its OpenCode runtime');
    const host = await startHostProcess(
      { mode: 'real', dataDir: data.dataDir, workspace: sandbox.workspace, moreWorkspaces: more, runtimeEnv: sandbox.env },
      { cpuProfDir: ctx.cpuProfDir },
    );
    ctx.defer(() => host.stop());
    const target = await host.call({ cmd: 'runtime' });
    const sdks = workspaces.map((directory) => createOpencodeClient({ baseUrl: target.url, headers: authHeaders(target.password), throwOnError: true, directory }));
    const measure = async (): Promise<Point> => {
      await new Promise((r) => setTimeout(r, SETTLE_MS));
      const lists = await listTimes(host, data.hostKey, device);
      return { ...lists, runtimeListMs: await runtimeListTime(sdks), stats: await host.call({ cmd: 'stats' }), dataDirBytes: directorySize(data.dataDir) };
    };
    const empty = await measure();

    ctx.progress(`history: ${SESSIONS} sessions in ${WORKSPACES} workspaces`);
    await inPool(
      Array.from({ length: SESSIONS }, (_, i) => i),
      8,
      (i) => sdks[i % WORKSPACES]!.session.create({ title: `session ${i + 1}` }),
    );
    ctx.progress(`history: ${EVENTS.toLocaleString('en-US')} events through the hub`);
    await host.call({ cmd: 'publish', spec: { count: EVENTS, perSecond: 0, batch: 1000, payloadBytes: 40 } });
    const used = await measure();

    const points: Array<[string, Point]> = [
      ['idle, no sessions', empty],
      [`${SESSIONS} sessions, ${EVENTS.toLocaleString('en-US')} events`, used],
    ];
    s.data = { sessions: SESSIONS, workspaces: WORKSPACES, events: EVENTS, empty, used };
    s.tables.push({
      title: 'The host before and after (the runtime is a process of its own, not counted)',
      columns: [
        '',
        'host RSS MB',
        'JS heap MB',
        'sessions.list first page ms',
        "runtime's own lists ms",
        'every page ms',
        'sessions listed',
        'journal events',
        'journal MB (memory)',
        'data dir on disk KB',
      ],
      rows: points.map(([name, p]) => [
        name,
        mb(p.stats.rss),
        mb(p.stats.heapUsed),
        p.firstPageMs,
        p.runtimeListMs,
        p.allPagesMs,
        p.listed,
        p.stats.journal.events,
        mb(p.stats.journal.bytes),
        p.dataDirBytes / 1024,
      ]),
    });
    s.targets.push(atMost(`history: sessions.list first page with ${SESSIONS} sessions`, used.firstPageMs, 100, 'ms'));
    s.targets.push(atMost('history: event journal after 100,000 events (bound: 8 MiB)', mb(used.stats.journal.bytes), 8, 'MB'));
    s.notes.push(
      `sessions.list: median of ${LISTS} asks for the first page (100 sessions), from a paired device in this process; "runtime's own lists": the same lists and session states asked of the runtime directly (GET /session and /session/status, the ${WORKSPACES} workspaces at once), the floor; "every page" walks all pages once. The events are synthetic text deltas published through the host's hub, as in section 2.`,
      'The journal is kept in memory only, bounded by 5,000 events and 8 MiB (host/events/journal.ts, docs/protocol.md "Resume rules"); nothing of it is written to disk. The data directory holds the host key, devices, the task ledger and partial answers.',
    );
    return s;
  },
};
