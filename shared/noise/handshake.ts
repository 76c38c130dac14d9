/**
 * HandshakeState (Noise rev 34 §5.3), generic over the pattern's tokens, with the psk rules of
 * §9. Drive it by alternating `writeMessage` and `readMessage` as `status` says; once `status` is
 * "finished", `result()` gives the transport CipherStates oriented for this side, the handshake
 * hash and the peer's static key.
 *
 * @example
 * const hs = new HandshakeState({ protocolName: 'Noise_XX_25519_ChaChaPoly_SHA256', role: 'initiator', s });
 * socket.send(hs.writeMessage());
 *
 * @module
 * @see https://noiseprotocol.org/noise.html#the-handshakestate-object Noise §5.3
 * @see https://noiseprotocol.org/noise.html#pre-shared-symmetric-keys Noise §9
 */
import { abytes, concatBytes, wipe } from './bytes.ts';
import type { CipherState } from './cipher-state.ts';
import { ChannelError } from './errors.ts';
import { parseProtocolName, type HandshakePattern, type Token } from './patterns.ts';
import { DHLEN, MAX_MESSAGE, PSKLEN, TAGLEN, assertKeyPair, dh, generateKeyPair, type KeyPair } from './primitives.ts';
import { SymmetricState } from './symmetric-state.ts';

const EMPTY = new Uint8Array(0);

export type Role = 'initiator' | 'responder';

export interface HandshakeOptions {
  /** Full protocol name, e.g. "Noise_IKpsk2_25519_ChaChaPoly_SHA256"; both sides must use the same. */
  protocolName: string;
  role: Role;
  /** Context both sides must agree on (§6): mixed into the handshake hash, never sent. */
  prologue?: Uint8Array;
  /** Our static key pair; required exactly when the pattern gives this role one. */
  s?: KeyPair;
  /**
   * Our ephemeral key pair. ONLY for reproducing test vectors: a fixed ephemeral destroys
   * forward secrecy. Normal use omits it and a fresh one is generated.
   */
  e?: KeyPair;
  /** The peer's static public key; required exactly when the pattern has it as a pre-message. */
  rs?: Uint8Array;
  /** One 32-byte pre-shared key per "psk" token, in the order the tokens occur. */
  psks?: readonly Uint8Array[];
}

export interface HandshakeResult {
  /** Encrypts what this side sends. */
  readonly send: CipherState;
  /** Decrypts what this side receives. */
  readonly recv: CipherState;
  /** h after the last message: identical on both sides; used for channel binding and the SAS. */
  readonly handshakeHash: Uint8Array;
  /** The peer's static public key, if the pattern has one. */
  readonly remoteStatic: Uint8Array | null;
}

export type HandshakeStatus = 'write' | 'read' | 'finished' | 'failed';

type DhToken = Exclude<Token, 'e' | 's'>;

export class HandshakeState {
  readonly role: Role;
  readonly pattern: HandshakePattern;
  readonly #initiator: boolean;
  readonly #ss: SymmetricState;
  readonly #psks: Uint8Array[];
  #pskIndex = 0;
  #s: KeyPair | null;
  #e: KeyPair | null;
  #rs: Uint8Array | null;
  #re: Uint8Array | null = null;
  /** Index of the next message in `pattern.messages`. */
  #index = 0;
  #result: HandshakeResult | null = null;
  #failed = false;
  #failure: unknown = null;

