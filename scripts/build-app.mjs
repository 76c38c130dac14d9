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
 * Returns true when a build ran; exits the process with vite's status when it fails. Says one
 * line about a build that worked (vite's own ~50 lines would push the host's banner off screen);
 * a failed one shows everything vite said. `quiet`: only vite's warnings and errors.
 */
export function buildAppIfStale({ quiet = false } = {}) {
  if (!appIsStale()) return false;
  const began = Date.now();
  if (!quiet) process.stderr.write('Building the phone app (dist/)… ');
  const r = spawnSync(process.execPath, [join(root, 'node_modules', 'vite', 'bin', 'vite.js'), 'build', '--logLevel', quiet ? 'warn' : 'info'], {
    cwd: root,
    stdio: ['ignore', quiet ? 'ignore' : 'pipe', quiet ? 'inherit' : 'pipe'],
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  if (r.status !== 0) {
    if (!quiet) process.stderr.write(`failed:\n${r.stdout ?? ''}${r.stderr ?? ''}${r.error ? `${r.error.message}\n` : ''}`);
    process.stderr.write('The app build failed (see above). Fix the error, or run `npm run build` to see it again.\n');
    process.exit(r.status ?? 1);
  }
  if (!quiet) process.stderr.write(`done in ${((Date.now() - began) / 1000).toFixed(1)} s.\n`);
  return true;
}
