/**
 * 6. The host itself, as `npm start` runs it (startHost with the CLI's configuration), pointed at
 * a runtime address where nothing listens so that no runtime is started: time to listening,
 * memory when idle, and memory with 500 paired devices connected.
 * @module
 */
import { spawn, spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildSync } from 'esbuild';
import { buildHostBundle, HOST_BUILD_OPTIONS } from '../../scripts/build-host.mjs';
import type { LadderRung, LadderStep } from '../host/ladder.ts';
import type { MemoryBreakdown } from '../host/protocol.ts';
import { connectDevice, inPool, type BenchClient } from '../lib/clients.ts';
import { privateBuild } from '../lib/app-build.ts';
import type { Measurement } from '../lib/context.ts';
import { prepareHostData } from '../lib/fleet.ts';
import { startHostProcess, type HostProcess } from '../lib/host-process.ts';
import { atMost, mb, section } from '../lib/report.ts';
import { residentByMapping } from '../lib/smaps.ts';
import { median } from '../lib/stats.ts';

const STARTS = 3;
/** What the host's RSS starts from: Node itself, running nothing. */
const BASELINES: Array<[string, string[]]> = [['Node alone (no host)', []]];
const HOST_ENTRY = fileURLToPath(new URL('../../host/main.ts', import.meta.url));
const LADDER_SOURCE = fileURLToPath(new URL('../host/ladder.ts', import.meta.url));
/** Beside build/host.mjs (gitignored), so its imports resolve from the project's node_modules. */
const LADDER_BUNDLE = fileURLToPath(new URL('../../build/bench-ladder.mjs', import.meta.url));

interface NodeAlone {
  rss: number;
  heapTotal: number;
  external: number;
  arrayBuffers: number;
  spaces: MemoryBreakdown['spaces'];
  /** Resident bytes by kind of mapping (Linux only). */
  maps?: Record<string, number>;
}

/**
 * Node running nothing, after SETTLE_MS: its process.memoryUsage() and heap spaces, and its
 * resident memory by mapping, read while it still runs.
 */
async function nodeAlone(args: string[]): Promise<NodeAlone> {
  const print = `const { rss, heapTotal, external, arrayBuffers } = process.memoryUsage(); const spaces = require('v8').getHeapSpaceStatistics().map((s) => ({ name: s.space_name, size: s.space_size, used: s.space_used_size, physical: s.physical_space_size })); console.log(JSON.stringify({ rss, heapTotal, external, arrayBuffers, spaces }))`;
  // It waits to be killed once its figures are read.
  const child = spawn(process.execPath, [...args, '-e', `setTimeout(() => { ${print}; setInterval(() => {}, 1000) }, ${SETTLE_MS})`], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    const line = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('\n')) resolve(out);
      });
      child.once('exit', (code) => reject(new Error(`Node alone exited (code ${code}) before it reported its memory`)));
    });
    const maps = residentByMapping(child.pid!);
    return { ...(JSON.parse(line) as NodeAlone), ...(maps ? { maps: Object.fromEntries(maps) } : {}) };
  } finally {
    child.kill();
  }
}

const packageOf = (specifier: string) =>
  specifier
    .split('/')
    .slice(0, specifier.startsWith('@') ? 2 : 1)
    .join('/');

/**
 * The parts the host loads to sit idle, in the order they come: from esbuild's record of the
 * bundle's imports (so a new dependency shows up by itself), plus Node's fetch (loaded when the
 * runtime client first uses it) and the uWS addon (loaded with require, which the record does
 * not see). Packages imported only with import() are left out and named: they load on first use.
 */
