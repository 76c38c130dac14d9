import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomFillSync } from 'node:crypto';
import { CipherState } from './cipher-state.ts';
import { HandshakeState } from './handshake.ts';
import { MAX_NONCE, randomBytes } from './primitives.ts';
import { ChannelError, MAX_FRAGMENT, MAX_FRAME, createTransport, type Transport } from './transport.ts';

const EMPTY = new Uint8Array(0);
// getRandomValues (behind primitives' randomBytes) caps one call at 64 KiB.
const bigRandom = (n: number) => randomFillSync(new Uint8Array(n));
const code = (c: string) => (e: unknown) => e instanceof ChannelError && e.code === c;

function keyed(key: Uint8Array): CipherState {
  const cs = new CipherState();
  cs.initializeKey(key);
  return cs;
}

/**
 * Two connected transports built from known keys, plus `forge`: a CipherState holding the
 * a→b key at the same nonce as a's sender, to craft frames an attacker with the key could send.
 */
function channel(maxMessage?: { a?: number; b?: number }) {
  const ab = randomBytes(32);
  const ba = randomBytes(32);
  const aSend = keyed(ab);
  return {
    aSend,
    a: createTransport({ send: aSend, recv: keyed(ba), maxMessage: maxMessage?.a }),
    b: createTransport({ send: keyed(ba), recv: keyed(ab), maxMessage: maxMessage?.b }),
    forge: keyed(ab),
  };
}

function sealOne(t: Transport, text: string): Uint8Array {
  const frames = t.seal(new TextEncoder().encode(text));
  assert.equal(frames.length, 1);
  return frames[0]!;
}

/** After any ChannelError every call must throw "channel.closed", even with a genuine frame. */
function assertDead(t: Transport, genuineFrame: Uint8Array): void {
  assert.throws(() => t.open(genuineFrame), code('channel.closed'));
  assert.throws(() => t.seal(Uint8Array.of(1)), code('channel.closed'));
}

test('messages flow both ways after a real handshake', () => {
  const protocolName = 'Noise_NN_25519_ChaChaPoly_SHA256';
  const hi = new HandshakeState({ protocolName, role: 'initiator' });
  const hr = new HandshakeState({ protocolName, role: 'responder' });
  hr.readMessage(hi.writeMessage());
  hi.readMessage(hr.writeMessage());
  const phone = createTransport(hi.result());
  const host = createTransport(hr.result());
  for (let i = 0; i < 5; i++) {
    const m = randomBytes(i * 100);
    const [frame] = phone.seal(m);
    assert.deepEqual(host.open(frame!), m);
    const [reply] = host.seal(m);
    assert.deepEqual(phone.open(reply!), m);
  }
});

test('an empty message is one frame: header + tag', () => {
  const { a, b } = channel();
  const frames = a.seal(EMPTY);
  assert.equal(frames.length, 1);
  assert.equal(frames[0]!.length, 1 + 16);
  assert.deepEqual(b.open(frames[0]!), EMPTY);
});

test('a 200 KB message is split into authenticated fragments and reassembled', () => {
  const { a, b } = channel();
  const message = bigRandom(200_000);
  const frames = a.seal(message);
  assert.equal(frames.length, Math.ceil(200_000 / MAX_FRAGMENT));
  for (const f of frames) assert.ok(f.length <= MAX_FRAME);
  assert.equal(frames[0]!.length, MAX_FRAME);
  for (const f of frames.slice(0, -1)) assert.equal(b.open(f), null);
  assert.deepEqual(b.open(frames.at(-1)!), message);
  // The channel keeps working after reassembly.
  assert.equal(new TextDecoder().decode(b.open(sealOne(a, 'next'))!), 'next');
});

test('fragment boundary: MAX_FRAGMENT bytes is one frame, one more byte is two', () => {
  const { a, b } = channel();
  const one = a.seal(new Uint8Array(MAX_FRAGMENT).fill(7));
  assert.equal(one.length, 1);
  assert.equal(one[0]!.length, MAX_FRAME);
  assert.deepEqual(b.open(one[0]!), new Uint8Array(MAX_FRAGMENT).fill(7));
  const two = a.seal(new Uint8Array(MAX_FRAGMENT + 1).fill(8));
  assert.equal(two.length, 2);
  assert.equal(two[1]!.length, 1 + 1 + 16);
  assert.equal(b.open(two[0]!), null);
  assert.deepEqual(b.open(two[1]!), new Uint8Array(MAX_FRAGMENT + 1).fill(8));
});

test('one flipped bit in the ciphertext body → frame.auth, then the transport is dead', () => {
  const { a, b } = channel();
  const frame = sealOne(a, 'hello world');
  const tampered = frame.slice();
  tampered[3]! ^= 0x04;
  assert.throws(() => b.open(tampered), code('frame.auth'));
  assertDead(b, frame);
});

