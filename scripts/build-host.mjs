/**
 * Bundles the host (TypeScript in host/ and shared/) into build/host.mjs when it is missing or
 * older than its sources. Running the bundle with plain Node starts faster and uses less memory
 * than compiling every module at start-up; dependencies stay in node_modules. Also bundles the admin
 * page's script (host/admin/page/admin.ts) for the browser into build/admin.js, which
 * host/admin/routes.ts serves.
 */
import { existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { newestMtime, root } from './build-app.mjs';

const require = createRequire(import.meta.url);
/**
 * esbuild, loaded only when something is built: `npm start` runs the host in this process, which
 * should not carry esbuild (3.5 MB) when the bundle is fresh.
 * @returns {typeof import('esbuild')}
 */
const esbuild = () => require('esbuild');

export const HOST_BUNDLE = join(root, 'build', 'host.mjs');
const ADMIN_SCRIPT = join(root, 'build', 'admin.js');
const SOURCES = ['host', 'shared', 'scripts/build-host.mjs', 'package.json'];

/** How the host is bundled, for `npm start` and for the benchmarks' host alike. */
export const HOST_BUILD_OPTIONS = {
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  packages: 'external',
  // The host does Noise with node:crypto: noble's curve and cipher are never called there, and
  // its hashes have node:crypto stand-ins.
  alias: {
    '@noble/curves/ed25519.js': join(root, 'host', 'crypto', 'noble-left-out.ts'),
    '@noble/ciphers/chacha.js': join(root, 'host', 'crypto', 'noble-left-out.ts'),
    ...Object.fromEntries(['sha2', 'hmac', 'hkdf', 'utils'].map((m) => [`@noble/hashes/${m}.js`, join(root, 'host', 'crypto', 'noble-hashes-native.ts')])),
  },
  sourcemap: 'linked',
  logLevel: 'warning',
};

/**
 * Bundles `entry` into `outfile` (and its source map) with HOST_BUILD_OPTIONS. esbuild escapes
 * non-ASCII characters in code but copies the comments it keeps as written; a single `§` or `→`
 * there makes V8 hold the bundle's whole source (kept in memory for lazy compilation) as a
 * two-byte string, twice its size, and cost the idle host 1.5 MB. Escaping them leaves every
 * meaning alone (in code they are escaped already) and only shifts columns after them on a comment's line.
 */
export function buildHostBundle(entry, outfile) {
  const { outputFiles } = esbuild().buildSync({ ...HOST_BUILD_OPTIONS, entryPoints: [entry], outfile, write: false });
  mkdirSync(dirname(outfile), { recursive: true });
  for (const file of outputFiles) {
    const ascii = file.path.endsWith('.map') ? file.contents : file.text.replace(/[\u0080-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
    writeFileSync(file.path, ascii);
  }
}

/** Returns true when a build ran. */
export function buildHostIfStale() {
  // The older of the two: either missing (0) rebuilds both.
  const built = Math.min(...[HOST_BUNDLE, ADMIN_SCRIPT].map((file) => (existsSync(file) ? statSync(file).mtimeMs : 0)));
  if (built && !SOURCES.some((s) => newestMtime(join(root, s)) > built)) return false;
  buildHostBundle(join(root, 'host', 'main.ts'), HOST_BUNDLE);
  esbuild().buildSync({
    entryPoints: [join(root, 'host', 'admin', 'page', 'admin.ts')],
    outfile: ADMIN_SCRIPT,
    bundle: true,
    platform: 'browser',
    format: 'esm',
    target: 'es2022',
    logLevel: 'warning',
  });
  // buildSync runs esbuild in a worker thread that stays (about 8 MB); the host runs on in this process.
  esbuild().stop();
  return true;
}
