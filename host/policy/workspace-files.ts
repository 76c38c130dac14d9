/**
 * `file.read`: a text file inside one of the device's workspaces, read by the host itself (the
 * runtime's `/file/content` would read wherever its instance's directory lets it). A path is
 * refused when it names `..`, when it (or, once symbolic links are resolved, its real path) lies
 * outside every workspace the device may use, and when the file is over the size limit, not a
 * regular file or not text; each refusal says which.
 * @module
 */
import { constants } from 'node:fs';
import { open, realpath } from 'node:fs/promises';
import { dirname, isAbsolute, join, sep } from 'node:path';
import { FILE_READ_MAX, type FileContent } from '../../shared/protocol/changes.ts';
import { RelayError } from '../../shared/protocol/errors.ts';

export interface ReadOptions {
  /** The workspaces the device may use (absolute); none: nothing may be read. */
  workspaces: readonly string[];
  /** A relative `path` is taken from here (default: the first workspace); it must be one of `workspaces`. */
  base?: string;
  /** Bytes (default `FILE_READ_MAX`). */
  maxBytes?: number;
}

const refuse = (why: string): never => {
  throw new RelayError('file.refused', why);
};

const inside = (path: string, roots: readonly string[]) => roots.some((root) => path === root || path.startsWith(root.endsWith(sep) ? root : root + sep));

/** Bytes looked at to tell text from binary (as git does: a NUL byte means binary). */
const SNIFF = 8000;

export async function readWorkspaceFile(path: string, opts: ReadOptions): Promise<FileContent> {
  const maxBytes = opts.maxBytes ?? FILE_READ_MAX;
  const base = opts.base ?? opts.workspaces[0];
  if (base === undefined) refuse('this device may use no workspace of this host');
  if (!opts.workspaces.includes(base!)) refuse(`${base} is not one of this device's workspaces`);
  // Both separators: a Windows host reads `a\..\b` as going up too.
  if (path.split(/[\\/]/).includes('..')) refuse(`${path}: paths may not contain ".."; name the file from its workspace`);
  if (path.includes('\0')) refuse('a path may not contain a NUL character');
  const wanted = isAbsolute(path) ? path : join(base!, path);
  if (!inside(wanted, opts.workspaces)) refuse(`${path} is outside this device's workspaces`);

  // A workspace may itself be reached through a link (/tmp on macOS): compare real with real.
  const roots = await Promise.all(opts.workspaces.map((w) => realpath(w).catch(() => w)));
  const leadsOutside = () => refuse(`${path} is a symbolic link (or inside one) that leads outside this device's workspaces`);
  let real: string;
  try {
    real = await realpath(wanted);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    // Whether a file exists outside is not for the device to learn either: where does the part that exists lead?
    let existing = dirname(wanted);
    for (;;) {
      const found = await realpath(existing).catch(() => undefined);
      if (found !== undefined) {
        if (!inside(found, roots)) leadsOutside();
        break;
      }
      existing = dirname(existing);
    }
    throw new RelayError('request.unknown', `${path}: no such file`);
  }
  if (!inside(real, roots)) leadsOutside();

  // O_NOFOLLOW: a link swapped in after the check above is refused, not followed.
  const file = await open(real, constants.O_RDONLY | constants.O_NOFOLLOW).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ELOOP') refuse(`${path} changed into a symbolic link while it was being read`);
    throw err;
  });
  try {
    const stat = await file.stat();
    if (!stat.isFile()) refuse(`${path} is not a regular file`);
    if (stat.size > maxBytes) refuse(`${path} is ${stat.size} bytes; the host shows files up to ${maxBytes} bytes`);
    const bytes = Buffer.alloc(stat.size);
    const { bytesRead } = await file.read(bytes, 0, stat.size, 0);
    const content = bytes.subarray(0, bytesRead);
    if (content.subarray(0, SNIFF).includes(0)) refuse(`${path} is not a text file`);
    return { path: real, content: content.toString('utf8'), size: bytesRead };
  } finally {
    await file.close();
  }
}
