/**
 * The Noise cipher suite `25519_ChaChaPoly_SHA256` (Noise rev 34 §4, §12): DH, CIPHER and HASH
 * functions, plus the randomness and HKDF the layers above need, with the checks Noise asks for.
 * The raw operations come from ./backend.ts (noble everywhere, native on the host); everything
 * else is written against these functions.
 *
 * No `crypto.subtle` anywhere: the pairing page may be served over plain HTTP, where browsers
 * withhold SubtleCrypto (it needs a secure context) but still offer `crypto.getRandomValues`,
 * which is all noble's `randomBytes` uses.
 *
 * @module
 * @see https://noiseprotocol.org/noise.html#crypto-functions Noise §4
 * @see https://www.rfc-editor.org/rfc/rfc7748 X25519
 * @see https://www.rfc-editor.org/rfc/rfc8439 ChaCha20-Poly1305
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { hkdf as rfc5869 } from '@noble/hashes/hkdf.js';
import { randomBytes as nobleRandomBytes } from '@noble/hashes/utils.js';
import { noiseBackend } from './backend.ts';
import { abytes, concatBytes, equalBytes, wipe } from './bytes.ts';

/** §4.1: Curve25519 public keys and DH outputs are 32 bytes. */
export const DHLEN = 32;
/** §4.3: SHA-256 output length. */
export const HASHLEN = 32;
/** §4.2: cipher keys are 32 bytes. */
export const KEYLEN = 32;
/** §4.2: the AEAD authentication tag adds 16 bytes. */
export const TAGLEN = 16;
/** §9.1: pre-shared symmetric keys are 32 bytes. */
export const PSKLEN = 32;
/** §3: no Noise message (handshake or transport) may exceed 65535 bytes. */
export const MAX_MESSAGE = 65535;
/** §5.1: nonce 2^64-1 is reserved for REKEY and never used for messages. */
export const MAX_NONCE = 2n ** 64n - 1n;

export interface KeyPair {
  readonly publicKey: Uint8Array;
  readonly secretKey: Uint8Array;
}

/** §4.1 GENERATE_KEYPAIR(). */
export function generateKeyPair(): KeyPair {
  return noiseBackend().generateKeyPair();
}

/** Derives the public key; used to load stored static keys and test-vector keys. */
export function keyPairFromSecretKey(secretKey: Uint8Array): KeyPair {
  abytes(secretKey, 'secretKey', DHLEN);
  const copy = secretKey.slice();
  return { publicKey: noiseBackend().x25519PublicKey(copy), secretKey: copy };
}

/** Throws unless `keyPair.publicKey` really belongs to `keyPair.secretKey`. */
export function assertKeyPair(keyPair: KeyPair, field: string): void {
  if (typeof keyPair !== 'object' || keyPair === null) throw new TypeError(`${field}: expected a KeyPair`);
  abytes(keyPair.secretKey, `${field}.secretKey`, DHLEN);
  abytes(keyPair.publicKey, `${field}.publicKey`, DHLEN);
  if (!equalBytes(noiseBackend().x25519PublicKey(keyPair.secretKey), keyPair.publicKey)) {
    throw new TypeError(`${field}: publicKey does not match secretKey`);
  }
}

/**
 * §4.1 DH(key_pair, public_key). Noise lets implementations reject invalid public keys; noble
 * rejects low-order points (whose shared secret would be all zeros), and so do we.
 */
export function dh(keyPair: KeyPair, publicKey: Uint8Array): Uint8Array {
  abytes(publicKey, 'publicKey', DHLEN);
  try {
    return noiseBackend().x25519(keyPair, publicKey);
  } catch (cause) {
    throw new RangeError('publicKey: invalid X25519 public key (low-order point)', { cause });
  }
}

