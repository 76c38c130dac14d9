/**
 * Tools the tests need from the operating system: Chromium (the phone side runs in a real
 * browser), ripgrep (OpenCode's grep/glob tools call `rg` and would otherwise try to download
 * it) and NSS's certutil (to trust a test CA in a Chromium profile). Installed with apt when missing and we are root; otherwise a clear message.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

export const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

function onPath(cmd) {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

export function ensureSystemDeps() {
  const missing = [];
  if (!existsSync(CHROMIUM)) missing.push('chromium');
  if (!onPath('rg')) missing.push('ripgrep');
  // certutil lets the HTTPS browser test trust only the host's CA, as a phone would.
  if (!onPath('certutil')) missing.push('libnss3-tools');
  if (missing.length === 0) return;
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  if (!isRoot || !onPath('apt-get')) {
    process.stderr.write(
      `The tests need ${missing.join(' and ')}, which ${missing.length > 1 ? 'are' : 'is'} not installed.\n` +
        `Install ${missing.length > 1 ? 'them' : 'it'} and run npm test again, for example:\n` +
        `  sudo apt-get install -y ${missing.join(' ')}        (Debian/Ubuntu)\n` +
        `  brew install ${missing.map((m) => (m === 'chromium' ? '--cask chromium' : m)).join(' ')}   (macOS)\n` +
        `A Chromium elsewhere can be named with CHROMIUM_PATH=/path/to/chromium.\n`,
    );
    process.exit(1);
  }
  process.stderr.write(`Installing ${missing.join(', ')} with apt-get…\n`);
  const run = (args) => spawnSync('apt-get', args, { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  run(['update']);
  const r = run(['install', '-y', '--no-install-recommends', ...missing]);
  if (r.status !== 0) {
    process.stderr.write(`apt-get install ${missing.join(' ')} failed (exit ${r.status}); install it by hand and run npm test again.\n`);
    process.exit(1);
  }
}
