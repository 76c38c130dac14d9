import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, hkdfSync } from 'node:crypto';
import { HandshakeState } from './handshake.ts';
import { keyPairFromSecretKey, randomBytes, type KeyPair } from './primitives.ts';
import { fingerprint, verificationCode } from './sas.ts';

const XX = 'Noise_XX_25519_ChaChaPoly_SHA256';
// Fixed keys make the MITM test deterministic: with random keys the two codes would still
// collide one time in a million.
const key = (byte: number): KeyPair => keyPairFromSecretKey(new Uint8Array(32).fill(byte));

test('verificationCode is HKDF-SHA256(h, info) → uint32 mod 10^6, zero-padded (node:crypto)', () => {
  for (let i = 0; i < 20; i++) {
    const h = randomBytes(32);
    const okm = Buffer.from(hkdfSync('sha256', h, new Uint8Array(0), 'openwork-relay sas v1', 4));
    const expected = String(okm.readUInt32BE(0) % 1_000_000).padStart(6, '0');
    assert.equal(verificationCode(h), expected);
    assert.match(verificationCode(h), /^\d{6}$/);
  }
  assert.throws(() => verificationCode(new Uint8Array(31)), RangeError);
});

function handshake(initiator: HandshakeState, responder: HandshakeState): [Uint8Array, Uint8Array] {
  while (initiator.status !== 'finished') {
    if (initiator.status === 'write') responder.readMessage(initiator.writeMessage());
    else initiator.readMessage(responder.writeMessage());
  }
  return [initiator.result().handshakeHash, responder.result().handshakeHash];
}

test('both sides of a handshake show the same code', () => {
  const [a, b] = handshake(new HandshakeState({ protocolName: XX, role: 'initiator', s: key(1) }), new HandshakeState({ protocolName: XX, role: 'responder', s: key(2) }));
  assert.equal(verificationCode(a), verificationCode(b));
});

test('a man in the middle who substitutes keys cannot make the codes match', () => {
  const e = (byte: number) => ({ e: key(byte) });
  // phone ⇄ mallory (as responder) and mallory (as initiator) ⇄ host.
  const [phoneHash, malloryToPhone] = handshake(
    new HandshakeState({ protocolName: XX, role: 'initiator', s: key(1), ...e(11) }),
    new HandshakeState({ protocolName: XX, role: 'responder', s: key(3), ...e(13) }),
  );
  const [malloryToHost, hostHash] = handshake(
    new HandshakeState({ protocolName: XX, role: 'initiator', s: key(4), ...e(14) }),
    new HandshakeState({ protocolName: XX, role: 'responder', s: key(2), ...e(12) }),
  );
  assert.equal(verificationCode(phoneHash), verificationCode(malloryToPhone));
  assert.equal(verificationCode(hostHash), verificationCode(malloryToHost));
  assert.notEqual(verificationCode(phoneHash), verificationCode(hostHash));
});

test('fingerprint is SHA-256 of the public key', () => {
  const pub = key(5).publicKey;
  assert.equal(Buffer.from(fingerprint(pub)).toString('hex'), createHash('sha256').update(pub).digest('hex'));
  assert.throws(() => fingerprint(new Uint8Array(33)), RangeError);
});
