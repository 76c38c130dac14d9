/**
 * Error codes that cross the wire (in a `result` or a WebSocket close reason). Both sides use
 * these; the PWA maps each to an explanation and docs/troubleshooting.md has an entry for each.
 * @module
 */
export const ERROR_CODES = {
  'protocol.invalid': 'The message was malformed or not allowed in this state.',
  'protocol.version': 'The app and the host speak different protocol versions.',
  'frame.auth': 'A frame failed authentication (tampered, replayed, reordered or truncated).',
  'frame.size': 'A frame or message was larger than allowed.',
  'handshake.failed': 'The secure handshake failed.',
  'device.unknown': 'This device is not paired with this host.',
  'device.revoked': 'This device was removed from the host.',
  'device.access-changed': 'The host changed what this device may do; reconnect to continue with the new access.',
  'pair.expired': 'The pairing offer expired.',
  'pair.used': 'The pairing offer was already used.',
  'pair.unknown': 'The pairing offer is not known to this host.',
  'pair.declined': 'The person at the host declined the pairing.',
  'pair.rate-limited': 'Too many pairing attempts.',
  'pair.pending': 'The pairing waits for approval on the host.',
  'runtime.not-ready': 'The coding runtime is not ready.',
  'runtime.error': 'The coding runtime answered with an error.',
  'request.unknown': 'The request names something that does not exist.',
  'permission.expired': 'The permission request is gone: the runtime restarted or withdrew it, so the answer was not delivered.',
  'push.refused': 'The host will not send notifications to that push address (only https push services on public host names).',
  'scope.denied': 'This device is not allowed to do that; the host can change its scopes.',
  'session.busy': 'The session is running; wait for it to finish or stop it first.',
  'file.refused': "The host does not show that file: it is outside the device's workspaces, too large or not text.",
  'attachment.refused': 'The host did not take the attached file: too large, over its storage limit, or not what the device said it was.',
  'attachment.not-image': 'The host returns only pictures sent with a task (png, jpeg, webp or gif); that file is another kind.',
  'attachment.too-large': 'The attached picture is over 10 MB: the host does not send it back.',
  'connection.slow': 'The device did not keep up with what the host sent; reconnect to resume.',
  'host.shutting-down': 'The host is stopping.',
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

/** Why and when a permission request expired (runtime-events.ts has the reasons). */
export type ExpiryFields = {
  reason: 'runtime-restarted' | 'withdrawn';
  at: number;
  /** What happened to the runtime, for a person (e.g. how it exited). */
  detail?: string;
};

/** An error with a wire code; its message is meant for a person, `expiry` for the device to act on. */
export class RelayError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string = ERROR_CODES[code],
    readonly expiry?: ExpiryFields,
  ) {
    super(message);
    this.name = 'RelayError';
  }
}

export function isErrorCode(v: unknown): v is ErrorCode {
  return typeof v === 'string' && Object.hasOwn(ERROR_CODES, v);
}
