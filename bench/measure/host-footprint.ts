/**
 * 6. The host itself, as `npm start` runs it (startHost with the CLI's configuration), pointed at
 * a runtime address where nothing listens so that no runtime is started: time to listening,
 * memory when idle, and memory with 500 paired devices connected.
 * @module
 */
import { spawnSync } from 'node:child_process';
import { connectDevice, inPool, type BenchClient } from '../lib/clients.ts';
import { privateBuild } from '../lib/app-build.ts';
import type { Measurement } from '../lib/context.ts';
import { prepareHostData } from '../lib/fleet.ts';
import { startHostProcess, type HostProcess } from '../lib/host-process.ts';
import { atMost, mb, section } from '../lib/report.ts';
import { median } from '../lib/stats.ts';

const STARTS = 3;
/** What the host's RSS starts from: Node itself, running nothing. */
const BASELINES: Array<[string, string[]]> = [['Node alone (no host)', []]];
/** The discard port: nothing listens there, so the host only watches for a runtime. */
const NO_RUNTIME = 'http://127.0.0.1:9';
const SETTLE_MS = 2000;

export const hostFootprint: Measurement = {
  id: 'host',
  title: '6. The host: start-up without the runtime, idle memory, memory with 500 devices',
  budgetMs: 90_000,
  async run(ctx) {
    const s = section(this.id, this.title);
    const data = prepareHostData(ctx.devices);
    ctx.defer(data.dispose);
    // The host keeps the built app in memory, so serve one; without it the figures are still worth having.
    const app = await privateBuild().catch((err: unknown) => {
      s.notes.push(`Measured without the built app (${err instanceof Error ? err.message : String(err)}): the idle figure lacks the app the host keeps in memory.`);
      return undefined;
    });
    if (app) ctx.defer(app.dispose);
    const start = () =>
      startHostProcess(
        { mode: 'real', dataDir: data.dataDir, workspace: data.dataDir, opencodeUrl: NO_RUNTIME, ...(app ? { staticDir: app.dir } : {}) },
        { cpuProfDir: ctx.cpuProfDir },
      );

    const starts: Array<{ listeningAfterMs: number; sinceProcessStartMs: number; spawnToReadyMs: number }> = [];
    let host: HostProcess | undefined;
    ctx.defer(() => host?.stop());
    for (let i = 0; i < STARTS; i++) {
      ctx.progress(`host: start ${i + 1} of ${STARTS}`);
      await host?.stop();
      host = await start();
      starts.push({ listeningAfterMs: host.info.listeningAfterMs, sinceProcessStartMs: host.info.sinceProcessStartMs, spawnToReadyMs: host.spawnToReadyMs });
    }
    const live = host!;
    await new Promise((r) => setTimeout(r, SETTLE_MS));
    const idle = await live.call({ cmd: 'stats' });
    // After `idle`: taking the snapshot grows the heap for a while.
    const memory = await live.call({ cmd: 'memory' });

    ctx.progress(`host: connecting ${ctx.devices.length} devices`);
    const clients: BenchClient[] = await inPool(ctx.devices, 16, (d) => connectDevice(live.url, data.hostKey, d));
    ctx.defer(() => clients.forEach((c) => void c.close()));
    await new Promise((r) => setTimeout(r, SETTLE_MS));
    const loaded = await live.call({ cmd: 'stats' });

    const baselines = BASELINES.map(([label, args]) => {
      const r = spawnSync(process.execPath, [...args, '-e', `setTimeout(() => console.log(process.memoryUsage().rss), ${SETTLE_MS})`], { encoding: 'utf8' });
      return { label, rss: Number(r.stdout.trim()) };
    });
    const startup = {
      listeningAfterMs: median(starts.map((x) => x.listeningAfterMs)),
      sinceProcessStartMs: median(starts.map((x) => x.sinceProcessStartMs)),
      spawnToReadyMs: median(starts.map((x) => x.spawnToReadyMs)),
    };
    s.data = { starts, startup, idle, loaded, devices: clients.length, baselines, memory };
    const nodeAlone = baselines[0]!.rss;
    s.tables.push({
      title: `What the idle host holds above Node alone (${mb(idle.rss - nodeAlone).toFixed(1)} MB more RSS), from process.memoryUsage() and a heap snapshot`,
      columns: ['part', 'MB', 'objects'],
      rows: [
        ['JS heap reserved (V8 heapTotal)', mb(memory.heapTotal), null],
        ['  of it live objects (heapUsed)', mb(memory.heapUsed), null],
        ...memory.heap.map((h) => [`    ${h.name}`, mb(h.bytes), h.count]),
        ['outside the JS heap: Buffers and native objects (external)', mb(memory.external), null],
        ['  of it ArrayBuffers and Buffers', mb(memory.arrayBuffers), null],
        [
          `the rest of RSS: Node itself (${mb(nodeAlone).toFixed(1)} MB alone, its heap included), the uWS addon, compiled code, allocator slack`,
          mb(memory.rss - memory.heapTotal - memory.external),
          null,
        ],
      ],
    });
    s.tables.push({
      title: `Start-up (median of ${STARTS})`,
      columns: ['startHost() → listening ms', 'process start → listening ms', 'spawn → ready (as the parent saw it) ms'],
      rows: [[startup.listeningAfterMs, startup.sinceProcessStartMs, startup.spawnToReadyMs]],
    });
    s.tables.push({
      title: 'Memory',
      columns: ['state', 'RSS MB', 'JS heap used MB', 'connections'],
      rows: [
        ...baselines.map((b) => [b.label, mb(b.rss), null, null]),
        ['host, idle', mb(idle.rss), mb(idle.heapUsed), idle.connections],
        [`host, ${clients.length} devices connected`, mb(loaded.rss), mb(loaded.heapUsed), loaded.connections],
        ['per device', `${((loaded.rss - idle.rss) / 1024 / clients.length).toFixed(1)} KB`, `${((loaded.heapUsed - idle.heapUsed) / 1024 / clients.length).toFixed(1)} KB`, ''],
      ],
    });
    s.targets.push(atMost('host start-up to listening, startHost()', startup.listeningAfterMs, 300, 'ms', true));
    s.targets.push(atMost('host idle memory (RSS)', mb(idle.rss), 60, 'MB', true));
    s.notes.push(
      `The host runs as \`npm start\` runs it (an esbuild bundle on plain Node), bound to 127.0.0.1, with --opencode-url ${NO_RUNTIME} (nothing listens, so no runtime is started).`,
      '"process start → listening" adds Node\'s own start and loading the bundle and its dependencies; startHost() alone is what the start-up target measures.',
    );
    return s;
  },
};
