import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { SymmetricState } from './symmetric-state.ts';

test('InitializeSymmetric pads names up to 32 bytes and hashes longer ones (§5.2)', () => {
  const short = 'Noise_NN_25519_ChaChaPoly_SHA256';
  assert.equal(short.length, 32);
  assert.equal(Buffer.from(new SymmetricState(short).getHandshakeHash()).toString(), short);
  const long = 'Noise_IKpsk2_25519_ChaChaPoly_SHA256';
  assert.deepEqual(Buffer.from(new SymmetricState(long).getHandshakeHash()), createHash('sha256').update(long).digest());
  const tiny = new SymmetricState('Noise_X').getHandshakeHash();
  assert.deepEqual(tiny.subarray(7), new Uint8Array(25));
  assert.throws(() => new SymmetricState(''), TypeError);
  assert.throws(() => new SymmetricState('Noise_é'), TypeError);
});

test('a split SymmetricState is spent', () => {
  const ss = new SymmetricState('Noise_NN_25519_ChaChaPoly_SHA256');
  ss.mixKey(new Uint8Array(32).fill(1));
  const [c1, c2] = ss.split();
  assert.ok(c1.hasKey() && c2.hasKey());
  // A second split would derive keys from the wiped chaining key.
  assert.throws(() => ss.split(), /already split/);
  assert.throws(() => ss.encryptAndHash(Uint8Array.of(1)), /used after destroy/);
  assert.throws(() => ss.mixKey(new Uint8Array(32)), /used after destroy/);
});
