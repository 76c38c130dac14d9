/**
 * The one error type the Noise channel throws for protocol failures. The `code` is stable and
 * machine-readable (callers close the socket with it); the message is for people.
 *
 * Bad arguments from the calling code are not protocol failures and stay `TypeError`/`RangeError`.
 * @module
 */

export type ChannelErrorCode =
  /** A handshake message failed authentication: wrong psk, wrong static key, or tampering. */
  | 'handshake.auth'
  /** A handshake message has the wrong length for its pattern or carries an invalid public key. */
  | 'handshake.format'
  /** A transport frame failed authentication: tampered, replayed, reordered, dropped or truncated. */
  | 'frame.auth'
  /** A transport frame is shorter than a tag plus header or longer than 65535 bytes. */
  | 'frame.size'
  /** A transport frame authenticated but its fragment header is invalid. */
  | 'frame.format'
  /** A reassembled message would exceed the receiver's maximum. */
  | 'message.size'
  /** A cipher state reached nonce 2^64-1 (Noise §5.1); the session must end. */
  | 'nonce.exhausted'
  /** The channel already failed or was closed; see `cause` for the original error. */
  | 'channel.closed';

export class ChannelError extends Error {
  override readonly name = 'ChannelError';
  readonly code: ChannelErrorCode;

  constructor(code: ChannelErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
  }
}
