/**
 * How a channel fails, in a module without the crypto, so the app can tell the errors apart by
 * class (`instanceof`) on screens that must not load the channel itself.
 * @module
 */
import { ERROR_CODES, type ErrorCode } from '../protocol/errors.ts';
import { ProtocolError } from '../protocol/guard.ts';
import { parseResult, type RequestType, type ResultOf } from '../protocol/requests.ts';
import type { PermissionExpiry } from '../protocol/runtime-events.ts';

/** The connection closed, or never got going; `code` names why when the host said so. */
export class RelayClosedError extends Error {
  constructor(
    readonly code: ErrorCode | undefined,
    readonly closeCode: number,
    readonly reason: string,
  ) {
    super(reason || (code ? ERROR_CODES[code] : `the connection closed (code ${closeCode})`));
    this.name = 'RelayClosedError';
  }
}

/** The host answered a request with an error. */
export class RequestError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    /** With `permission.expired`: why and when. */
    readonly expiry?: PermissionExpiry,
  ) {
    super(message);
    this.name = 'RequestError';
  }
}

/** The host answered with a result this side cannot read (a newer or broken host); `detail` names the field. */
export class UnreadableAnswer extends RequestError {
  constructor(readonly detail: string) {
    super('protocol.invalid', `the host's answer could not be read: ${detail}`);
    this.name = 'UnreadableAnswer';
  }
}

/** Reads the answer to a request of type `t` with its parser (shared/protocol/requests.ts); throws UnreadableAnswer. */
export function readResult<T extends RequestType>(t: T, data: unknown): ResultOf<T> {
  try {
    return parseResult(t, data);
  } catch (err) {
    if (err instanceof ProtocolError) throw new UnreadableAnswer(err.message);
    throw err;
  }
}
