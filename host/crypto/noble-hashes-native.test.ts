import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes as nodeRandomBytes } from 'node:crypto';
import { hkdf as nobleHkdf } from '@noble/hashes/hkdf.js';
import { hmac as nobleHmac } from '@noble/hashes/hmac.js';
import { sha256 as nobleSha256, sha512 } from '@noble/hashes/sha2.js';
import { hkdf, hmac, randomBytes, sha256 } from './noble-hashes-native.ts';

const bytes = (n: number) => new Uint8Array(nodeRandomBytes(n));

test("the host's stand-ins for noble's hashes give noble's answers", () => {
  for (const n of [0, 1, 32, 64, 65, 1000]) {
    const data = bytes(n);
    const key = bytes((n % 70) + 1);
    assert.deepEqual(sha256(data), nobleSha256(data), `sha256 of ${n} bytes`);
    assert.deepEqual(hmac(sha256, key, data), nobleHmac(nobleSha256, key, data), `hmac of ${n} bytes`);
    for (const length of [16, 32, 100]) {
      const salt = n % 2 ? bytes(32) : undefined;
      const info = n % 3 ? bytes(n % 40) : undefined;
      assert.deepEqual(hkdf(sha256, data, salt, info, length), nobleHkdf(nobleSha256, data, salt, info, length), `hkdf of ${n} bytes to ${length}`);
    }
  }
  assert.equal(randomBytes(48).length, 48);
  assert.equal(randomBytes().length, 32);
  assert.notDeepEqual(randomBytes(), randomBytes());
});

test('asked for another hash than SHA-256, they refuse instead of answering wrong', () => {
  assert.throws(() => hmac(sha512, bytes(32), bytes(8)), /SHA-256 only/);
  assert.throws(() => hkdf(sha512, bytes(32), undefined, undefined, 32), /SHA-256 only/);
});
