/**
 * What a session changed and the files it touched, as the relay carries them: `session.diff`
 * answers a `SessionChanges` (the runtime's session diff, one entry per file with its counts and
 * unified diff) and `file.read` a `FileContent` (a text file inside one of the device's
 * workspaces, read by the host).
 * @module
 */
import { bool, defined, int, list, obj, oneOf, optStr, str } from './guard.ts';

export const CHANGE_STATUSES = ['added', 'deleted', 'modified'] as const;
export type ChangeStatus = (typeof CHANGE_STATUSES)[number];

/** The largest unified diff sent for one file; a larger one is left out (`patchOmitted`). */
export const PATCH_MAX = 2 * 1024 * 1024;
/** The largest file `file.read` answers with. */
export const FILE_READ_MAX = 1024 * 1024;
const MAX_FILES = 5000;

export interface FileChange {
  /** As the runtime names it: relative to the session's workspace. */
  path: string;
  status?: ChangeStatus;
  additions: number;
  deletions: number;
  /** Unified diff of the file; absent when the runtime gave none or it was over `PATCH_MAX`. */
  patch?: string;
  /** The diff was too large to send. */
  patchOmitted?: boolean;
}

export interface SessionChanges {
  files: FileChange[];
}

export interface FileContent {
  /** The file's real path on the host (symbolic links resolved). */
  path: string;
  /** Its text (UTF-8). */
  content: string;
  /** Bytes on disk. */
  size: number;
}

function parseFileChange(v: unknown, path: string): FileChange {
  const o = obj(v, path);
  return defined({
    path: str(o, 'path', path, { min: 1, max: 4096 }),
    status: o.status === undefined ? undefined : oneOf(o, 'status', path, CHANGE_STATUSES),
    additions: int(o, 'additions', path, { min: 0 }),
    deletions: int(o, 'deletions', path, { min: 0 }),
    patch: optStr(o, 'patch', path, { max: PATCH_MAX }),
    patchOmitted: o.patchOmitted === undefined ? undefined : bool(o, 'patchOmitted', path),
  });
}

export function parseSessionChanges(v: unknown, path: string): SessionChanges {
  return { files: list(obj(v, path), 'files', path, parseFileChange, MAX_FILES) };
}

export function parseFileContent(v: unknown, path: string): FileContent {
  const o = obj(v, path);
  return {
    path: str(o, 'path', path, { min: 1, max: 4096 }),
    content: str(o, 'content', path, { max: FILE_READ_MAX }),
    size: int(o, 'size', path, { min: 0, max: FILE_READ_MAX }),
  };
}
