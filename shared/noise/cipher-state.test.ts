import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CipherState } from './cipher-state.ts';
import { ChannelError } from './errors.ts';
import { MAX_NONCE, randomBytes } from './primitives.ts';

const AD = Uint8Array.of(7);

function keyedPair(): [CipherState, CipherState] {
  const key = randomBytes(32);
  const a = new CipherState();
  const b = new CipherState();
  a.initializeKey(key);
  b.initializeKey(key);
  return [a, b];
}

test('without a key, EncryptWithAd and DecryptWithAd pass data through (§5.1)', () => {
  const cs = new CipherState();
  assert.equal(cs.hasKey(), false);
  assert.deepEqual(cs.encryptWithAd(AD, Uint8Array.of(1, 2)), Uint8Array.of(1, 2));
  assert.deepEqual(cs.decryptWithAd(AD, Uint8Array.of(1, 2)), Uint8Array.of(1, 2));
});

test('the nonce advances per message, so the same plaintext encrypts differently', () => {
  const [a, b] = keyedPair();
  const m = Uint8Array.of(1, 2, 3);
  const c0 = a.encryptWithAd(AD, m);
  const c1 = a.encryptWithAd(AD, m);
  assert.notDeepEqual(c0, c1);
  assert.deepEqual(b.decryptWithAd(AD, c0), m);
  assert.deepEqual(b.decryptWithAd(AD, c1), m);
});

test('a failed decrypt does not advance the nonce', () => {
  const [a, b] = keyedPair();
  const good = a.encryptWithAd(AD, Uint8Array.of(42));
  const forged = good.slice();
  forged[0]! ^= 0x80;
  assert.throws(() => b.decryptWithAd(AD, forged), /authentication failed/);
  // Had the nonce advanced, the genuine message (nonce 0) would now fail under nonce 1.
  assert.deepEqual(b.decryptWithAd(AD, good), Uint8Array.of(42));
});

test('nonce 2^64-1 is never used: the call after nonce 2^64-2 throws (§5.1)', () => {
  const [a, b] = keyedPair();
  a.setNonce(MAX_NONCE - 1n);
  b.setNonce(MAX_NONCE - 1n);
  const last = a.encryptWithAd(AD, Uint8Array.of(1));
  assert.deepEqual(b.decryptWithAd(AD, last), Uint8Array.of(1));
  const exhausted = (e: unknown) => e instanceof ChannelError && e.code === 'nonce.exhausted';
  assert.throws(() => a.encryptWithAd(AD, Uint8Array.of(1)), exhausted);
  assert.throws(() => b.decryptWithAd(AD, last), exhausted);
});

test('rekey changes the key on both sides in step and keeps the nonce', () => {
  const [a, b] = keyedPair();
  const m = Uint8Array.of(5);
  b.decryptWithAd(AD, a.encryptWithAd(AD, m));
  a.rekey();
  const afterRekey = a.encryptWithAd(AD, m);
  // b still has the old key: the new ciphertext must not open under it.
  assert.throws(() => b.decryptWithAd(AD, afterRekey), /authentication failed/);
  b.rekey();
  assert.deepEqual(b.decryptWithAd(AD, afterRekey), m);
  assert.throws(() => new CipherState().rekey(), /without a key/);
});

test('initializeKey copies the key, and destroy makes every later call throw', () => {
  const key = randomBytes(32);
  const a = new CipherState();
  const b = new CipherState();
  a.initializeKey(key);
  b.initializeKey(key);
  key.fill(0);
  const ct = a.encryptWithAd(AD, Uint8Array.of(3));
  assert.deepEqual(b.decryptWithAd(AD, ct), Uint8Array.of(3));
  a.destroy();
  assert.equal(a.hasKey(), false);
  assert.throws(() => a.encryptWithAd(AD, Uint8Array.of(3)), /used after destroy/);
  assert.throws(() => a.decryptWithAd(AD, ct), /used after destroy/);
});

test('bad arguments are TypeError/RangeError naming the field', () => {
  const cs = new CipherState();
  assert.throws(() => cs.initializeKey(new Uint8Array(31)), { name: 'RangeError', message: /key: expected 32 bytes/ });
  assert.throws(() => cs.encryptWithAd('x' as unknown as Uint8Array, new Uint8Array(0)), { name: 'TypeError', message: /ad:/ });
  assert.throws(() => cs.setNonce(-1n), RangeError);
  assert.throws(() => cs.setNonce(MAX_NONCE + 1n), RangeError);
});