  /** Initialize() (§5.3). Validates that the supplied keys are exactly those the pattern needs. */
  constructor(options: HandshakeOptions) {
    if (typeof options !== 'object' || options === null) throw new TypeError('options: expected an object');
    const { role } = options;
    if (role !== 'initiator' && role !== 'responder') throw new TypeError('role: expected "initiator" or "responder"');
    const pattern = parseProtocolName(options.protocolName);
    const initiator = role === 'initiator';
    const prologue = options.prologue ?? EMPTY;
    abytes(prologue, 'prologue');

    const ownPre = initiator ? pattern.initiatorPreMessage : pattern.responderPreMessage;
    const remotePre = initiator ? pattern.responderPreMessage : pattern.initiatorPreMessage;
    const sendsStatic = pattern.messages.some((m, i) => isInitiatorMessage(i) === initiator && m.includes('s'));
    const s = expectOption(options.s, 's', ownPre.includes('s') || sendsStatic, pattern.name, role);
    const rs = expectOption(options.rs, 'rs', remotePre.includes('s'), pattern.name, role);
    if (s !== undefined) assertKeyPair(s, 's');
    if (rs !== undefined) abytes(rs, 'rs', DHLEN);
    if (options.e !== undefined) assertKeyPair(options.e, 'e');

    const psks = options.psks ?? [];
    if (!Array.isArray(psks)) throw new TypeError('psks: expected an array of Uint8Array');
    if (psks.length !== pattern.pskCount) {
      throw new RangeError(`psks: pattern ${pattern.name} needs ${pattern.pskCount} psk(s), got ${psks.length}`);
    }
    psks.forEach((psk, i) => void abytes(psk, `psks[${i}]`, PSKLEN));

    this.role = role;
    this.pattern = pattern;
    this.#initiator = initiator;
    // Private copies, so wiping them at the end never touches the caller's arrays.
    this.#s = s === undefined ? null : copyKeyPair(s);
    this.#e = options.e === undefined ? null : copyKeyPair(options.e);
    this.#rs = rs === undefined ? null : rs.slice();
    this.#psks = psks.map((psk) => psk.slice());

    this.#ss = new SymmetricState(options.protocolName);
    this.#ss.mixHash(prologue);
    // §7.1: pre-message keys are hashed initiator's first, then responder's.
    if (pattern.initiatorPreMessage.includes('s')) this.#ss.mixHash(initiator ? required(this.#s, 's').publicKey : required(this.#rs, 'rs'));
    if (pattern.responderPreMessage.includes('s')) this.#ss.mixHash(initiator ? required(this.#rs, 'rs') : required(this.#s, 's').publicKey);
  }

