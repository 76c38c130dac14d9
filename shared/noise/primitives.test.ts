/**
 * The suite checked against independent sources: RFC 7748 §6.1 for X25519 and node:crypto for
 * HKDF and ChaCha20-Poly1305 (including Noise's nonce layout, which the vectors only cover for
 * small counters).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createCipheriv, hkdfSync, randomBytes as nodeRandomBytes } from 'node:crypto';
import { fromHex, toHex } from '../encoding.ts';
import { MAX_NONCE, decrypt, dh, encrypt, keyPairFromSecretKey, noiseHkdf, rekey, assertKeyPair, generateKeyPair } from './primitives.ts';

function nodeSeal(k: Uint8Array, n: bigint, ad: Uint8Array, plaintext: Uint8Array): string {
  const iv = Buffer.alloc(12);
  iv.writeBigUInt64LE(n, 4);
  const c = createCipheriv('chacha20-poly1305', k, iv, { authTagLength: 16 });
  c.setAAD(ad, { plaintextLength: plaintext.length });
  return Buffer.concat([c.update(plaintext), c.final(), c.getAuthTag()]).toString('hex');
}

test('X25519 matches RFC 7748 §6.1', () => {
  const alice = keyPairFromSecretKey(fromHex('77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a'));
  const bob = keyPairFromSecretKey(fromHex('5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb'));
  assert.equal(toHex(alice.publicKey), '8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a');
  assert.equal(toHex(bob.publicKey), 'de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f');
  const shared = '4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742';
  assert.equal(toHex(dh(alice, bob.publicKey)), shared);
  assert.equal(toHex(dh(bob, alice.publicKey)), shared);
});

test('dh rejects a low-order public key instead of returning zeros', () => {
  assert.throws(() => dh(generateKeyPair(), new Uint8Array(32)), RangeError);
});

test('assertKeyPair rejects a public key that does not belong to the secret key', () => {
  const a = generateKeyPair();
  assert.doesNotThrow(() => assertKeyPair(a, 's'));
  assert.throws(() => assertKeyPair({ ...a, publicKey: generateKeyPair().publicKey }, 's'), /s: publicKey does not match/);
});

test('Noise HKDF equals RFC 5869 HKDF with salt = chaining key (node:crypto)', () => {
  for (const ikmLength of [0, 32]) {
    const ck = nodeRandomBytes(32);
    const ikm = nodeRandomBytes(ikmLength);
    const expected = Buffer.from(hkdfSync('sha256', ikm, ck, new Uint8Array(0), 96)).toString('hex');
    assert.equal(noiseHkdf(ck, ikm, 3).map(toHex).join(''), expected);
    assert.equal(noiseHkdf(ck, ikm, 2).map(toHex).join(''), expected.slice(0, 128));
  }
  assert.throws(() => noiseHkdf(new Uint8Array(32), new Uint8Array(5), 2), /ikm: expected 0, 32/);
});

test('encrypt uses 32 zero bits + 64-bit little-endian counter as the nonce (node:crypto)', () => {
  const k = nodeRandomBytes(32);
  const ad = nodeRandomBytes(7);
  const plaintext = nodeRandomBytes(50);
  for (const n of [0n, 1n, 0x0102030405060708n, MAX_NONCE - 1n]) {
    assert.equal(toHex(encrypt(k, n, ad, plaintext)), nodeSeal(k, n, ad, plaintext), `n=${n}`);
  }
});

test('decrypt returns null for a wrong nonce, ad or tag, or a too-short input', () => {
  const k = nodeRandomBytes(32);
  const ad = Uint8Array.of(1, 2);
  const ct = encrypt(k, 5n, ad, Uint8Array.of(9, 9, 9));
  assert.deepEqual(decrypt(k, 5n, ad, ct), Uint8Array.of(9, 9, 9));
  assert.equal(decrypt(k, 6n, ad, ct), null);
  assert.equal(decrypt(k, 5n, Uint8Array.of(1), ct), null);
  const flipped = ct.slice();
  flipped[flipped.length - 1]! ^= 1;
  assert.equal(decrypt(k, 5n, ad, flipped), null);
  assert.equal(decrypt(k, 5n, ad, ct.subarray(0, 15)), null);
});

test('rekey is the first 32 bytes of ENCRYPT(k, 2^64-1, empty, zeros) (§4.2)', () => {
  const k = nodeRandomBytes(32);
  const expected = nodeSeal(k, MAX_NONCE, new Uint8Array(0), new Uint8Array(32)).slice(0, 64);
  assert.equal(toHex(rekey(k)), expected);
});