function hostParts(): { steps: LadderStep[]; onUse: string[] } {
  const { metafile } = buildSync({ ...HOST_BUILD_OPTIONS, entryPoints: [HOST_ENTRY], outfile: join(tmpdir(), 'owr-bench-host-parts.mjs'), write: false, metafile: true });
  const imports = Object.values(metafile.outputs).flatMap((o) => o.imports.filter((i) => i.external));
  const atStart = imports.filter((i) => i.kind === 'import-statement').map((i) => i.path);
  const builtins = [...new Set(atStart.filter((p) => p.startsWith('node:')))];
  const packages = new Map<string, Set<string>>();
  for (const p of atStart.filter((x) => !x.startsWith('node:'))) packages.set(packageOf(p), (packages.get(packageOf(p)) ?? new Set()).add(p));
  const onUse = [...new Set(imports.filter((i) => i.kind === 'dynamic-import').map((i) => packageOf(i.path)))].filter((p) => !packages.has(p));
  return {
    steps: [
      { label: `Node's own modules the host imports (${builtins.length}: ${builtins.map((b) => b.slice(5)).join(', ')})`, load: 'import', specifiers: builtins },
      { label: "Node's fetch (undici, with its WebAssembly HTTP parser): the runtime client (@opencode-ai/sdk) is built on it", load: 'fetch' },
      ...[...packages].map(([name, specifiers]): LadderStep => ({ label: name, load: 'import', specifiers: [...specifiers] })),
      { label: 'uWebSockets.js (native addon)', load: 'uws' },
    ],
    onUse,
  };
}

/** Loads the parts into a fresh Node one after another (bench/host/ladder.ts) and returns what each left in memory. */
function ladder(steps: LadderStep[]): LadderRung[] {
  buildHostBundle(LADDER_SOURCE, LADDER_BUNDLE);
  const r = spawnSync(process.execPath, ['--expose-gc', LADDER_BUNDLE, JSON.stringify(steps)], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`the memory ladder failed: ${r.stderr.trim()}`);
  return JSON.parse(r.stdout) as LadderRung[];
}
/** The discard port: nothing listens there, so the host only watches for a runtime. */
const NO_RUNTIME = 'http://127.0.0.1:9';
const SETTLE_MS = 2000;
/**
 * When the host counts as idle: V8 gives back the heap that start-up grew (its memory reducer)
 * once allocation has been quiet for a while, about 8 s after start here; a host sits idle for hours.
 */
