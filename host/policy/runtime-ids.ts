/**
 * Ids a device sends that the host puts into a runtime URL (`/session/{id}/…`,
 * `/permission/{id}/reply`). The SDK percent-encodes a path parameter but leaves `.` alone, and
 * the URL parser resolves `/session/../message` to `/message`: an id like `..` would reach a
 * route the protocol does not list. OpenCode's own ids are a prefix, `_` and letters and digits
 * (`ses_…`, `per_…`), so only those characters may pass. Requests are checked when parsed too;
 * this is the last check before the URL, for every caller.
 * @module
 */
import { RelayError } from '../../shared/protocol/errors.ts';
import { isRuntimeId } from '../../shared/protocol/messages.ts';

export { isRuntimeId };

/** Returns `value`, or throws `request.unknown` naming `what` (e.g. "session") when it cannot be an id. */
export function runtimeId(value: string, what: string): string {
  if (!isRuntimeId(value)) {
    throw new RelayError('request.unknown', `${JSON.stringify(value.slice(0, 40))} is not a ${what} id: ids are letters, digits, "_" and "-"`);
  }
  return value;
}
