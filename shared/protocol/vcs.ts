/**
 * A workspace's version-control status as the relay carries it (`workspace.vcs`): the branch it
 * is on and the files changed in its working tree, each with its counts. Read-only: the runtime's
 * own view of the repository (OpenCode's `/vcs` and `/vcs/status`), mapped by the host.
 * @module
 */
import { defined, int, list, obj, oneOf, optInt, optStr, str } from './guard.ts';
import { CHANGE_STATUSES, type ChangeStatus } from './changes.ts';

/** The most changed files sent; the rest are counted in `omitted`. */
export const VCS_FILES_MAX = 2000;

export interface VcsFile {
  /** Relative to the repository's root, as git names it. */
  path: string;
  status: ChangeStatus;
  additions: number;
  deletions: number;
}

export interface VcsStatus {
  /** The directory asked about (the session's, or the workspace). */
  directory: string;
  /** The checked-out branch; absent when the directory is not in a git repository or HEAD is detached. */
  branch?: string;
  /** The repository's default branch, when the runtime knows it. */
  defaultBranch?: string;
  /** Changed files of the working tree (uncommitted), at most `VCS_FILES_MAX`. */
  files: VcsFile[];
  /** Changed files left out beyond `VCS_FILES_MAX`. */
  omitted?: number;
}

function parseVcsFile(v: unknown, path: string): VcsFile {
  const o = obj(v, path);
  return {
    path: str(o, 'path', path, { min: 1, max: 4096 }),
    status: oneOf(o, 'status', path, CHANGE_STATUSES),
    additions: int(o, 'additions', path, { min: 0 }),
    deletions: int(o, 'deletions', path, { min: 0 }),
  };
}

export function parseVcsStatus(v: unknown, path: string): VcsStatus {
  const o = obj(v, path);
  return defined({
    directory: str(o, 'directory', path, { min: 1, max: 4096 }),
    branch: optStr(o, 'branch', path, { min: 1, max: 1000 }),
    defaultBranch: optStr(o, 'defaultBranch', path, { min: 1, max: 1000 }),
    files: list(o, 'files', path, parseVcsFile, VCS_FILES_MAX),
    omitted: optInt(o, 'omitted', path, { min: 1 }),
  });
}