test('one flipped bit in the tag → frame.auth', () => {
  const { a, b } = channel();
  const frame = sealOne(a, 'hello world');
  const tampered = frame.slice();
  tampered[tampered.length - 1]! ^= 0x80;
  assert.throws(() => b.open(tampered), code('frame.auth'));
  assertDead(b, frame);
});

test('a replayed frame → frame.auth', () => {
  const { a, b } = channel();
  const frame = sealOne(a, 'pay 10');
  assert.ok(b.open(frame));
  assert.throws(() => b.open(frame), code('frame.auth'));
  assertDead(b, sealOne(a, 'next'));
});

test('two frames swapped → frame.auth', () => {
  const { a, b } = channel();
  const first = sealOne(a, 'first');
  const second = sealOne(a, 'second');
  assert.throws(() => b.open(second), code('frame.auth'));
  assertDead(b, first);
});

test('a dropped frame → frame.auth on the next one', () => {
  const { a, b } = channel();
  assert.ok(b.open(sealOne(a, 'one')));
  sealOne(a, 'two (dropped)');
  assert.throws(() => b.open(sealOne(a, 'three')), code('frame.auth'));
});

test('a dropped fragment inside a message → frame.auth', () => {
  const { a, b } = channel();
  const frames = a.seal(bigRandom(3 * MAX_FRAGMENT));
  assert.equal(b.open(frames[0]!), null);
  assert.throws(() => b.open(frames[2]!), code('frame.auth'));
});

test('a truncated frame → frame.auth, also below header + tag (empty, 7 bytes)', () => {
  let { a, b } = channel();
  const frame = sealOne(a, 'truncate me');
  assert.throws(() => b.open(frame.subarray(0, frame.length - 1)), code('frame.auth'));
  assertDead(b, frame);
  ({ a, b } = channel());
  assert.throws(() => b.open(sealOne(a, 'x').subarray(0, 16)), code('frame.auth'));
  assertDead(b, frame);
  for (const length of [0, 7]) {
    ({ a, b } = channel());
    assert.throws(() => b.open(sealOne(a, 'x').subarray(0, length)), code('frame.auth'), `${length} bytes`);
  }
});

test('a frame over 65535 bytes → frame.size', () => {
  const { b } = channel();
  assert.throws(() => b.open(new Uint8Array(MAX_FRAME + 1)), code('frame.size'));
});

test('a frame with reserved header bits set → frame.format, even though it authenticates', () => {
  const { b, forge } = channel();
  const frame = forge.encryptWithAd(EMPTY, Uint8Array.of(0x02, 0x41));
  assert.throws(() => b.open(frame), code('frame.format'));
});

test('a message over the receiver maximum → message.size, checked per fragment', () => {
  const { a, b } = channel({ b: 100_000 });
  const frames = a.seal(bigRandom(200_000));
  assert.equal(b.open(frames[0]!), null);
  assert.throws(() => b.open(frames[1]!), code('message.size'));
  assertDead(b, frames[2]!);
});

test('a forged endless fragment stream hits message.size', () => {
  const { b, forge } = channel({ b: 1000 });
  const fragment = (n: number) => forge.encryptWithAd(EMPTY, new Uint8Array(n + 1).fill(0x01, 0, 1));
  assert.equal(b.open(fragment(600)), null);
  assert.throws(() => b.open(fragment(401)), code('message.size'));
});

test('seal refuses a message over maxMessage without closing the channel', () => {
  const { a, b } = channel({ a: 10 });
  assert.throws(() => a.seal(new Uint8Array(11)), RangeError);
  assert.deepEqual(b.open(a.seal(new Uint8Array(10))[0]!), new Uint8Array(10));
});

test('send nonce exhaustion → nonce.exhausted and the transport is dead', () => {
  const { a, aSend } = channel();
  aSend.setNonce(MAX_NONCE - 1n);
  a.seal(Uint8Array.of(1));
  assert.throws(() => a.seal(Uint8Array.of(1)), code('nonce.exhausted'));
  assert.throws(() => a.seal(Uint8Array.of(1)), code('channel.closed'));
});

test('close() wipes the keys and makes later calls throw', () => {
  const { a, b, aSend } = channel();
  const frame = sealOne(a, 'late');
  b.close();
  assertDead(b, frame);
  a.close();
  assert.equal(aSend.hasKey(), false);
});

test('createTransport validates its options', () => {
  const k = keyed(randomBytes(32));
  assert.throws(() => createTransport({ send: new CipherState(), recv: k }), /send: expected a keyed CipherState/);
  assert.throws(() => createTransport({ send: k, recv: k }), /recv: must be a different CipherState/);
  assert.throws(() => createTransport({ send: k, recv: keyed(randomBytes(32)), maxMessage: -1 }), RangeError);
});