const IDLE_AFTER_MS = 12_000;

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
    const justStarted = await live.call({ cmd: 'stats' });
    ctx.progress('host: waiting for it to sit idle');
    await new Promise((r) => setTimeout(r, IDLE_AFTER_MS - SETTLE_MS));
    const idle = await live.call({ cmd: 'stats' });
    const idleMaps = residentByMapping(live.pid);
    // After `idle`: taking the snapshot grows the heap for a while.
    const memory = await live.call({ cmd: 'memory' });

    ctx.progress(`host: connecting ${ctx.devices.length} devices`);
    const clients: BenchClient[] = await inPool(ctx.devices, 16, (d) => connectDevice(live.url, data.hostKey, d));
    ctx.defer(() => clients.forEach((c) => void c.close()));
    await new Promise((r) => setTimeout(r, SETTLE_MS));
    const loaded = await live.call({ cmd: 'stats' });

    const baselines: Array<NodeAlone & { label: string }> = [];
    for (const [label, args] of BASELINES) baselines.push({ label, ...(await nodeAlone(args)) });
    ctx.progress('host: loading its parts one by one into a fresh Node');
    const parts = hostParts();
    const rungs = ladder(parts.steps);
    const startup = {
      listeningAfterMs: median(starts.map((x) => x.listeningAfterMs)),
      sinceProcessStartMs: median(starts.map((x) => x.sinceProcessStartMs)),
      spawnToReadyMs: median(starts.map((x) => x.spawnToReadyMs)),
    };
    s.data = {
      starts,
      startup,
      justStarted,
      idle,
      idleMaps: idleMaps && Object.fromEntries(idleMaps),
      loaded,
      devices: clients.length,
      baselines,
      memory,
      rungs,
      onUse: parts.onUse,
    };
    const node = baselines[0]!;
    const last = rungs[rungs.length - 1]!;
    /** A row of the ladder: what the part added to RSS, and of it to the JS heap and outside it (external). */
    const added = (label: string, from: { rss: number; heapTotal: number; external: number }, to: { rss: number; heapTotal: number; external: number }) => [
      label,
      mb(to.rss - from.rss),
      mb(to.heapTotal - from.heapTotal),
      mb(to.external - from.external),
      mb(to.rss),
    ];
    s.tables.push({
      title: `Where the idle host's ${mb(idle.rss).toFixed(1)} MB of RSS go: each part as it adds to a fresh Node's memory when loaded in this order (bench/host/ladder.ts), the rest measured in the idle host`,
      columns: ['part', 'adds RSS MB', 'of it JS heap', 'of it external', 'RSS MB'],
      rows: [
        ['Node alone (node -e)', mb(node.rss), mb(node.heapTotal), mb(node.external), mb(node.rss)],
        added('+ ES modules (the host is one) and the loading script', node, rungs[0]!),
        ...rungs.slice(1).map((r, i) => added(`+ ${r.label}`, rungs[i]!, r)),
        added('+ the host itself: its code and what it sets up and holds (the app files, keys, devices, timers)', last, memory),
        ...(parts.onUse.length ? [[`not loaded when idle (import() on first use): ${parts.onUse.join(', ')}`, null, null, null, null]] : []),
      ],
    });
    const space = (spaces: MemoryBreakdown['spaces'], name: string) => spaces.find((x) => x.name === name);
    const spaceRows = memory.spaces
      .filter((x) => x.size > 0 || (space(node.spaces, x.name)?.size ?? 0) > 0)
      .map((x) => {
        const alone = space(node.spaces, x.name);
        return [
          `  ${x.name.replace(/_/g, ' ')} (used ${mb(x.used).toFixed(1)} MB in the host, ${mb(alone?.used ?? 0).toFixed(1)} alone)`,
          mb(x.size),
          mb(alone?.size ?? 0),
          mb(x.size - (alone?.size ?? 0)),
        ];
      });
    const rest = (m: { rss: number; heapTotal: number; external: number }) => m.rss - m.heapTotal - m.external;
    s.tables.push({
      title: 'Inside the idle host and Node alone (process.memoryUsage(), v8.getHeapSpaceStatistics())',
      columns: ['part', 'host MB', 'Node alone MB', 'above Node MB'],
      rows: [
        ['JS heap reserved (heapTotal)', mb(memory.heapTotal), mb(node.heapTotal), mb(memory.heapTotal - node.heapTotal)],
        ...spaceRows,
        ['outside the JS heap, held by JS objects (external)', mb(memory.external), mb(node.external), mb(memory.external - node.external)],
        ['  of it ArrayBuffers and Buffers (the app files served from memory)', mb(memory.arrayBuffers), mb(node.arrayBuffers), mb(memory.arrayBuffers - node.arrayBuffers)],
        [
          "the rest: Node's binary and libraries, native addons, compiled WebAssembly (fetch's HTTP parser), malloc's free memory",
          mb(rest(memory)),
          mb(rest(node)),
          mb(rest(memory) - rest(node)),
        ],
        ['RSS', mb(memory.rss), mb(node.rss), mb(memory.rss - node.rss)],
      ],
    });
    if (idleMaps && node.maps) {
      const alone = node.maps;
      s.tables.push({
        title:
          "Resident memory of the idle host and of Node alone by mapping (/proc/<pid>/smaps): the node binary's pages come in as its code, built-in modules and ICU data are used",
        columns: ['mapping', 'host MB', 'Node alone MB', 'above Node MB'],
        rows: [...new Set([...idleMaps.keys(), ...Object.keys(alone)])]
          .map((kind): [string, number, number] => [kind, idleMaps.get(kind as never) ?? 0, alone[kind] ?? 0])
          .sort((a, b) => b[1] - a[1])
          .map(([kind, host, nodeOnly]) => [kind, mb(host), mb(nodeOnly), mb(host - nodeOnly)]),
      });
    }
    s.tables.push({
      title: "Code V8 holds in the idle host, by module (heap snapshot: functions, their bytecode, and each script's source, kept for lazy compilation)",
      columns: ['module', 'MB', 'functions'],
      rows: memory.code.filter((c) => c.bytes >= 10_000).map((c) => [c.name, mb(c.bytes), c.count]),
    });
    s.tables.push({
      title: `The idle host's live JS objects (${mb(memory.heapUsed).toFixed(1)} MB), by constructor or kind (heap snapshot)`,
      columns: ['constructor or kind', 'MB', 'objects'],
      rows: memory.heap.map((h) => [h.name, mb(h.bytes), h.count]),
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
        [`host, ${SETTLE_MS / 1000} s after start`, mb(justStarted.rss), mb(justStarted.heapUsed), justStarted.connections],
        [`host, idle (${IDLE_AFTER_MS / 1000} s after start)`, mb(idle.rss), mb(idle.heapUsed), idle.connections],
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
