/**
 * The Noise suite's raw operations on Node's OpenSSL (see shared/noise/backend.ts for why).
 *
 * Importing a key into OpenSSL costs about as much as the DH itself, and a bare private key
 * (without its public half) costs ten times that, since OpenSSL derives the public key. So each
 * key is imported once:
 *  - static keys (the host's own; in a test or bench process, each simulated device's) are the
 *    ones primitives.ts checks (`assertKeyPair` derives the public key): remembered by their
 *    bytes with their public key, a bounded number of them;
 *  - ephemeral keys made here keep the KeyObject they were made with, tied to their array, so
 *    the handshake's two DHs with each reuse it and it goes when the handshake does. They are
 *    never remembered by their bytes, so nothing here outlives the handshake that wiped them.
 * @module
 */
import { createCipheriv, createDecipheriv, createHash, createHmac, createPrivateKey, createPublicKey, diffieHellman, generateKeyPairSync, type KeyObject } from 'node:crypto';
import type { NoiseBackend } from '../../shared/noise/backend.ts';
import { equalBytes } from '../../shared/noise/bytes.ts';
import { trimOldest } from '../../shared/bounded.ts';

/** One static key per simulated device in a bench or test process (500 in the benchmarks); a host has one. */
const KNOWN_STATIC_KEYS = 1024;
const TAG = 16;

const b64url = (bytes: Uint8Array) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64url');

/**
 * Small Buffers are slices of a shared pool: callers get arrays of their own, so nothing that
 * reads `.buffer` (a socket write, a wipe) ever reaches another value's bytes.
 */
function bytes(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

interface Imported {
  publicKey: Uint8Array;
  privateKey: KeyObject;
}

/** Static secret key (base64url) → its keys; a Map keeps insertion order, so the least recently used goes first. */
const statics = new Map<string, Imported>();

function rememberStatic(secret: string, keys: Imported): Imported {
  statics.delete(secret);
  statics.set(secret, keys);
  trimOldest(statics, KNOWN_STATIC_KEYS);
  return keys;
}

/** An ephemeral's secret array → the bytes it was made with (a wiped or reused array no longer matches) and its KeyObject. */
const ephemerals = new WeakMap<Uint8Array, { secretKey: Uint8Array; privateKey: KeyObject }>();

/** RFC 8410's PKCS#8 wrapping of a bare X25519 private key: the only form OpenSSL imports without `x`. */
const PKCS8_X25519_PREFIX = Buffer.from('302e020100300506032b656e04220420', 'hex');

function importStatic(secretKey: Uint8Array): Imported {
  const privateKey = createPrivateKey({ key: Buffer.concat([PKCS8_X25519_PREFIX, secretKey]), format: 'der', type: 'pkcs8' });
  return { privateKey, publicKey: bytes(Buffer.from(createPublicKey(privateKey).export({ format: 'jwk' }).x!, 'base64url')) };
}

function privateKeyOf(keyPair: { secretKey: Uint8Array; publicKey: Uint8Array }): KeyObject {
  const ephemeral = ephemerals.get(keyPair.secretKey);
  if (ephemeral && equalBytes(ephemeral.secretKey, keyPair.secretKey)) return ephemeral.privateKey;
  const secret = b64url(keyPair.secretKey);
  const known = statics.get(secret);
  if (known) return rememberStatic(secret, known).privateKey;
  // A key nobody checked (e.g. a copy of an ephemeral): with `x`, OpenSSL need not derive it.
  return createPrivateKey({ key: { kty: 'OKP', crv: 'X25519', d: secret, x: b64url(keyPair.publicKey) }, format: 'jwk' });
}

export const nodeBackend: NoiseBackend = {
  name: 'node:crypto',
  generateKeyPair() {
    const { privateKey, publicKey } = generateKeyPairSync('x25519');
    // DER, not JWK: Node 20's JWK export holds the key's lock while it allocates, and a collection
    // then finalizing this key's generation job takes the same lock: the process hangs for good
    // (seen in the soak: a host frozen after some thousand handshakes). The raw key ends each form.
    const secretKey = bytes(privateKey.export({ format: 'der', type: 'pkcs8' }).subarray(-32));
    ephemerals.set(secretKey, { secretKey: secretKey.slice(), privateKey });
    return { secretKey, publicKey: bytes(publicKey.export({ format: 'der', type: 'spki' }).subarray(-32)) };
  },
  x25519PublicKey(secretKey) {
    const secret = b64url(secretKey);
    return rememberStatic(secret, statics.get(secret) ?? importStatic(secretKey)).publicKey.slice();
  },
  x25519(keyPair, publicKey) {
    const privateKey = privateKeyOf(keyPair);
    const peer = createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x: b64url(publicKey) }, format: 'jwk' });
    // OpenSSL refuses a low-order point itself ("failed during derivation").
    return bytes(diffieHellman({ privateKey, publicKey: peer }));
  },
  seal(key, nonce, ad, plaintext) {
    const cipher = createCipheriv('chacha20-poly1305', key, nonce, { authTagLength: TAG });
    cipher.setAAD(ad, { plaintextLength: plaintext.length });
    return bytes(cipher.update(plaintext), cipher.final(), cipher.getAuthTag());
  },
  open(key, nonce, ad, ciphertext) {
    const body = ciphertext.length - TAG;
    const decipher = createDecipheriv('chacha20-poly1305', key, nonce, { authTagLength: TAG });
    decipher.setAAD(ad, { plaintextLength: body });
    decipher.setAuthTag(ciphertext.subarray(body));
    try {
      return bytes(decipher.update(ciphertext.subarray(0, body)), decipher.final());
    } catch {
      return null;
    }
  },
  sha256: (data) => bytes(createHash('sha256').update(data).digest()),
  hmacSha256: (key, data) => bytes(createHmac('sha256', key).update(data).digest()),
};
