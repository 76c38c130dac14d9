/**
 * The runtime's waiting permission requests (and, listed the same way, its questions) as the bridge lists them across workspaces, and how
 * the host reads one request in that list. OpenCode 1.18 lists a workspace's requests only when
 * that workspace's instance answers; a request missing from the list is gone only if its
 * workspace answered. One whose workspace did not (a broken `opencode.json`, a timeout) may still
 * be waiting, so nothing may expire, deny or forget it for being missing.
 * @module
 */
import { RelayError } from '../../shared/protocol/errors.ts';
import type { UnavailableWorkspace } from '../../shared/protocol/sessions-list.ts';

/** `P`: a request as the runtime lists it (OpenCode's PermissionRequest). */
export interface PermissionsList<P extends { id: string } = { id: string }> {
  /** The waiting requests of every workspace that answered. */
  requests: P[];
  /** The workspaces that did not answer, with why. */
  unavailable: UnavailableWorkspace[];
  /** Ids of requests last seen in a workspace that did not answer: they may still be waiting. */
  unseen: string[];
}

/** What `list` says of `requestId`: the listed request, `unseen` (it may be waiting), or undefined (gone). */
export function requestIn<P extends { id: string }>(list: PermissionsList<P>, requestId: string): P | 'unseen' | undefined {
  return list.requests.find((p) => p.id === requestId) ?? (list.unseen.includes(requestId) ? 'unseen' : undefined);
}

/** The refusal of an act on an unseen request: not `permission.expired` or `request.unknown`, since it may wait still. */
export function unseenError(requestId: string, list: Pick<PermissionsList, 'unavailable'>, what = 'permission request'): RelayError {
  const why = list.unavailable.map((u) => `${u.workspace}: ${u.reason}`).join('; ');
  return new RelayError(
    'runtime.error',
    `${what} ${requestId} is in a workspace whose runtime is not answering (${why}); nothing was delivered and the request still waits, try again later`,
  );
}
