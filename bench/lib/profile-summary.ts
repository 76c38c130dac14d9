/**
 * Where a process's CPU went, from a V8 CPU profile (the inspector's `Profiler.stop` result, the
 * same format as a `--cpu-prof` file): self time grouped by the source file it ran in (the host
 * is one bundle, mapped back through its source map), by package for dependencies, by Node's own
 * module for its internals, and by name for native code and the collector. Idle time is left out:
 * the shares are of the time the process was busy.
 * @module
 */
import { Session } from 'node:inspector/promises';
import { SourceMap } from 'node:module';
import { fileURLToPath } from 'node:url';
import { fmt, type Table } from './report.ts';

/** The parts of a V8 CPU profile this reads. */
export interface CpuProfile {
  nodes: Array<{ id: number; callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number }; hitCount?: number }>;
  startTime: number;
  endTime: number;
  samples?: number[];
  timeDeltas?: number[];
}

export interface ProfileRow {
  /** A source file (repository-relative), a package, `node:<module>`, or a named native or V8 part. */
  where: string;
  selfMs: number;
  /** Of the busy time, 0–1. */
  share: number;
  /** The functions with the most self time there, biggest first. */
  functions: string[];
}

export interface ProfileSummary {
  /** From the profile's start to its stop. */
  wallMs: number;
  /** Sampled time not idle. */
  busyMs: number;
  rows: ProfileRow[];
}

/** Maps a position in the bundle back to its source file (relative to `root`). */
export interface BundleMap {
  url: string;
  map: SourceMap;
  root: string;
}

export function bundleMap(bundleUrl: string, payload: unknown, root: string): BundleMap {
  return { url: bundleUrl, map: new SourceMap(payload as ConstructorParameters<typeof SourceMap>[0]), root };
}

function whereOf(frame: CpuProfile['nodes'][number]['callFrame'], bundle: BundleMap | undefined, root: string): string {
  const { url, functionName } = frame;
  if (!url) return functionName.startsWith('(') ? functionName : `(native) ${functionName || 'anonymous'}`;
  if (url.startsWith('node:')) return url.replace(/^node:internal\//, 'node:');
  if (bundle && url === bundle.url) {
    const entry = bundle.map.findEntry(frame.lineNumber, frame.columnNumber) as { originalSource?: string };
    // Sources are written relative to the map, which sits beside the bundle.
    if (entry.originalSource) return relativeSource(fileURLToPath(new URL(entry.originalSource, bundle.url)), bundle.root);
  }
  const pkg = /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url);
  if (pkg) return pkg[1]!;
  return relativeSource(url, root);
}

function relativeSource(source: string, root: string): string {
  const path = source.replace(/^file:\/\//, '');
  const pkg = /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(path);
  if (pkg) return pkg[1]!;
  return root && path.startsWith(root) ? path.slice(root.length).replace(/^\//, '') : path;
}

/** Self time per place, biggest first; `top` rows, the rest summed into one. Files are named relative to `root` (default: the bundle's). */
export function summarizeProfile(profile: CpuProfile, opts: { bundle?: BundleMap; root?: string; top?: number } = {}): ProfileSummary {
  const root = opts.root ?? opts.bundle?.root ?? '';
  const selfUs = new Map<number, number>();
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  // A sample's time is the gap to the next sample (V8's own attribution in DevTools).
  for (let i = 0; i < samples.length; i++) {
    const us = deltas[i + 1] ?? 0;
    selfUs.set(samples[i]!, (selfUs.get(samples[i]!) ?? 0) + us);
  }
  const places = new Map<string, { us: number; fns: Map<string, number> }>();
  let busyUs = 0;
  for (const node of profile.nodes) {
    const us = selfUs.get(node.id) ?? 0;
    if (us === 0 || node.callFrame.functionName === '(idle)') continue;
    busyUs += us;
    const where = whereOf(node.callFrame, opts.bundle, root);
    const place = places.get(where) ?? { us: 0, fns: new Map() };
    place.us += us;
    const fn = node.callFrame.functionName || '(anonymous)';
    place.fns.set(fn, (place.fns.get(fn) ?? 0) + us);
    places.set(where, place);
  }
  const sorted = [...places].sort((a, b) => b[1].us - a[1].us);
  const top = opts.top ?? 12;
  const row = (where: string, us: number, fns: Map<string, number>): ProfileRow => ({
    where,
    selfMs: us / 1000,
    share: busyUs ? us / busyUs : 0,
    functions: [...fns]
      .sort((a, b) => b[1] - a[1])
      .slice(0, 3)
      .map(([name]) => name),
  });
  const rows = sorted.slice(0, top).map(([where, p]) => row(where, p.us, p.fns));
  const rest = sorted.slice(top);
  if (rest.length)
    rows.push(
      row(
        `${rest.length} other places`,
        rest.reduce((sum, [, p]) => sum + p.us, 0),
        new Map(),
      ),
    );
  return { wallMs: (profile.endTime - profile.startTime) / 1000, busyMs: busyUs / 1000, rows };
}

/**
 * Starts the inspector's CPU profiler in this process; the function it returns stops it and gives
 * the profile. Sampling every 250 µs rather than the default 1 ms: a delta's way through the host
 * takes well under a millisecond.
 */
export async function startProfiler(intervalUs = 250): Promise<() => Promise<CpuProfile>> {
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: intervalUs });
  await session.post('Profiler.start');
  return async () => {
    try {
      const { profile } = (await session.post('Profiler.stop')) as { profile: CpuProfile };
      return profile;
    } finally {
      session.disconnect();
    }
  };
}

/** The summary as a bench table. */
export function profileTable(title: string, summary: ProfileSummary): Table {
  return {
    title: `${title}: busy ${fmt(summary.busyMs, 0)} of ${fmt(summary.wallMs, 0)} ms (CPU profile, self time)`,
    columns: ['where', 'self ms', 'share of busy', 'top functions there'],
    rows: summary.rows.map((r) => [r.where, r.selfMs, `${Math.round(100 * r.share)} %`, r.functions.join(', ')]),
  };
}

/** The biggest places in a sentence, e.g. "a.ts 40 %, uws 20 %, …". */
export function topPlaces(summary: ProfileSummary, count = 4): string {
  return summary.rows
    .filter((r) => !/ other places$/.test(r.where))
    .slice(0, count)
    .map((r) => `${r.where} ${Math.round(100 * r.share)} %${r.functions.length ? ` (${r.functions.slice(0, 2).join(', ')})` : ''}`)
    .join(', ');
}
