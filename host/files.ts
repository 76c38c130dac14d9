/**
 * The host's files in its data directory (devices, metrics, the control file, certificates) are
 * read by other processes (`npm start -- devices …`, `pair`, a second host) while the host
 * writes them, so every write replaces the file whole, and a missing file means "nothing yet".
 * @module
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';

export interface AtomicWriteOptions {
  /** The file's mode, set exactly (the umask would mask it at creation). */
  mode: number;
  /** fsync before the rename, so a power loss leaves the old file or the new one, never an empty one (default true). */
  flush?: boolean;
}

/** Writes `text` to a temp file beside `path` and renames it over `path`; the temp file is removed on failure. */
export function writeFileAtomic(path: string, text: string, opts: AtomicWriteOptions): void {
  // Unique per write: two writers (this host and a command) never share a temp file.
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    writeFileSync(tmp, text, { mode: opts.mode, flush: opts.flush ?? true });
    renameSync(tmp, path);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
  // rename keeps the temp file's mode; this also tightens a file someone created by hand.
  chmodSync(path, opts.mode);
}

/** A file's text, or undefined when it does not exist; any other failure is thrown as it is. */
export function readFileIfExists(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}
