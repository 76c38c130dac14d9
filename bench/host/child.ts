/**
 * The host under measurement, in a process of its own (bundled and started by
 * bench/lib/host-process.ts with `fork`): the real host or the bench composition, on 127.0.0.1
 * and a free port. It reports `ready`, then answers the parent's commands (protocol.ts) until
 * `stop` or until the parent goes away.
 * @module
 */
import { startHost, type Host } from '../../host/app.ts';
import { parseConfig } from '../../host/config.ts';
import { createLogger, silentLogger, type LogLevel } from '../../host/log.ts';
import type { EventHub } from '../../host/events/hub.ts';
import type { Relay } from '../../host/relay.ts';
import type { RelayRuntimeEvent } from '../../shared/protocol/runtime-events.ts';
import { bundleMap, startProfiler, summarizeProfile, type CpuProfile, type ProfileSummary } from '../lib/profile-summary.ts';
import { startBenchRelay } from './compose.ts';
import type { ChildMessage, ChildSpec, Command, CommandResults, CostSpec, HostStats, MemoryBreakdown, PublishSpec, Request } from './protocol.ts';
import { randomBytes } from 'node:crypto';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { getHeapSpaceStatistics, writeHeapSnapshot } from 'node:v8';
import { encodeMessage, joinMessages } from '../../shared/protocol/messages.ts';
import { CipherState } from '../../shared/noise/cipher-state.ts';
import { createTransport } from '../../shared/noise/transport.ts';
import { noiseBackend } from '../../shared/noise/backend.ts';

const log = process.env.RELAY_BENCH_LOG ? createLogger({ level: process.env.RELAY_BENCH_LOG as LogLevel }) : silentLogger;
const now = () => performance.timeOrigin + performance.now();

interface Running {
  port: number;
  listeningAfterMs: number;
  relay: Relay;
  /** Only when it is the real host. */
  host?: Host;
  /** When its runtime first became ready (wall clock); undefined until then. */
  runtimeReadyAt?: number;
  close(): Promise<void>;
}

async function start(spec: ChildSpec): Promise<Running> {
  if (spec.mode === 'compose') {
    const started = performance.now();
    const bench = await startBenchRelay({ socket: spec.socket, dataDir: spec.dataDir, log });
    if (spec.autoApprove) approveEverything(bench.relay);
    return { port: bench.port, listeningAfterMs: performance.now() - started, relay: bench.relay, close: bench.close };
  }
  const argv = ['--port', String(spec.port ?? 0), '--bind', '127.0.0.1', '--data-dir', spec.dataDir, '--workspace', spec.workspace, '--log-level', 'error'];
  for (const more of spec.moreWorkspaces ?? []) argv.push('--workspace', more);
  if (spec.opencodeUrl) argv.push('--opencode-url', spec.opencodeUrl);
  if (spec.publicUrl) argv.push('--public-url', spec.publicUrl);
  const parsed = parseConfig(argv, {});
  if (!parsed.ok) throw new Error(parsed.errors.join('; '));
  const host = await startHost({
    config: parsed.config,
    log,
    ...(spec.runtimeEnv ? { runtimeEnv: spec.runtimeEnv } : {}),
    ...(spec.staticDir ? { staticDir: spec.staticDir } : {}),
  });
  if (spec.autoApprove) approveEverything(host.relay);
  const running: Running = { port: host.port, listeningAfterMs: host.listeningAfterMs, relay: host.relay, host, close: () => host.close() };
  host.runtime.ready.then(
    () => void (running.runtimeReadyAt = now()),
    () => {},
  );
  return running;
}

function approveEverything(relay: Relay): void {
  const { approvals } = relay;
  // Deciding inside the change callback would re-enter it: decide on the next turn.
  approvals.onChange((pending) => queueMicrotask(() => pending.forEach((p) => void approvals.approve(p.id))));
}