  /** What the caller must do next. */
  get status(): HandshakeStatus {
    if (this.#failed) return 'failed';
    if (this.#result) return 'finished';
    return isInitiatorMessage(this.#index) === this.#initiator ? 'write' : 'read';
  }

  /**
   * The peer's static public key once known (pre-message, or after the message carrying it), so
   * a responder can check it against its allow-list before answering.
   */
  get remoteStatic(): Uint8Array | null {
    return this.#rs?.slice() ?? null;
  }

  /** WriteMessage(payload) (§5.3): returns the message to send. */
  writeMessage(payload: Uint8Array = EMPTY): Uint8Array {
    abytes(payload, 'payload');
    const tokens = this.#expect('write');
    const size = this.#messageSize(tokens, payload.length);
    if (size > MAX_MESSAGE) {
      throw new RangeError(`payload: the handshake message would be ${size} bytes; Noise allows ${MAX_MESSAGE}`);
    }
    const parts: Uint8Array[] = [];
    try {
      for (const token of tokens) {
        if (token === 'e') {
          this.#e ??= generateKeyPair();
          parts.push(this.#e.publicKey.slice());
          this.#mixEphemeral(this.#e.publicKey);
        } else if (token === 's') {
          parts.push(this.#ss.encryptAndHash(required(this.#s, 's').publicKey));
        } else {
          this.#mixToken(token);
        }
      }
      parts.push(this.#ss.encryptAndHash(payload));
      this.#advance();
    } catch (err) {
      this.#abort(err);
      throw err;
    }
    return concatBytes(...parts);
  }

  /**
   * ReadMessage(message) (§5.3): returns the decrypted payload. Any failure throws a
   * ChannelError ('handshake.auth' or 'handshake.format') and ends this handshake for good.
   */
  readMessage(message: Uint8Array): Uint8Array {
    abytes(message, 'message');
    const tokens = this.#expect('read');
    try {
      if (message.length > MAX_MESSAGE) {
        throw new ChannelError('handshake.format', `handshake message is ${message.length} bytes; Noise allows ${MAX_MESSAGE}`);
      }
      let offset = 0;
      const take = (length: number): Uint8Array => {
        if (message.length - offset < length) {
          throw new ChannelError('handshake.format', `handshake message ${this.#index + 1} of ${this.pattern.name} is too short`);
        }
        offset += length;
        return message.slice(offset - length, offset);
      };
      for (const token of tokens) {
        if (token === 'e') {
          this.#re = take(DHLEN);
          this.#mixEphemeral(this.#re);
        } else if (token === 's') {
          // The static key is encrypted once a key exists, adding a tag (§5.3 ReadMessage).
          this.#rs = this.#ss.decryptAndHash(take(this.#ss.hasKey() ? DHLEN + TAGLEN : DHLEN));
        } else {
          this.#mixToken(token);
        }
      }
      const payload = this.#ss.decryptAndHash(message.subarray(offset));
      this.#advance();
      return payload;
    } catch (err) {
      // Apart from ChannelErrors raised above, the only failure left is a CipherState
      // authentication failure in DecryptAndHash.
      const failure =
        err instanceof ChannelError
          ? err
          : new ChannelError('handshake.auth', 'handshake message failed authentication (wrong pre-shared key or static key, or tampered)', { cause: err });
      this.#abort(failure);
      throw failure;
    }
  }

  /** The outcome; throws unless `status` is "finished". */
  result(): HandshakeResult {
    if (!this.#result) throw new Error(`HandshakeState: result() needs a finished handshake; status is "${this.status}"`);
    return this.#result;
  }

  #expect(action: 'write' | 'read'): readonly Token[] {
    const status = this.status;
    if (status === 'failed') {
      throw new ChannelError('channel.closed', 'handshake already failed; start a new one', { cause: this.#failure });
    }
    if (status !== action) {
      throw new Error(`HandshakeState: ${action}Message() called but the ${this.role} must ${status === 'finished' ? 'use result()' : `${status} next`}`);
    }
    return this.pattern.messages[this.#index]!;
  }

  // Exact size of the message being written, so an oversized payload is refused before any
  // state changes (the handshake stays usable).
  #messageSize(tokens: readonly Token[], payloadLength: number): number {
    let keyed = this.#ss.hasKey();
    let size = 0;
    for (const token of tokens) {
      if (token === 'e') {
        size += DHLEN;
        if (this.pattern.pskCount > 0) keyed = true;
      } else if (token === 's') {
        size += DHLEN + (keyed ? TAGLEN : 0);
      } else {
        keyed = true;
      }
    }
    return size + payloadLength + (keyed ? TAGLEN : 0);
  }

  // §9.2: in psk handshakes "e" also calls MixKey, so that encrypting under the psk alone never
  // reuses a key with a fresh nonce counter across sessions.
  #mixEphemeral(publicKey: Uint8Array): void {
    this.#ss.mixHash(publicKey);
    if (this.pattern.pskCount > 0) this.#ss.mixKey(publicKey);
  }

  #mixToken(token: DhToken): void {
    const i = this.#initiator;
    switch (token) {
      case 'ee':
        return this.#mixDh(this.#e, this.#re);
      case 'es':
        return i ? this.#mixDh(this.#e, this.#rs) : this.#mixDh(this.#s, this.#re);
      case 'se':
        return i ? this.#mixDh(this.#s, this.#re) : this.#mixDh(this.#e, this.#rs);
      case 'ss':
        return this.#mixDh(this.#s, this.#rs);
      case 'psk':
        return this.#ss.mixKeyAndHash(required(this.#psks[this.#pskIndex++], 'psk'));
    }
  }

  #mixDh(local: KeyPair | null, remote: Uint8Array | null): void {
    let shared: Uint8Array;
    try {
      shared = dh(required(local, 'local key'), required(remote, 'remote key'));
    } catch (cause) {
      throw new ChannelError('handshake.format', 'handshake: the peer sent an invalid public key', { cause });
    }
    this.#ss.mixKey(shared);
    wipe(shared);
  }

  #advance(): void {
    this.#index++;
    if (this.#index < this.pattern.messages.length) return;
    const handshakeHash = this.#ss.getHandshakeHash();
    const [toResponder, toInitiator] = this.#ss.split();
    this.#result = {
      send: this.#initiator ? toResponder : toInitiator,
      recv: this.#initiator ? toInitiator : toResponder,
      handshakeHash,
      remoteStatic: this.#rs?.slice() ?? null,
    };
    this.#wipeSecrets();
  }

  // §5.3: after an error the HandshakeState is deleted; here it refuses all further use.
  #abort(err: unknown): void {
    this.#failed = true;
    this.#failure = err;
    this.#ss.destroy();
    this.#wipeSecrets();
  }

  #wipeSecrets(): void {
    wipe(this.#e?.secretKey, this.#s?.secretKey, ...this.#psks);
  }
}

function isInitiatorMessage(index: number): boolean {
  return index % 2 === 0;
}

function copyKeyPair(k: KeyPair): KeyPair {
  return { publicKey: k.publicKey.slice(), secretKey: k.secretKey.slice() };
}

function required<T>(value: T | null | undefined, what: string): T {
  // Unreachable when the pattern table and the constructor's checks agree; kept as a guard.
  if (value === null || value === undefined) throw new Error(`HandshakeState: missing ${what}`);
  return value;
}

function expectOption<T>(value: T | undefined, field: string, needed: boolean, pattern: string, role: Role): T | undefined {
  if (needed && value === undefined) throw new TypeError(`${field}: pattern ${pattern} requires it for the ${role}`);
  if (!needed && value !== undefined) {
    throw new TypeError(`${field}: pattern ${pattern} does not take it for the ${role} (keys learnt in the handshake are not passed in)`);
  }
  return value;
}
