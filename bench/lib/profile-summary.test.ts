import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { buildSync } from 'esbuild';
import { bundleMap, startProfiler, summarizeProfile, topPlaces, type CpuProfile } from './profile-summary.ts';

/** A real profile of `work`, taken as the bench takes its own and its host's. */
async function profileOf(work: () => void): Promise<CpuProfile> {
  const stop = await startProfiler(100);
  work();
  return stop();
}

function spinHere(ms: number): number {
  const end = performance.now() + ms;
  let x = 0;
  while (performance.now() < end) x += Math.sqrt(x + 1);
  return x;
}

test('self time lands on the file and function that spent it, with idle left out', async () => {
  const profile = await profileOf(() => spinHere(80));
  const summary = summarizeProfile(profile);
  const here = summary.rows.find((r) => r.where.endsWith('bench/lib/profile-summary.test.ts'));
  assert.ok(here, `this file is a place: ${summary.rows.map((r) => r.where).join(', ')}`);
  assert.ok(here.functions.includes('spinHere'), `its functions: ${here.functions.join(', ')}`);
  assert.ok(here.selfMs > 0);
  assert.ok(summary.busyMs <= summary.wallMs + 1, 'busy time fits in the profile');
  const shares = summary.rows.reduce((sum, r) => sum + r.share, 0);
  assert.ok(Math.abs(shares - 1) < 1e-9, `the shares cover the busy time: ${shares}`);
});

test('a bundle is mapped back to its source files through its source map', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'owr-profile-'));
  try {
    writeFileSync(
      join(dir, 'hot.ts'),
      'export function hotPath(ms: number): number { const end = performance.now() + ms; let x = 0; while (performance.now() < end) x += Math.sqrt(x + 1); return x; }\n',
    );
    writeFileSync(join(dir, 'entry.ts'), "import { hotPath } from './hot.ts';\nexport const run = (ms: number) => hotPath(ms);\n");
    const out = join(dir, 'out', 'bundle.mjs');
    buildSync({ entryPoints: [join(dir, 'entry.ts')], outfile: out, bundle: true, format: 'esm', platform: 'node', sourcemap: 'linked', logLevel: 'silent' });
    const url = pathToFileURL(out).href;
    const { run } = (await import(url)) as { run: (ms: number) => number };
    const profile = await profileOf(() => run(80));
    const map = bundleMap(url, JSON.parse(readFileSync(`${out}.map`, 'utf8')), `${dir}/`);
    const rows = summarizeProfile(profile, { bundle: map }).rows;
    const hot = rows.find((r) => r.where === 'hot.ts');
    assert.ok(hot, `the bundle's time is under its source file: ${rows.map((r) => r.where).join(', ')}`);
    assert.ok(hot.functions.includes('hotPath'));
    assert.ok(!rows.some((r) => r.where.endsWith('bundle.mjs')), 'nothing is left under the bundle itself');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('places beyond the top are summed into one row', () => {
  const frame = (id: number, url: string) => ({ id, callFrame: { functionName: `f${id}`, url, lineNumber: 0, columnNumber: 0 } });
  const profile: CpuProfile = {
    nodes: [
      frame(1, 'file:///x/a.js'),
      frame(2, 'file:///x/node_modules/pkg/b.js'),
      frame(3, 'node:internal/streams/writable'),
      { id: 4, callFrame: { functionName: '(idle)', url: '', lineNumber: -1, columnNumber: -1 } },
    ],
    startTime: 0,
    endTime: 10_000,
    samples: [1, 1, 2, 3, 4, 4],
    timeDeltas: [0, 1000, 1000, 1000, 1000, 5000],
  };
  const summary = summarizeProfile(profile, { top: 1 });
  // A sample's time is the gap to the next one: a.js has two samples, the others one each.
  assert.equal(summary.busyMs, 4, 'idle (the two last samples) is not busy');
  assert.deepEqual(
    summary.rows.map((r) => [r.where, r.selfMs]),
    [
      ['/x/a.js', 2],
      ['2 other places', 2],
    ],
  );
  const all = summarizeProfile(profile).rows.map((r) => r.where);
  assert.deepEqual(all, ['/x/a.js', 'pkg', 'node:streams/writable'], 'a package by its name, Node internals by their module');
  assert.equal(topPlaces(summary), '/x/a.js 50 % (f1)', 'the sentence names places, not the sum of the rest');
});
