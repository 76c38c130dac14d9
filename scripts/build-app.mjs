/**
 * Builds the PWA into dist/ when it is missing or older than its sources, so `npm start` and
 * `npm test` never serve a stale app. Plain JS so it runs before any TypeScript loader.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const SOURCES = ['client', 'public', 'shared', 'docs', 'index.html', 'vite.config.ts', 'package-lock.json'];
const STAMP = join(root, 'dist', 'index.html');

export function newestMtime(path) {
  if (!existsSync(path)) return 0;
  const st = statSync(path);
  if (!st.isDirectory()) return st.mtimeMs;
  let newest = 0;
  for (const name of readdirSync(path)) {
    if (name.endsWith('.test.ts')) continue;
    newest = Math.max(newest, newestMtime(join(path, name)));
  }
  return newest;
}

export function appIsStale() {
  if (!existsSync(STAMP)) return true;
  const built = statSync(STAMP).mtimeMs;
  return SOURCES.some((s) => newestMtime(join(root, s)) > built);
}

/**
 * Runs a build step and says one line about it when it works (a build tool's own output — vite's
 * ~50 lines — would push the host's banner off screen), or everything it said when it fails.
 * Returns the step's exit status.
 */
export function runSummarised(label, command, args, { cwd = root, write = (t) => process.stderr.write(t) } = {}) {
  const began = Date.now();
  write(`${label}… `);
  const r = spawnSync(command, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  const status = r.status ?? 1;
  if (status === 0) write(`done in ${((Date.now() - began) / 1000).toFixed(1)} s.\n`);
  else write(`failed:\n${r.stdout ?? ''}${r.stderr ?? ''}${r.error ? `${r.error.message}\n` : ''}`);
  return status;
}

/**
 * Returns true when a build ran; exits the process with vite's status when it fails.
 * `quiet`: only vite's warnings and errors, no summary line.
 */
export function buildAppIfStale({ quiet = false } = {}) {
  if (!appIsStale()) return false;
  const vite = [join(root, 'node_modules', 'vite', 'bin', 'vite.js'), 'build'];
  const status = quiet
    ? (spawnSync(process.execPath, [...vite, '--logLevel', 'warn'], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] }).status ?? 1)
    : runSummarised('Building the phone app (dist/)', process.execPath, vite);
  if (status !== 0) {
    process.stderr.write('The app build failed (see above). Fix the error, or run `npm run build` to see it again.\n');
    process.exit(status);
  }
  return true;
}
