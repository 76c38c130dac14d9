/**
 * The native backend held to the same standard as noble's: the whole suite's own tests (RFC 7748,
 * node-checked HKDF and AEAD, the cacophony vectors) run again with it installed, and both
 * backends must agree on random inputs.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { nobleBackend, noiseBackend, useNoiseBackend } from '../../shared/noise/backend.ts';
import { nodeBackend } from './node-backend.ts';

useNoiseBackend(nodeBackend);
await import('../../shared/noise/primitives.test.ts');
await import('../../shared/noise/vectors.test.ts');

test('the suite tests above ran on the native backend', () => {
  assert.equal(noiseBackend().name, 'node:crypto');
});

test('native and noble agree on random keys, messages and tampering', () => {
  for (let i = 0; i < 50; i++) {
    const a = nodeBackend.generateKeyPair();
    const b = nobleBackend.generateKeyPair();
    assert.deepEqual(nobleBackend.x25519PublicKey(a.secretKey), a.publicKey);
    assert.deepEqual(nodeBackend.x25519PublicKey(b.secretKey), b.publicKey);
    assert.deepEqual(nodeBackend.x25519(a, b.publicKey), nobleBackend.x25519(b, a.publicKey));

    const key = randomBytes(32),
      nonce = randomBytes(12),
      ad = randomBytes(i),
      message = randomBytes(i * 97);
    const sealed = nodeBackend.seal(key, nonce, ad, message);
    assert.deepEqual(sealed, nobleBackend.seal(key, nonce, ad, message));
    assert.deepEqual(nodeBackend.open(key, nonce, ad, sealed), new Uint8Array(message));
    sealed[i % sealed.length]! ^= 1;
    assert.equal(nodeBackend.open(key, nonce, ad, sealed), null);
    assert.deepEqual(nodeBackend.sha256(message), nobleBackend.sha256(message));
    assert.deepEqual(nodeBackend.hmacSha256(key, message), nobleBackend.hmacSha256(key, message));
  }
});

test('a DH with a public key that does not match its secret still uses the secret alone', () => {
  // primitives.ts checks pairs before any DH; this pins what OpenSSL does if one slipped through.
  const a = nodeBackend.generateKeyPair();
  const other = nodeBackend.generateKeyPair();
  const peer = nodeBackend.generateKeyPair();
  assert.deepEqual(nodeBackend.x25519({ secretKey: a.secretKey, publicKey: other.publicKey }, peer.publicKey), nobleBackend.x25519(a, peer.publicKey));
});

test('returned arrays own their bytes (no pooled Buffer views)', () => {
  const out = nodeBackend.sha256(new Uint8Array(3));
  assert.equal(out.byteOffset, 0);
  assert.equal(out.buffer.byteLength, 32);
});

test('a generated key array that is wiped or overwritten is used with its new bytes, not the key it was made with', () => {
  const a = nodeBackend.generateKeyPair();
  const b = nobleBackend.generateKeyPair();
  const peer = nobleBackend.generateKeyPair();
  assert.deepEqual(nodeBackend.x25519(a, peer.publicKey), nobleBackend.x25519(a, peer.publicKey));
  a.secretKey.set(b.secretKey);
  assert.deepEqual(nodeBackend.x25519({ secretKey: a.secretKey, publicKey: b.publicKey }, peer.publicKey), nobleBackend.x25519(b, peer.publicKey));
});

test('static keys stay right past the number remembered (a bench process holds 500 devices)', () => {
  const keys = Array.from({ length: 1100 }, () => nobleBackend.generateKeyPair());
  const peer = nobleBackend.generateKeyPair();
  for (let round = 0; round < 2; round++) {
    for (const k of [keys[0]!, keys[1099]!, keys[550]!]) {
      assert.deepEqual(nodeBackend.x25519PublicKey(k.secretKey), k.publicKey);
      assert.deepEqual(nodeBackend.x25519(k, peer.publicKey), nobleBackend.x25519(k, peer.publicKey));
    }
    for (const k of keys) assert.deepEqual(nodeBackend.x25519PublicKey(k.secretKey), k.publicKey);
  }
});

test('making ephemeral keys never hangs the process (Node 20 deadlocks exporting a fresh key as JWK while a collection runs)', { timeout: 90_000 }, async () => {
  // A tiny young generation makes collections run during nearly every export: the JWK export
  // froze within a few thousand keys this way (a host froze so after a few thousand handshakes).
  const script = `const { nodeBackend } = await import(${JSON.stringify(new URL('./node-backend.ts', import.meta.url).href)});
for (let i = 0; i < 8000; i++) nodeBackend.generateKeyPair();
process.stdout.write('made');`;
  const { stdout } = await promisify(execFile)(process.execPath, ['--max-semi-space-size=1', '--import', 'tsx', '--input-type=module', '-e', script], {
    timeout: 60_000,
    killSignal: 'SIGKILL',
  }).catch((err: { killed?: boolean; stdout?: string }) => {
    assert.fail(err.killed ? 'the process hung making keys (killed after 60 s)' : `the process failed: ${String(err)}`);
  });
  assert.equal(stdout, 'made');
});
