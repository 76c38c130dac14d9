/**
 * The post-handshake channel: turns application messages into Noise transport messages (§5,
 * §11.4 "Out-of-order transport messages" is deliberately NOT supported) carried one per binary
 * WebSocket message.
 *
 * Frame = ENCRYPT(k, n, empty ad, header || chunk), at most 65535 bytes (§3). The nonce n is
 * implicit: each side counts frames, so a replayed, reordered or dropped frame decrypts under the
 * wrong nonce and fails authentication just like a tampered one. The 1-byte header sits inside
 * the ciphertext so fragmentation is authenticated too:
 *
 *   bit 0   MORE: further fragments of this message follow
 *   bit 1-7 reserved, must be 0
 *
 * Any failure in `open` is fatal: the transport wipes its keys and every later call throws a
 * ChannelError with code "channel.closed". The caller closes the socket with the error's code.
 *
 * @module
 * @see https://noiseprotocol.org/noise.html#message-format Noise §5, §3
 */
import { abytes, concatBytes } from './bytes.ts';
import type { CipherState } from './cipher-state.ts';
import { ChannelError, type ChannelErrorCode } from './errors.ts';
import { MAX_MESSAGE, TAGLEN } from './primitives.ts';

export { ChannelError, type ChannelErrorCode } from './errors.ts';

const EMPTY = new Uint8Array(0);
const HEADER_LEN = 1;
const FLAG_MORE = 0x01;

/** Largest frame on the wire: Noise's message limit. */
export const MAX_FRAME = MAX_MESSAGE;
/** Application bytes carried by one full frame. */
export const MAX_FRAGMENT = MAX_FRAME - TAGLEN - HEADER_LEN;
/** Default cap on one reassembled application message. */
export const DEFAULT_MAX_MESSAGE = 4 * 1024 * 1024;

export interface TransportOptions {
  /** CipherState for frames we send (HandshakeResult.send). */
  send: CipherState;
  /** CipherState for frames we receive (HandshakeResult.recv). */
  recv: CipherState;
  /** Largest application message accepted by `seal` and `open`, in bytes; default 4 MiB. */
  maxMessage?: number;
}

export interface Transport {
  /** Encrypts one application message into one or more frames, to be sent in order. */
  seal(plaintext: Uint8Array): Uint8Array[];
  /**
   * Decrypts the next frame. Returns the message when this frame completes it, null while
   * fragments are still arriving. Throws ChannelError on any failure, after which the transport
   * is closed.
   */
  open(frame: Uint8Array): Uint8Array | null;
  /** Wipes the keys (e.g. when the socket closes); later calls throw "channel.closed". */
  close(): void;
}

export function createTransport(options: TransportOptions): Transport {
  if (typeof options !== 'object' || options === null) throw new TypeError('options: expected an object');
  const { send, recv } = options;
  if (!send?.hasKey?.()) throw new TypeError('send: expected a keyed CipherState from a finished handshake');
  if (!recv?.hasKey?.()) throw new TypeError('recv: expected a keyed CipherState from a finished handshake');
  if (send === recv) throw new TypeError('recv: must be a different CipherState from send');
  const maxMessage = options.maxMessage ?? DEFAULT_MAX_MESSAGE;
  if (!Number.isSafeInteger(maxMessage) || maxMessage < 0) {
    throw new RangeError('maxMessage: expected a non-negative integer number of bytes');
  }

  let closedBy: ChannelError | null = null;
  let pending: Uint8Array[] = [];
  let pendingLength = 0;

  function assertOpen(): void {
    if (closedBy) {
      throw new ChannelError('channel.closed', `channel is closed (${closedBy.code}: ${closedBy.message})`, {
        cause: closedBy,
      });
    }
  }

  function fail(code: ChannelErrorCode, message: string, cause?: unknown): never {
    const error = new ChannelError(code, message, cause === undefined ? undefined : { cause });
    shutDown(error);
    throw error;
  }

  function shutDown(reason: ChannelError): void {
    closedBy = reason;
    pending = [];
    pendingLength = 0;
    send.destroy();
    recv.destroy();
  }

  function seal(plaintext: Uint8Array): Uint8Array[] {
    assertOpen();
    abytes(plaintext, 'plaintext');
    if (plaintext.length > maxMessage) {
      throw new RangeError(`plaintext: ${plaintext.length} bytes exceeds maxMessage (${maxMessage})`);
    }
    const frames: Uint8Array[] = [];
    let offset = 0;
    // do/while: an empty message still needs one frame.
    do {
      const end = Math.min(offset + MAX_FRAGMENT, plaintext.length);
      const more = end < plaintext.length;
      const body = new Uint8Array(HEADER_LEN + end - offset);
      body[0] = more ? FLAG_MORE : 0;
      body.set(plaintext.subarray(offset, end), HEADER_LEN);
      try {
        frames.push(send.encryptWithAd(EMPTY, body));
      } catch (cause) {
        // Only nonce exhaustion can get here; frames already sealed must not be sent alone.
        fail('nonce.exhausted', 'send nonce exhausted; start a new session', cause);
      }
      offset = end;
    } while (offset < plaintext.length);
    return frames;
  }

  function open(frame: Uint8Array): Uint8Array | null {
    assertOpen();
    abytes(frame, 'frame');
    if (frame.length > MAX_FRAME) fail('frame.size', `frame of ${frame.length} bytes; expected at most ${MAX_FRAME}`);
    // Shorter than its tag and header: a truncated frame, which cannot authenticate.
    if (frame.length < TAGLEN + HEADER_LEN) fail('frame.auth', `frame of ${frame.length} bytes is truncated; a frame has at least ${TAGLEN + HEADER_LEN}`);
    let body: Uint8Array;
    try {
      body = recv.decryptWithAd(EMPTY, frame);
    } catch (cause) {
      fail('frame.auth', 'frame failed authentication (tampered, replayed, reordered, dropped or truncated)', cause);
    }
    const header = body[0]!;
    if ((header & ~FLAG_MORE) !== 0) fail('frame.format', `frame header has reserved bits set (0x${header.toString(16)})`);
    const chunk = body.subarray(HEADER_LEN);
    // Checked per fragment, so a peer cannot make us buffer more than maxMessage.
    if (pendingLength + chunk.length > maxMessage) {
      fail('message.size', `incoming message exceeds maxMessage (${maxMessage} bytes)`);
    }
    pending.push(chunk);
    pendingLength += chunk.length;
    if (header & FLAG_MORE) return null;
    const message = pending.length === 1 ? pending[0]! : concatBytes(...pending);
    pending = [];
    pendingLength = 0;
    return message;
  }

  function close(): void {
    if (!closedBy) shutDown(new ChannelError('channel.closed', 'transport closed by its owner'));
  }

  return { seal, open, close };
}
