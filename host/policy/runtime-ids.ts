/**
 * Ids a device sends that the host puts into a runtime URL (`/session/{id}/…`,
 * `/permission/{id}/reply`). The SDK percent-encodes a path parameter but leaves `.` alone, and
 * the URL parser resolves `/session/../message` to `/message`: an id like `..` would reach a
 * route the protocol does not list. OpenCode's own ids are a prefix, `_` and letters and digits
 * (`ses_…`, `per_…`), so only those characters may pass.
 * @module
 */
import { RelayError } from '../../shared/protocol/errors.ts';

const RUNTIME_ID = /^[A-Za-z0-9_-]{1,128}$/;

export function isRuntimeId(value: string): boolean {
  return RUNTIME_ID.test(value);
}

/** Returns `value`, or throws `request.unknown` naming `what` (e.g. "session") when it cannot be an id. */
export function runtimeId(value: string, what: string): string {
  if (!isRuntimeId(value)) {
    throw new RelayError('request.unknown', `${JSON.stringify(value.slice(0, 40))} is not a ${what} id: ids are letters, digits, "_" and "-"`);
  }
  return value;
}
