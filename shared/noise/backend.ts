/**
 * Where the suite's raw operations come from. Everything runs on `@noble/*` by default, which
 * works in every browser, also on plain HTTP where SubtleCrypto is withheld. A host on Node
 * installs native implementations of the same operations (host/crypto/node-backend.ts): a
 * reconnect storm is a few hundred X25519 operations, which noble does in about a millisecond
 * each and OpenSSL in about 35 µs.
 *
 * A backend only computes: the checks (lengths, low-order points, nonce layout) stay in
 * primitives.ts, so every backend is held to the same rules and the same test vectors.
 * @module
 */
import { x25519 } from '@noble/curves/ed25519.js';
import { chacha20poly1305 } from '@noble/ciphers/chacha.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { hmac } from '@noble/hashes/hmac.js';

export interface NoiseBackend {
  readonly name: string;
  /** A fresh X25519 secret key and its public key. */
  generateKeyPair(): { secretKey: Uint8Array; publicKey: Uint8Array };
  x25519PublicKey(secretKey: Uint8Array): Uint8Array;
  /**
   * X25519(keyPair.secretKey, publicKey); throws for a low-order public key (an all-zero result).
   * `keyPair.publicKey` has been checked to belong to the secret key (a native import uses it).
   */
  x25519(keyPair: { secretKey: Uint8Array; publicKey: Uint8Array }, publicKey: Uint8Array): Uint8Array;
  /** ChaCha20-Poly1305 with a 12-byte nonce: ciphertext followed by the 16-byte tag. */
  seal(key: Uint8Array, nonce: Uint8Array, ad: Uint8Array, plaintext: Uint8Array): Uint8Array;
  /** The plaintext, or null when authentication fails. */
  open(key: Uint8Array, nonce: Uint8Array, ad: Uint8Array, ciphertext: Uint8Array): Uint8Array | null;
  sha256(data: Uint8Array): Uint8Array;
  hmacSha256(key: Uint8Array, data: Uint8Array): Uint8Array;
}

export const nobleBackend: NoiseBackend = {
  name: 'noble',
  generateKeyPair() {
    const secretKey = x25519.utils.randomSecretKey();
    return { secretKey, publicKey: x25519.getPublicKey(secretKey) };
  },
  x25519PublicKey: (secretKey) => x25519.getPublicKey(secretKey),
  x25519: (keyPair, publicKey) => x25519.getSharedSecret(keyPair.secretKey, publicKey),
  seal: (key, nonce, ad, plaintext) => chacha20poly1305(key, nonce, ad).encrypt(plaintext),
  open(key, nonce, ad, ciphertext) {
    try {
      return chacha20poly1305(key, nonce, ad).decrypt(ciphertext);
    } catch {
      return null;
    }
  },
  sha256: (data) => sha256(data),
  hmacSha256: (key, data) => hmac(sha256, key, data),
};

let current: NoiseBackend = nobleBackend;

/** The backend in use. */
export function noiseBackend(): NoiseBackend {
  return current;
}

/** Makes `backend` the one every Noise operation in this process uses from now on. */
export function useNoiseBackend(backend: NoiseBackend): void {
  current = backend;
}