function stats(running: Running): HostStats {
  const cpu = process.cpuUsage();
  const mem = process.memoryUsage();
  return {
    cpuUserUs: cpu.user,
    cpuSystemUs: cpu.system,
    rss: mem.rss,
    heapUsed: mem.heapUsed,
    maxRss: process.resourceUsage().maxRSS * 1024,
    connections: running.relay.connectionCount(),
    journal: running.relay.hub.journalUse(),
  };
}

/**
 * A text delta as the runtime bridge relays it, stamped with the publish time: in its part id, as
 * devices read only the fields the protocol defines (bench/measure/fan-out.ts reads it back).
 */
function syntheticEvent(i: number, text: string): RelayRuntimeEvent {
  return { type: 'message.text.delta', sessionId: 'ses_bench0000000000000000', messageId: `msg_bench_${i}`, partId: `prt_${now()}`, delta: text };
}

/** Publishes through the same hub the runtime's events take; paced, or in bursts of `batch`. */
async function publish(hub: EventHub, spec: PublishSpec): Promise<CommandResults['publish']> {
  const text = 'x'.repeat(spec.payloadBytes);
  const firstSeq = hub.seq + 1;
  const started = performance.now();
  let sent = 0;
  while (sent < spec.count) {
    const due = spec.perSecond > 0 ? Math.min(spec.count, Math.floor(((performance.now() - started) * spec.perSecond) / 1000) + 1) : Math.min(spec.count, sent + (spec.batch ?? 1));
    while (sent < due) hub.publishEvent(syntheticEvent(sent++, text));
    if (sent >= spec.count) break;
    if (spec.perSecond > 0) {
      const nextAt = started + (sent * 1000) / spec.perSecond;
      await new Promise((r) => setTimeout(r, Math.max(0, nextAt - performance.now())));
    } else {
      await new Promise((r) => setImmediate(r));
    }
  }
  return { firstSeq, lastSeq: hub.seq };
}

/**
 * Times, in this process and on the same messages, the parts of a burst's deliveries that are not
 * the write: the encoding of each event (once, shared by every device), the joining of a turn's
 * events into one message and its frame header (per device), and the encryption (per device).
 * The fan-out measurement takes the write (and the hub's own work) as the rest of the CPU it measured.
 */
function deliveryCosts(spec: CostSpec): CommandResults['costs'] {
  const text = 'x'.repeat(spec.payloadBytes);
  const keyed = () => {
    const c = new CipherState();
    c.initializeKey(randomBytes(32));
    return c;
  };
  const transport = createTransport({ send: keyed(), recv: keyed() });
  const key = randomBytes(32);
  const nonce = new Uint8Array(12);
  const empty = new Uint8Array(0);
  const rounds = 3000;
  const time = (work: (round: number) => void) => {
    for (let r = 0; r < 200; r++) work(r); // warm up
    const started = process.cpuUsage();
    for (let r = 0; r < rounds; r++) work(r);
    const used = process.cpuUsage(started);
    return (used.user + used.system) / rounds;
  };
  const turn = (r: number) => Array.from({ length: spec.perTurn }, (_, i) => encodeMessage({ t: 'event', seq: r * spec.perTurn + i + 1, event: syntheticEvent(i, text) }));
  const messages = turn(0);
  const joined = joinMessages(messages);
  const body = new Uint8Array(joined.length + 1);
  const encodeUs = time(turn);
  const joinUs = time(() => joinMessages(messages));
  const sealUs = time(() => transport.seal(joined));
  const encryptUs = time(() => noiseBackend().seal(key, nonce, empty, body));
  return {
    encryptionUs: encryptUs / spec.perTurn,
    framingUs: encodeUs / (spec.perTurn * spec.devices) + (joinUs + sealUs - encryptUs) / spec.perTurn,
  };
}

/** Snapshot node kinds whose objects are grouped under their kind, not their (many) names. */
const BY_KIND = new Set(['string', 'concatenated string', 'sliced string', 'code', 'number', 'hidden', 'array']);

/**
 * Which module a script belongs to, from its name in the snapshot: a package in node_modules, the
 * host's bundle, Node's fetch (undici, one of Node's own modules but big enough to name), or the rest of Node's own.
 */
