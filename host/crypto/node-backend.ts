/**
 * The Noise suite's raw operations on Node's OpenSSL (see shared/noise/backend.ts for why).
 *
 * OpenSSL derives a public key slowly when it imports a bare private key (about as slowly as
 * noble), so keys are imported as JWK with their public half (`x`), which is checked to belong
 * to the secret before any DH (primitives.ts `assertKeyPair`). Those checks derive the public
 * key again and again for the same few keys (the host's static key on every handshake), so
 * derived public keys are remembered, a bounded number of them.
 * @module
 */
import { createCipheriv, createDecipheriv, createHash, createHmac, createPrivateKey, createPublicKey, diffieHellman, generateKeyPairSync } from 'node:crypto';
import type { NoiseBackend } from '../../shared/noise/backend.ts';

const KNOWN_PUBLIC_KEYS = 256;
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

/** secret key (base64url) → public key; a Map keeps insertion order, so the oldest goes first. */
const publicKeys = new Map<string, Uint8Array>();

function remember(secret: string, publicKey: Uint8Array): Uint8Array {
  publicKeys.delete(secret);
  publicKeys.set(secret, publicKey);
  if (publicKeys.size > KNOWN_PUBLIC_KEYS) publicKeys.delete(publicKeys.keys().next().value!);
  return publicKey;
}

/** RFC 8410's PKCS#8 wrapping of a bare X25519 private key: the only form OpenSSL imports without `x`. */
const PKCS8_X25519_PREFIX = Buffer.from('302e020100300506032b656e04220420', 'hex');

function derivePublicKey(secretKey: Uint8Array): Uint8Array {
  const privateKey = createPrivateKey({ key: Buffer.concat([PKCS8_X25519_PREFIX, secretKey]), format: 'der', type: 'pkcs8' });
  return bytes(Buffer.from(createPublicKey(privateKey).export({ format: 'jwk' }).x!, 'base64url'));
}

export const nodeBackend: NoiseBackend = {
  name: 'node:crypto',
  generateKeyPair() {
    const jwk = generateKeyPairSync('x25519').privateKey.export({ format: 'jwk' });
    const secretKey = bytes(Buffer.from(jwk.d!, 'base64url'));
    const publicKey = bytes(Buffer.from(jwk.x!, 'base64url'));
    remember(jwk.d!, publicKey);
    return { secretKey, publicKey };
  },
  x25519PublicKey(secretKey) {
    const secret = b64url(secretKey);
    const known = publicKeys.get(secret);
    return remember(secret, (known ?? derivePublicKey(secretKey)).slice());
  },
  x25519(keyPair, publicKey) {
    const privateKey = createPrivateKey({ key: { kty: 'OKP', crv: 'X25519', d: b64url(keyPair.secretKey), x: b64url(keyPair.publicKey) }, format: 'jwk' });
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