/** §12.3 (ChaChaPoly): 96-bit nonce = 32 zero bits followed by the 64-bit little-endian counter. */
function nonceBytes(n: bigint): Uint8Array {
  if (typeof n !== 'bigint' || n < 0n || n > MAX_NONCE) throw new RangeError('nonce: expected 0 <= n <= 2^64-1');
  const out = new Uint8Array(12);
  new DataView(out.buffer).setBigUint64(4, n, true);
  return out;
}

/** §4.2 ENCRYPT(k, n, ad, plaintext): ciphertext followed by the 16-byte tag. */
export function encrypt(k: Uint8Array, n: bigint, ad: Uint8Array, plaintext: Uint8Array): Uint8Array {
  abytes(k, 'k', KEYLEN);
  abytes(ad, 'ad');
  abytes(plaintext, 'plaintext');
  return noiseBackend().seal(k, nonceBytes(n), ad, plaintext);
}

/**
 * §4.2 DECRYPT(k, n, ad, ciphertext). Returns null when authentication fails, so callers decide
 * how to signal it (the cipher state must not advance its nonce in that case).
 */
export function decrypt(k: Uint8Array, n: bigint, ad: Uint8Array, ciphertext: Uint8Array): Uint8Array | null {
  abytes(k, 'k', KEYLEN);
  abytes(ad, 'ad');
  abytes(ciphertext, 'ciphertext');
  const nonce = nonceBytes(n);
  if (ciphertext.length < TAGLEN) return null;
  return noiseBackend().open(k, nonce, ad, ciphertext);
}

/** §4.2 REKEY(k): the first 32 bytes of ENCRYPT(k, 2^64-1, empty, 32 zero bytes). */
export function rekey(k: Uint8Array): Uint8Array {
  const out = encrypt(k, MAX_NONCE, new Uint8Array(0), new Uint8Array(KEYLEN));
  const key = out.slice(0, KEYLEN);
  wipe(out);
  return key;
}

/** §4.3 HASH(data): SHA-256. */
export function hash(data: Uint8Array): Uint8Array {
  abytes(data, 'data');
  return noiseBackend().sha256(data);
}

/**
 * §4.3 HKDF(chaining_key, input_key_material, num_outputs), written out with HMAC exactly as the
 * spec states it (it equals RFC 5869 with salt = chaining_key and empty info).
 */
export function noiseHkdf(chainingKey: Uint8Array, ikm: Uint8Array, numOutputs: 2 | 3): Uint8Array[] {
  abytes(chainingKey, 'chainingKey', HASHLEN);
  abytes(ikm, 'ikm');
  if (ikm.length !== 0 && ikm.length !== 32 && ikm.length !== DHLEN) {
    throw new RangeError(`ikm: expected 0, 32 or ${DHLEN} bytes, got ${ikm.length}`);
  }
  if (numOutputs !== 2 && numOutputs !== 3) throw new RangeError('numOutputs: expected 2 or 3');
  const { hmacSha256 } = noiseBackend();
  const tempKey = hmacSha256(chainingKey, ikm);
  const outputs: Uint8Array[] = [];
  let previous: Uint8Array = new Uint8Array(0);
  for (let i = 1; i <= numOutputs; i++) {
    previous = hmacSha256(tempKey, concatBytes(previous, Uint8Array.of(i)));
    outputs.push(previous);
  }
  wipe(tempKey);
  return outputs;
}

/** RFC 5869 HKDF-SHA256, for deriving values outside the Noise handshake (e.g. the SAS). */
export function hkdfSha256(ikm: Uint8Array, info: Uint8Array, length: number): Uint8Array {
  abytes(ikm, 'ikm');
  abytes(info, 'info');
  return rfc5869(sha256, ikm, undefined, info, length);
}

/**
 * Cryptographically secure random bytes via `crypto.getRandomValues`, which (unlike SubtleCrypto)
 * works on insecure origins. At most 65536 bytes per call: the getRandomValues limit.
 */
export function randomBytes(length: number): Uint8Array {
  if (!Number.isSafeInteger(length) || length < 0) throw new RangeError('length: expected a non-negative integer');
  return nobleRandomBytes(length);
}
