/**
 * Known-answer tests from the cacophony test vectors (public domain,
 * https://github.com/haskell-cryptography/cacophony, vectors/cacophony.txt), filtered to the
 * 25519_ChaChaPoly_SHA256 suite and stored in ./test-vectors/.
 *
 * Cacophony's convention: message i is sent by the initiator when i is even, by the responder
 * when odd, both during the handshake and for the transport messages after Split().
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { toHex, fromHex } from '../encoding.ts';
import { HandshakeState, type HandshakeOptions, type Role } from './handshake.ts';
import { keyPairFromSecretKey } from './primitives.ts';

interface Vector {
  protocol_name: string;
  init_prologue: string;
  init_psks?: string[];
  init_static?: string;
  init_ephemeral: string;
  init_remote_static?: string;
  resp_prologue: string;
  resp_psks?: string[];
  resp_static?: string;
  resp_ephemeral: string;
  resp_remote_static?: string;
  handshake_hash: string;
  messages: { payload: string; ciphertext: string }[];
}

const file = JSON.parse(readFileSync(new URL('./test-vectors/noise-25519-chachapoly-sha256.json', import.meta.url), 'utf8')) as { source: string; vectors: Vector[] };

function options(v: Vector, role: Role): HandshakeOptions {
  const p = role === 'initiator' ? 'init' : 'resp';
  const s = v[`${p}_static`];
  const rs = v[`${p}_remote_static`];
  const psks = v[`${p}_psks`];
  return {
    protocolName: v.protocol_name,
    role,
    prologue: fromHex(v[`${p}_prologue`]),
    e: keyPairFromSecretKey(fromHex(v[`${p}_ephemeral`])),
    ...(s === undefined ? {} : { s: keyPairFromSecretKey(fromHex(s)) }),
    ...(rs === undefined ? {} : { rs: fromHex(rs) }),
    ...(psks === undefined ? {} : { psks: psks.map((k) => fromHex(k)) }),
  };
}

test('the vector file holds the 11 expected protocols', () => {
  assert.deepEqual(file.vectors.map((v) => v.protocol_name.split('_')[1]).sort(), ['IK', 'IKpsk1', 'IKpsk2', 'KK', 'KKpsk0', 'KKpsk2', 'NK', 'NN', 'NNpsk0', 'XX', 'XXpsk3']);
});

for (const v of file.vectors) {
  test(`cacophony vector ${v.protocol_name}`, () => {
    const initiator = new HandshakeState(options(v, 'initiator'));
    const responder = new HandshakeState(options(v, 'responder'));
    const handshakeLength = initiator.pattern.messages.length;
    assert.ok(v.messages.length > handshakeLength, 'vector has transport messages');

    for (const [i, m] of v.messages.slice(0, handshakeLength).entries()) {
      const [writer, reader] = i % 2 === 0 ? [initiator, responder] : [responder, initiator];
      const ciphertext = writer.writeMessage(fromHex(m.payload));
      assert.equal(toHex(ciphertext), m.ciphertext, `handshake message ${i}`);
      assert.equal(toHex(reader.readMessage(ciphertext)), m.payload, `handshake payload ${i}`);
    }

    const a = initiator.result();
    const b = responder.result();
    assert.equal(toHex(a.handshakeHash), v.handshake_hash);
    assert.equal(toHex(b.handshakeHash), v.handshake_hash);
    const initStatic = v.init_static && toHex(keyPairFromSecretKey(fromHex(v.init_static)).publicKey);
    const respStatic = v.resp_static && toHex(keyPairFromSecretKey(fromHex(v.resp_static)).publicKey);
    assert.equal(a.remoteStatic && toHex(a.remoteStatic), respStatic ?? null);
    assert.equal(b.remoteStatic && toHex(b.remoteStatic), initStatic ?? null);

    const empty = new Uint8Array(0);
    for (const [j, m] of v.messages.slice(handshakeLength).entries()) {
      const i = handshakeLength + j;
      const [writer, reader] = i % 2 === 0 ? [a, b] : [b, a];
      const ciphertext = writer.send.encryptWithAd(empty, fromHex(m.payload));
      assert.equal(toHex(ciphertext), m.ciphertext, `transport message ${i}`);
      assert.equal(toHex(reader.recv.decryptWithAd(empty, ciphertext)), m.payload, `transport payload ${i}`);
    }
  });
}
