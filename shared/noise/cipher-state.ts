/**
 * CipherState (Noise rev 34 §5.1): a key `k` and a 64-bit nonce counter `n`, used during the
 * handshake by SymmetricState and afterwards, one per direction, by the transport.
 *
 * @module
 * @see https://noiseprotocol.org/noise.html#the-cipherstate-object Noise §5.1
 * @see https://noiseprotocol.org/noise.html#rekey Noise §11.3
 */
import { abytes, wipe } from './bytes.ts';
import { ChannelError } from './errors.ts';
import { KEYLEN, MAX_NONCE, decrypt, encrypt, rekey } from './primitives.ts';

export class CipherState {
  #k: Uint8Array | null = null;
  #n = 0n;
  #destroyed = false;

  /** InitializeKey(key): sets k (copied, so the caller may wipe its array) and resets n to 0. */
  initializeKey(key: Uint8Array | null): void {
    if (key !== null) abytes(key, 'key', KEYLEN);
    this.#assertAlive();
    wipe(this.#k);
    this.#k = key === null ? null : key.slice();
    this.#n = 0n;
  }

  hasKey(): boolean {
    return this.#k !== null;
  }

  /** SetNonce(nonce): only for callers that track nonces themselves, and for tests. */
  setNonce(nonce: bigint): void {
    if (typeof nonce !== 'bigint' || nonce < 0n || nonce > MAX_NONCE) {
      throw new RangeError('nonce: expected a bigint with 0 <= nonce <= 2^64-1');
    }
    this.#n = nonce;
  }

  /** EncryptWithAd(ad, plaintext): encrypts and advances n; without a key, returns the plaintext. */
  encryptWithAd(ad: Uint8Array, plaintext: Uint8Array): Uint8Array {
    abytes(ad, 'ad');
    abytes(plaintext, 'plaintext');
    this.#assertAlive();
    if (this.#k === null) return plaintext.slice();
    this.#assertNonce();
    const ciphertext = encrypt(this.#k, this.#n, ad, plaintext);
    this.#n++;
    return ciphertext;
  }

  /**
   * DecryptWithAd(ad, ciphertext). On authentication failure it throws and leaves n unchanged
   * (§5.1), so a forged message cannot desynchronise the counter.
   */
  decryptWithAd(ad: Uint8Array, ciphertext: Uint8Array): Uint8Array {
    abytes(ad, 'ad');
    abytes(ciphertext, 'ciphertext');
    this.#assertAlive();
    if (this.#k === null) return ciphertext.slice();
    this.#assertNonce();
    const plaintext = decrypt(this.#k, this.#n, ad, ciphertext);
    if (plaintext === null) throw new Error('CipherState: authentication failed');
    this.#n++;
    return plaintext;
  }

  /** Rekey() (§4.2, §11.3): replaces k with REKEY(k); n is deliberately left unchanged. */
  rekey(): void {
    this.#assertAlive();
    if (this.#k === null) throw new Error('CipherState: cannot rekey without a key');
    const next = rekey(this.#k);
    wipe(this.#k);
    this.#k = next;
  }

  /**
   * Wipes the key. Every later call throws: falling back to the keyless pass-through of
   * EncryptWithAd would silently send plaintext.
   */
  destroy(): void {
    wipe(this.#k);
    this.#k = null;
    this.#destroyed = true;
  }

  #assertAlive(): void {
    if (this.#destroyed) throw new Error('CipherState: used after destroy()');
  }

  // §5.1: once n reaches 2^64-1 every further call must signal an error.
  #assertNonce(): void {
    if (this.#n === MAX_NONCE) {
      throw new ChannelError('nonce.exhausted', 'CipherState: nonce exhausted (2^64-1 reached); start a new session');
    }
  }
}
