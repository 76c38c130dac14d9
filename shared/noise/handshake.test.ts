import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ChannelError } from './errors.ts';
import { HandshakeState, type HandshakeOptions, type HandshakeResult } from './handshake.ts';
import { generateKeyPair, randomBytes } from './primitives.ts';

const IK = 'Noise_IK_25519_ChaChaPoly_SHA256';
const IKpsk2 = 'Noise_IKpsk2_25519_ChaChaPoly_SHA256';
const text = (s: string) => new TextEncoder().encode(s);
const code = (c: string) => (e: unknown) => e instanceof ChannelError && e.code === c;

/** Runs a handshake to completion, checking each payload arrives intact. */
function run(initiator: HandshakeState, responder: HandshakeState): [HandshakeResult, HandshakeResult] {
  for (let i = 0; initiator.status !== 'finished'; i++) {
    const [writer, reader] = initiator.status === 'write' ? [initiator, responder] : [responder, initiator];
    assert.equal(reader.status, 'read');
    const payload = text(`payload ${i}`);
    assert.deepEqual(reader.readMessage(writer.writeMessage(payload)), payload);
  }
  assert.equal(responder.status, 'finished');
  return [initiator.result(), responder.result()];
}

function assertConnected(a: HandshakeResult, b: HandshakeResult): void {
  assert.deepEqual(a.handshakeHash, b.handshakeHash);
  const ad = new Uint8Array(0);
  assert.deepEqual(b.recv.decryptWithAd(ad, a.send.encryptWithAd(ad, text('to responder'))), text('to responder'));
  assert.deepEqual(a.recv.decryptWithAd(ad, b.send.encryptWithAd(ad, text('to initiator'))), text('to initiator'));
}

for (const protocolName of [IK, IKpsk2]) {
  test(`${protocolName} round trip with random keys`, () => {
    const phone = generateKeyPair();
    const host = generateKeyPair();
    const psks = protocolName === IKpsk2 ? [randomBytes(32)] : [];
    const prologue = text('openwork-relay v1');
    const initiator = new HandshakeState({ protocolName, role: 'initiator', prologue, s: phone, rs: host.publicKey, psks });
    const responder = new HandshakeState({ protocolName, role: 'responder', prologue, s: host, psks });
    assert.equal(responder.remoteStatic, null);
    responder.readMessage(initiator.writeMessage());
    // IK reveals the initiator's key after message 1, so the host can check it before replying.
    assert.deepEqual(responder.remoteStatic, phone.publicKey);
    initiator.readMessage(responder.writeMessage());
    const a = initiator.result();
    const b = responder.result();
    assertConnected(a, b);
    assert.deepEqual(a.remoteStatic, host.publicKey);
    assert.deepEqual(b.remoteStatic, phone.publicKey);
  });
}

test('NN and XX round trips', () => {
  const nn = 'Noise_NN_25519_ChaChaPoly_SHA256';
  const [a, b] = run(new HandshakeState({ protocolName: nn, role: 'initiator' }), new HandshakeState({ protocolName: nn, role: 'responder' }));
  assertConnected(a, b);
  assert.equal(a.remoteStatic, null);
  const xx = 'Noise_XX_25519_ChaChaPoly_SHA256';
  const s1 = generateKeyPair();
  const s2 = generateKeyPair();
  const [c, d] = run(new HandshakeState({ protocolName: xx, role: 'initiator', s: s1 }), new HandshakeState({ protocolName: xx, role: 'responder', s: s2 }));
  assertConnected(c, d);
  assert.deepEqual(c.remoteStatic, s2.publicKey);
  assert.deepEqual(d.remoteStatic, s1.publicKey);
});

function ikpsk2Pair(initiatorPsk: Uint8Array, responderPsk: Uint8Array) {
  const host = generateKeyPair();
  return {
    initiator: new HandshakeState({ protocolName: IKpsk2, role: 'initiator', s: generateKeyPair(), rs: host.publicKey, psks: [initiatorPsk] }),
    responder: new HandshakeState({ protocolName: IKpsk2, role: 'responder', s: host, psks: [responderPsk] }),
  };
}

test('a wrong psk makes ReadMessage throw handshake.auth, and the handshake stays dead', () => {
  // IKpsk2 mixes the psk in at message 2, so the initiator is the first to notice.
  const { initiator, responder } = ikpsk2Pair(randomBytes(32), randomBytes(32));
  responder.readMessage(initiator.writeMessage());
  const reply = responder.writeMessage();
  assert.throws(() => initiator.readMessage(reply), code('handshake.auth'));
  assert.equal(initiator.status, 'failed');
  assert.throws(() => initiator.readMessage(reply), code('channel.closed'));
  assert.throws(() => initiator.result(), /needs a finished handshake/);
});

test('a wrong psk makes the responder ReadMessage throw (NNpsk0 at message 1, XXpsk3 at message 3)', () => {
  const nn = 'Noise_NNpsk0_25519_ChaChaPoly_SHA256';
  let initiator = new HandshakeState({ protocolName: nn, role: 'initiator', psks: [randomBytes(32)] });
  let responder = new HandshakeState({ protocolName: nn, role: 'responder', psks: [randomBytes(32)] });
  assert.throws(() => responder.readMessage(initiator.writeMessage(text('hi'))), code('handshake.auth'));
  assert.equal(responder.status, 'failed');

  const xx = 'Noise_XXpsk3_25519_ChaChaPoly_SHA256';
  initiator = new HandshakeState({ protocolName: xx, role: 'initiator', s: generateKeyPair(), psks: [randomBytes(32)] });
  responder = new HandshakeState({ protocolName: xx, role: 'responder', s: generateKeyPair(), psks: [randomBytes(32)] });
  responder.readMessage(initiator.writeMessage());
  initiator.readMessage(responder.writeMessage());
  assert.throws(() => responder.readMessage(initiator.writeMessage()), code('handshake.auth'));
  assert.equal(responder.status, 'failed');
});

