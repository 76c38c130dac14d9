/**
 * SymmetricState (Noise rev 34 §5.2): the chaining key `ck`, the handshake hash `h` and the
 * CipherState used while the handshake runs. Every handshake token ends up as one of these calls.
 *
 * @module
 * @see https://noiseprotocol.org/noise.html#the-symmetricstate-object Noise §5.2
 */
import { abytes, concatBytes, wipe } from './bytes.ts';
import { CipherState } from './cipher-state.ts';
import { HASHLEN, hash, noiseHkdf } from './primitives.ts';

const EMPTY = new Uint8Array(0);

export class SymmetricState {
  readonly #cipher = new CipherState();
  #ck: Uint8Array;
  #h: Uint8Array;
  #spent = false;

  /** InitializeSymmetric(protocol_name). */
  constructor(protocolName: string) {
    if (typeof protocolName !== 'string' || !/^[\x20-\x7e]+$/.test(protocolName)) {
      throw new TypeError('protocolName: expected a non-empty printable ASCII string');
    }
    const name = new TextEncoder().encode(protocolName);
    // Names that fit are zero-padded to HASHLEN rather than hashed (§5.2).
    if (name.length <= HASHLEN) {
      this.#h = new Uint8Array(HASHLEN);
      this.#h.set(name);
    } else {
      this.#h = hash(name);
    }
    this.#ck = this.#h.slice();
  }

  /** MixKey(input_key_material). */
  mixKey(ikm: Uint8Array): void {
    const [ck, tempK] = noiseHkdf(this.#ck, ikm, 2) as [Uint8Array, Uint8Array];
    this.#replaceCk(ck);
    // HASHLEN is 32 for SHA-256, so temp_k needs no truncation to 32 bytes.
    this.#cipher.initializeKey(tempK);
    wipe(tempK);
  }

  /** MixHash(data). */
  mixHash(data: Uint8Array): void {
    abytes(data, 'data');
    this.#h = hash(concatBytes(this.#h, data));
  }

  /** MixKeyAndHash(input_key_material): used for "psk" tokens (§9). */
  mixKeyAndHash(ikm: Uint8Array): void {
    const [ck, tempH, tempK] = noiseHkdf(this.#ck, ikm, 3) as [Uint8Array, Uint8Array, Uint8Array];
    this.#replaceCk(ck);
    this.mixHash(tempH);
    this.#cipher.initializeKey(tempK);
    wipe(tempH, tempK);
  }

  /** GetHandshakeHash(): a copy of h, for channel binding (§11.2) and the SAS. */
  getHandshakeHash(): Uint8Array {
    return this.#h.slice();
  }

  hasKey(): boolean {
    return this.#cipher.hasKey();
  }

  /** EncryptAndHash(plaintext): h is the associated data, then the ciphertext is hashed in. */
  encryptAndHash(plaintext: Uint8Array): Uint8Array {
    const ciphertext = this.#cipher.encryptWithAd(this.#h, plaintext);
    this.mixHash(ciphertext);
    return ciphertext;
  }

  /** DecryptAndHash(ciphertext): throws on authentication failure, leaving h unchanged. */
  decryptAndHash(ciphertext: Uint8Array): Uint8Array {
    const plaintext = this.#cipher.decryptWithAd(this.#h, ciphertext);
    this.mixHash(ciphertext);
    return plaintext;
  }

  /**
   * Split(): the two transport CipherStates, [initiator→responder, responder→initiator].
   * Wipes ck and the handshake key: this object is spent afterwards.
   */
  split(): [CipherState, CipherState] {
    // The other methods fail through the destroyed cipher; split alone must check, or a second
    // call would derive transport keys from the wiped (all-zero) ck.
    if (this.#spent) throw new Error('SymmetricState: already split or destroyed');
    this.#spent = true;
    const [k1, k2] = noiseHkdf(this.#ck, EMPTY, 2) as [Uint8Array, Uint8Array];
    const c1 = new CipherState();
    const c2 = new CipherState();
    c1.initializeKey(k1);
    c2.initializeKey(k2);
    wipe(k1, k2, this.#ck);
    this.#cipher.destroy();
    return [c1, c2];
  }

  /** Wipes ck and the handshake key, e.g. when a handshake fails. */
  destroy(): void {
    this.#spent = true;
    wipe(this.#ck);
    this.#cipher.destroy();
  }

  #replaceCk(ck: Uint8Array): void {
    wipe(this.#ck);
    this.#ck = ck;
  }
}
