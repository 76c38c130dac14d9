/**
 * A private copy of the built phone app for the browser measurements, so nothing that serves or
 * rebuilds dist/ meanwhile disturbs them. When dist/ is missing or stale the app is built into
 * the copy instead (vite, as scripts/build-app.mjs does); a failing build (the app is being
 * worked on) fails only the measurements that need it.
 * @module
 */
import { spawnSync } from 'node:child_process';
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DIST, ROOT } from '../../e2e/browser.ts';
import type { BenchContext } from './context.ts';

export interface AppBuild {
  dir: string;
  /** How the copy was made, for the notes. */
  source: string;
  dispose(): Promise<void>;
}

export async function privateBuild(): Promise<AppBuild> {
  const dir = await mkdtemp(join(tmpdir(), 'relay-bench-app-'));
  const dispose = () => rm(dir, { recursive: true, force: true });
  // A non-literal specifier: TypeScript cannot type the .mjs file; the cast says what it exports.
  const specifier: string = new URL('../../scripts/build-app.mjs', import.meta.url).href;
  const { appIsStale } = (await import(specifier)) as { appIsStale(): boolean };
  if (!appIsStale()) {
    await cp(DIST, dir, { recursive: true });
    return { dir, source: 'dist/ (up to date)', dispose };
  }
  const build = spawnSync(process.execPath, [join(ROOT, 'node_modules', 'vite', 'bin', 'vite.js'), 'build', '--outDir', dir, '--emptyOutDir', '--logLevel', 'error'], {
    cwd: ROOT,
    encoding: 'utf8',
  });
  if (build.status !== 0) {
    await dispose();
    throw new Error(`the app does not build right now: ${(build.stderr || build.stdout).trim().split('\n').slice(0, 3).join(' ')}`);
  }
  return { dir, source: 'a fresh build (dist/ was missing or older than the sources)', dispose };
}

/**
 * The app for a browser measurement, removed when the run ends; a build that fails makes the
 * measurement "n/a" rather than a failure of the bench.
 */
export async function appForMeasurement(ctx: Pick<BenchContext, 'defer'>): Promise<AppBuild> {
  let app: AppBuild;
  try {
    app = await privateBuild();
  } catch (err) {
    throw new Error(`n/a (app not ready): ${err instanceof Error ? err.message : String(err)}`);
  }
  ctx.defer(app.dispose);
  return app;
}