function moduleOf(script: string): string {
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(script)?.[1];
  if (pkg) return pkg;
  if (script.startsWith('file:')) return `the host's bundle (${script.slice(script.lastIndexOf('/') + 1)})`;
  if (script.includes('deps/undici')) return "Node's fetch (undici)";
  return "Node's own modules";
}

interface Snapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[]]; edge_fields: string[]; edge_types: [string[]] } };
  nodes: number[];
  edges: number[];
  strings: string[];
}

/**
 * Takes a heap snapshot of this process and sums its objects' own sizes by constructor (or kind:
 * strings, code, arrays), and the code V8 holds by module: each function's SharedFunctionInfo, its
 * bytecode, and each script's source (kept for lazy compilation), found through the snapshot's
 * `script_or_debug_info`, `function_data` and `source` edges.
 */
function memoryBreakdown(): MemoryBreakdown {
  const usage = process.memoryUsage();
  const spaces = getHeapSpaceStatistics().map((s) => ({ name: s.space_name, size: s.space_size, used: s.space_used_size, physical: s.physical_space_size }));
  const file = writeHeapSnapshot(join(tmpdir(), `owr-bench-heap-${process.pid}.heapsnapshot`));
  try {
    const { snapshot: meta, nodes, edges, strings } = JSON.parse(readFileSync(file, 'utf8')) as Snapshot;
    const fields = meta.meta.node_fields;
    const width = fields.length;
    const edgeWidth = meta.meta.edge_fields.length;
    const kinds = meta.meta.node_types[0];
    const edgeKinds = meta.meta.edge_types[0];
    const [typeAt, nameAt, sizeAt, edgeCountAt] = ['type', 'name', 'self_size', 'edge_count'].map((f) => fields.indexOf(f)) as [number, number, number, number];
    const [edgeTypeAt, edgeNameAt, edgeToAt] = ['type', 'name_or_index', 'to_node'].map((f) => meta.meta.edge_fields.indexOf(f)) as [number, number, number];
    const count = nodes.length / width;
    const firstEdge = new Uint32Array(count + 1);
    for (let n = 0, e = 0; n < count; n++) {
      firstEdge[n] = e;
      e += nodes[n * width + edgeCountAt]! * edgeWidth;
      firstEdge[n + 1] = e;
    }
    /** The node an edge of `n` named `name` leads to (an index into the node list), or -1. */
    const follow = (n: number, name: string): number => {
      for (let e = firstEdge[n]!; e < firstEdge[n + 1]!; e += edgeWidth) {
        if (edgeKinds[edges[e + edgeTypeAt]!] === 'internal' && strings[edges[e + edgeNameAt]!] === name) return edges[e + edgeToAt]! / width;
      }
      return -1;
    };
    const size = (n: number) => nodes[n * width + sizeAt]!;
    const name = (n: number) => strings[nodes[n * width + nameAt]!]!;

    const groups = new Map<string, { bytes: number; count: number }>();
    const modules = new Map<string, { bytes: number; count: number }>();
    const add = (map: typeof groups, key: string, bytes: number, count: number) => {
      const group = map.get(key) ?? { bytes: 0, count: 0 };
      group.bytes += bytes;
      group.count += count;
      map.set(key, group);
    };
    for (let n = 0; n < count; n++) {
      const kind = kinds[nodes[n * width + typeAt]!]!;
      add(groups, BY_KIND.has(kind) ? `(${kind})` : kind === 'closure' ? '(closures)' : kind === 'object' ? name(n) : `(${kind})`, size(n), 1);
      if (kind !== 'code') continue;
      const script = follow(n, 'script_or_debug_info');
      if (script >= 0 && name(script)) {
        // A function: its SharedFunctionInfo and bytecode count towards its script's module.
        const bytecode = follow(n, 'function_data');
        add(modules, moduleOf(name(script)), size(n) + (bytecode >= 0 ? size(bytecode) : 0), 1);
        continue;
      }
      const source = follow(n, 'source');
      if (source >= 0 && name(n)) add(modules, moduleOf(name(n)), size(source), 0);
    }
    const sorted = (map: typeof groups) => [...map].map(([key, g]) => ({ name: key, ...g })).sort((a, b) => b.bytes - a.bytes);
    return {
      rss: usage.rss,
      heapTotal: usage.heapTotal,
      heapUsed: usage.heapUsed,
      external: usage.external,
      arrayBuffers: usage.arrayBuffers,
      heap: sorted(groups).slice(0, 12),
      spaces,
      code: sorted(modules),
    };
  } finally {
    rmSync(file, { force: true });
  }
}

