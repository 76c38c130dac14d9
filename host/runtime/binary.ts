/**
 * Finds the OpenCode executable installed with the `opencode-ai` npm package. The real binary
 * lives in a platform package (`opencode-linux-x64`, …); `opencode-ai/bin/opencode.exe` is only
 * a copy of it when opencode-ai's postinstall ran, so the platform package comes first.
 * @module
 */
import { accessSync, constants, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);

/** Platform package names to try, best first, following opencode-ai's own postinstall. */
export function platformPackages(platform: NodeJS.Platform = process.platform, arch: string = process.arch): string[] {
  const base = `opencode-${platform === 'win32' ? 'windows' : platform}-${arch}`;
  // The default x64 builds need AVX2; the baseline ones run on older CPUs.
  const variants = arch === 'x64' && platform === 'linux' && !hasAvx2() ? [`${base}-baseline`, base] : [base, `${base}-baseline`];
  if (platform !== 'linux') return variants;
  const musl = variants.map((v) => `${v}-musl`);
  return isMusl() ? [...musl, ...variants] : [...variants, ...musl];
}

/**
 * The path of a runnable `opencode` binary.
 * @throws Error naming every place looked at when none is there.
 */
export function resolveOpencodeBinary(): string {
  const exe = process.platform === 'win32' ? 'opencode.exe' : 'opencode';
  const candidates: string[] = [];
  for (const pkg of platformPackages()) {
    const dir = packageDir(pkg);
    if (dir) candidates.push(join(dir, 'bin', exe));
  }
  const cli = packageDir('opencode-ai');
  if (cli) candidates.push(join(cli, '..', '.bin', 'opencode'));
  const found = candidates.find(isExecutable);
  if (found) return found;
  throw new Error(
    `No OpenCode binary found (looked for ${platformPackages().join(', ')} and node_modules/.bin/opencode). ` +
      'Run `npm install` so the opencode-ai package and its platform binary are installed, or pass --opencode-url to use a running OpenCode server.',
  );
}

function packageDir(name: string): string | undefined {
  try {
    return dirname(require.resolve(`${name}/package.json`));
  } catch {
    return undefined;
  }
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function hasAvx2(): boolean {
  try {
    return /(^|\s)avx2(\s|$)/m.test(readFileSync('/proc/cpuinfo', 'utf8'));
  } catch {
    return true;
  }
}

/** Node's report names the glibc it runs on; musl systems have none. */
function isMusl(): boolean {
  const report = process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined;
  return !report?.header?.glibcVersionRuntime;
}
