/**
 * `npm test`: every unit and end-to-end test in one node:test run, ending with a pass/fail count.
 * Order: system tools, format and lint check, type check, layer rules, app build, then the tests
 * (unit files first: they fail fast).
 */
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join, relative } from 'node:path';
import { buildAppIfStale, root } from './build-app.mjs';
import { buildHostIfStale } from './build-host.mjs';
import { ensureSystemDeps } from './system-deps.mjs';
import { typecheck } from './typecheck.mjs';

/** `npm run deps` (package.json) without npx, so the test run does not depend on a shell. */
const DEP_CRUISE_ARGS = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'))
  .scripts.deps.split(' ')
  .slice(1);

const SKIP = new Set(['node_modules', 'dist', '.git', 'test-results', '.tmp']);

function findTests(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    if (SKIP.has(name)) continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...findTests(path));
    else if (name.endsWith('.test.ts')) out.push(relative(root, path));
  }
  return out;
}

ensureSystemDeps();

process.stderr.write('Checking format and lint (Biome)…\n');
const biome = spawnSync(process.execPath, [join(root, 'node_modules', '@biomejs', 'biome', 'bin', 'biome'), 'ci', '.'], { cwd: root, stdio: 'inherit' });
if (biome.status !== 0) {
  process.stderr.write(
    'Format or lint errors (above): `npm run format` rewrites the files; the lint findings need fixing by hand (`npm run lint` lists them again).\n0 passed, 1 failed\n',
  );
  process.exit(1);
}

process.stderr.write('Type-checking…\n');
const typeErrors = await typecheck();
if (typeErrors.length) {
  process.stderr.write(`Type errors (above) in ${typeErrors.join(', ')}: fix them first.\n0 passed, 1 failed\n`);
  process.exit(1);
}

process.stderr.write('Checking the layer rules (npm run deps)…\n');
const deps = spawnSync(process.execPath, [join(root, 'node_modules', 'dependency-cruiser', 'bin', 'dependency-cruise.mjs'), ...DEP_CRUISE_ARGS], { cwd: root, stdio: 'inherit' });
if (deps.status !== 0) {
  process.stderr.write('Layer rules broken (above; the rules and why are in .dependency-cruiser.cjs and docs/architecture.md): fix the imports first.\n0 passed, 1 failed\n');
  process.exit(1);
}

buildAppIfStale({ quiet: true });
buildHostIfStale();

const only = process.argv.slice(2);
const all = findTests(root).sort();
const files = only.length ? all.filter((f) => only.some((o) => f.includes(o))) : [...all.filter((f) => !f.startsWith('e2e/')), ...all.filter((f) => f.startsWith('e2e/'))];

/**
 * Two files at a time even on two cores: an end-to-end file spends most of its time waiting on the
 * runtime, the browser and the network, and one at a time left the suite close to its 15-minute
 * budget. Each file has its own host, runtime data and ports, so files never share state.
 */
const concurrency = Math.max(2, Math.min(4, availableParallelism()));
const child = spawn(process.execPath, ['--import', 'tsx', '--test', `--test-concurrency=${concurrency}`, '--test-reporter=spec', ...files], {
  cwd: root,
  stdio: ['ignore', 'pipe', 'inherit'],
  env: { ...process.env, FORCE_COLOR: process.env.CI ? '0' : process.env.FORCE_COLOR },
});
let tail = '';
child.stdout.on('data', (chunk) => {
  process.stdout.write(chunk);
  tail = (tail + chunk.toString()).slice(-65536); // the counts come before the list of failures
});
child.on('exit', (code, signal) => {
  const count = (label) => Number(new RegExp(`(?:ℹ|#) ${label} (\\d+)`).exec(tail)?.[1] ?? 0);
  const passed = count('pass');
  const failed = count('fail') + (code !== 0 && count('fail') === 0 ? 1 : 0);
  process.stdout.write(`\n${passed} passed, ${failed} failed\n`);
  process.exit(signal ? 1 : (code ?? 1));
});