let stopProfiler: (() => Promise<CpuProfile>) | undefined;

async function startProfile(): Promise<Record<string, never>> {
  if (stopProfiler) throw new Error('profile: already started');
  stopProfiler = await startProfiler();
  return {};
}

async function stopProfile(file: string | undefined): Promise<ProfileSummary> {
  if (!stopProfiler) throw new Error('profile: not started');
  const profile = await stopProfiler();
  stopProfiler = undefined;
  if (file) writeFileSync(file, JSON.stringify(profile));
  const bundle = fileURLToPath(import.meta.url);
  const map = bundleMap(import.meta.url, JSON.parse(readFileSync(`${bundle}.map`, 'utf8')), fileURLToPath(new URL('../', import.meta.url)));
  return summarizeProfile(profile, { bundle: map });
}

async function handle(running: Running, command: Command): Promise<unknown> {
  switch (command.cmd) {
    case 'stats':
      return stats(running);
    case 'clock':
      return { now: now() };
    case 'publish':
      return publish(running.relay.hub, command.spec);
    case 'memory':
      return memoryBreakdown();
    case 'costs':
      return deliveryCosts(command.spec);
    case 'offers':
      return { links: Array.from({ length: command.count }, () => running.relay.newOffer().link) };
    case 'runtime': {
      if (!running.host) throw new Error('runtime: the bench composition has no runtime');
      await running.host.runtime.ready;
      await running.host.runtime.bridge.subscribed();
      const target = running.host.runtime.bridge.target!;
      return { url: target.url, ...(target.password ? { password: target.password } : {}), readyAtWallMs: running.runtimeReadyAt ?? now() };
    }
    case 'profile-start':
      return startProfile();
    case 'profile-stop':
      return stopProfile(command.file);
    case 'stop':
      await running.close();
      return {};
  }
}

const send = (message: ChildMessage, then?: () => void) => process.send!(message, undefined, {}, then);

async function main(): Promise<void> {
  const spec = JSON.parse(process.env.RELAY_BENCH_CHILD ?? 'null') as ChildSpec | null;
  if (!spec || !process.send) throw new Error('bench/host/child.ts is started by bench/lib/host-process.ts');
  let running: Running;
  try {
    running = await start(spec);
  } catch (err) {
    send({ type: 'failed', error: err instanceof Error ? (err.stack ?? err.message) : String(err) }, () => process.exit(1));
    return;
  }
  const readyAt = performance.now();
  send({ type: 'ready', info: { port: running.port, listeningAfterMs: running.listeningAfterMs, sinceProcessStartMs: readyAt, rss: process.memoryUsage().rss } });

  let stopping = false;
  process.on('message', (request: Request) => {
    handle(running, request).then(
      (result) => send({ type: 'reply', id: request.id, ok: true, result }, request.cmd === 'stop' ? () => process.exit(0) : undefined),
      (err: unknown) => send({ type: 'reply', id: request.id, ok: false, error: err instanceof Error ? err.message : String(err) }),
    );
    if (request.cmd === 'stop') stopping = true;
  });
  // The parent went away without stopping us: do not linger (and stop the runtime we started).
  process.on('disconnect', () => {
    if (stopping) return;
    running.close().finally(() => process.exit(1));
  });
}

main().catch((err: unknown) => {
  process.stderr.write(`bench host child: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
