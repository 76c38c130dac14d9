/**
 * The data directory holds the host's key, the paired devices and the runtime's password: only
 * this user may list or read it. A new one is made 0700; one that exists already (made by hand,
 * by an older version, by a restore from backup) is tightened to 0700 at start, and the log says so.
 * @module
 */
import { chmodSync, mkdirSync, statSync } from 'node:fs';
import type { Logger } from './log.ts';

export function ensurePrivateDataDir(dir: string, log: Logger): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const mode = statSync(dir).mode & 0o777;
  if (mode === 0o700) return;
  try {
    chmodSync(dir, 0o700);
  } catch (err) {
    throw new Error(
      `the data directory ${dir} is readable by other users (mode ${mode.toString(8)}) and could not be made private: ` +
        `${err instanceof Error ? err.message : String(err)}. Run chmod 700 ${dir} (as its owner), or choose another --data-dir.`,
    );
  }
  log.warn('the data directory was open to other users; made it private (mode 700)', { dir, was: mode.toString(8) });
}