test('the initiator pinning the wrong host key fails the responder at message 1', () => {
  const host = generateKeyPair();
  const initiator = new HandshakeState({ protocolName: IK, role: 'initiator', s: generateKeyPair(), rs: generateKeyPair().publicKey });
  const responder = new HandshakeState({ protocolName: IK, role: 'responder', s: host });
  assert.throws(() => responder.readMessage(initiator.writeMessage()), code('handshake.auth'));
});

test('any flipped bit in a handshake message fails it', () => {
  const psk = randomBytes(32);
  for (const position of [0, 40, 80, 95]) {
    const { initiator, responder } = ikpsk2Pair(psk, psk);
    const message = initiator.writeMessage();
    assert.equal(message.length, 96);
    message[position]! ^= 1;
    // Byte 0 is in the ephemeral key: a different (valid) key, so decryption fails rather than parsing.
    assert.throws(() => responder.readMessage(message), code('handshake.auth'), `byte ${position}`);
  }
});

test('short, oversized or low-order messages are handshake.format', () => {
  const psk = randomBytes(32);
  let pair = ikpsk2Pair(psk, psk);
  const message = pair.initiator.writeMessage();
  assert.throws(() => pair.responder.readMessage(message.subarray(0, 40)), code('handshake.format'));
  pair = ikpsk2Pair(psk, psk);
  assert.throws(() => pair.responder.readMessage(new Uint8Array(65536)), code('handshake.format'));
  pair = ikpsk2Pair(psk, psk);
  const lowOrder = pair.initiator.writeMessage();
  lowOrder.fill(0, 0, 32);
  assert.throws(() => pair.responder.readMessage(lowOrder), code('handshake.format'));
});

test('an oversized payload is refused before any state changes', () => {
  const psk = randomBytes(32);
  const { initiator, responder } = ikpsk2Pair(psk, psk);
  // Message 1 of IKpsk2: e (32) + s (32+16) + payload tag (16) = 96 bytes of overhead.
  assert.throws(() => initiator.writeMessage(new Uint8Array(65535 - 96 + 1)), RangeError);
  const max = initiator.writeMessage(new Uint8Array(65535 - 96));
  assert.equal(max.length, 65535);
  assert.equal(responder.readMessage(max).length, 65535 - 96);
});

test('calls out of turn are refused', () => {
  const { initiator, responder } = ikpsk2Pair(randomBytes(32), randomBytes(32));
  assert.equal(initiator.status, 'write');
  assert.equal(responder.status, 'read');
  assert.throws(() => responder.writeMessage(), /writeMessage\(\) called but the responder must read next/);
  assert.throws(() => initiator.readMessage(new Uint8Array(48)), /readMessage\(\) called but the initiator must write next/);
});

test('after finishing, further messages are refused', () => {
  const nn = 'Noise_NN_25519_ChaChaPoly_SHA256';
  const initiator = new HandshakeState({ protocolName: nn, role: 'initiator' });
  const responder = new HandshakeState({ protocolName: nn, role: 'responder' });
  run(initiator, responder);
  assert.throws(() => initiator.writeMessage(), /must use result\(\)/);
});

test('options must give exactly the keys the pattern needs', () => {
  const s = generateKeyPair();
  const rs = generateKeyPair().publicKey;
  const cases: [HandshakeOptions, RegExp][] = [
    [{ protocolName: IK, role: 'initiator', rs }, /s: pattern IK requires it for the initiator/],
    [{ protocolName: IK, role: 'initiator', s }, /rs: pattern IK requires it for the initiator/],
    [{ protocolName: IK, role: 'responder', s, rs }, /rs: pattern IK does not take it for the responder/],
    [{ protocolName: 'Noise_NN_25519_ChaChaPoly_SHA256', role: 'initiator', s }, /s: pattern NN does not take it/],
    [{ protocolName: IKpsk2, role: 'responder', s }, /psks: pattern IKpsk2 needs 1 psk\(s\), got 0/],
    [{ protocolName: IKpsk2, role: 'responder', s, psks: [new Uint8Array(31)] }, /psks\[0\]: expected 32 bytes/],
    [{ protocolName: IK, role: 'responder', s: { ...s, publicKey: rs } }, /s: publicKey does not match secretKey/],
    [{ protocolName: IK, role: 'client' as 'initiator', s }, /role: expected/],
    [{ protocolName: IK, role: 'initiator', s, rs: new Uint8Array(16) }, /rs: expected 32 bytes/],
  ];
  for (const [options, message] of cases) assert.throws(() => new HandshakeState(options), message);
});

test("the caller's key arrays are copied, never wiped", () => {
  const xx = 'Noise_XX_25519_ChaChaPoly_SHA256';
  const s = generateKeyPair();
  const sBefore = s.secretKey.slice();
  run(new HandshakeState({ protocolName: xx, role: 'initiator', s }), new HandshakeState({ protocolName: xx, role: 'responder', s: generateKeyPair() }));
  assert.deepEqual(s.secretKey, sBefore);
  const psk = randomBytes(32);
  const pskBefore = psk.slice();
  const { initiator, responder } = ikpsk2Pair(psk, psk);
  run(initiator, responder);
  assert.deepEqual(psk, pskBefore);
});
