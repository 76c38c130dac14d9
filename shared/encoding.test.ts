/**
 * Independent checks: RFC 4648 §10 vectors, Node's Buffer for base64url, and RFC 4648 base32
 * vectors re-spelled in Crockford's alphabet (same bit packing, different symbols).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomFillSync } from 'node:crypto';
import { fromBase32, fromBase64url, fromHex, toBase32, toBase64url, toHex } from './encoding.ts';

const ascii = (s: string) => new TextEncoder().encode(s);
const RFC4648_BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const toCrockford = (rfc: string) => [...rfc].map((c) => CROCKFORD[RFC4648_BASE32.indexOf(c)]).join('');

test('RFC 4648 §10 vectors', () => {
  const vectors: [string, string, string][] = [
    ['', '', ''],
    ['f', 'Zg', 'MY'],
    ['fo', 'Zm8', 'MZXQ'],
    ['foo', 'Zm9v', 'MZXW6'],
    ['foob', 'Zm9vYg', 'MZXW6YQ'],
    ['fooba', 'Zm9vYmE', 'MZXW6YTB'],
    ['foobar', 'Zm9vYmFy', 'MZXW6YTBOI'],
  ];
  for (const [plain, b64, b32] of vectors) {
    assert.equal(toBase64url(ascii(plain)), b64);
    assert.deepEqual(fromBase64url(b64), ascii(plain));
    assert.equal(toBase32(ascii(plain)), toCrockford(b32));
    assert.deepEqual(fromBase32(toCrockford(b32)), ascii(plain));
    assert.equal(toHex(ascii(plain)), Buffer.from(plain).toString('hex'));
  }
  assert.equal(toBase32(ascii('foobar')), 'CSQPYRK1E8');
});

test('random round trips, cross-checked with Buffer', () => {
  for (let n = 0; n < 70; n++) {
    const bytes = randomFillSync(new Uint8Array(n));
    assert.equal(toHex(bytes), Buffer.from(bytes).toString('hex'));
    assert.equal(toBase64url(bytes), Buffer.from(bytes).toString('base64url'));
    assert.deepEqual(fromHex(toHex(bytes)), bytes);
    assert.deepEqual(fromHex(toHex(bytes).toUpperCase()), bytes);
    assert.deepEqual(fromBase64url(toBase64url(bytes)), bytes);
    assert.deepEqual(fromBase32(toBase32(bytes)), bytes);
    assert.deepEqual(fromBase32(toBase32(bytes).toLowerCase()), bytes);
  }
});

test('base32 decoding forgives what people type', () => {
  assert.deepEqual(fromBase32('csqp-yrk1 e8'), ascii('foobar'));
  // "10" encodes 0x08, "00" encodes 0x00: I and L read as 1, O as 0.
  assert.deepEqual(fromBase32('10'), Uint8Array.of(8));
  assert.deepEqual(fromBase32('i0'), Uint8Array.of(8));
  assert.deepEqual(fromBase32('L0'), Uint8Array.of(8));
  assert.deepEqual(fromBase32('oO'), Uint8Array.of(0));
});

test('bad input gives errors naming the field and position', () => {
  assert.throws(() => fromBase32('CSQPU', 'pairingCode'), {
    name: 'RangeError',
    message: /pairingCode: invalid character "U" at position 4/,
  });
  assert.throws(() => fromBase32('C'), { name: 'RangeError', message: /1 characters is not a valid length/ });
  // "CS" is "f"; "CT" differs only in the 2 padding bits, which must be zero.
  assert.throws(() => fromBase32('CT'), /non-zero padding bits/);
  assert.throws(() => fromBase64url('Zm8='), /invalid character "=" at position 3/);
  assert.throws(() => fromBase64url('Zm+v'), /invalid character "\+"/);
  assert.throws(() => fromBase64url('Zm9vY'), /not a valid length/);
  assert.throws(() => fromBase64url('Zh'), /non-zero padding bits/);
  assert.throws(() => fromHex('abc'), /even number of digits/);
  assert.throws(() => fromHex('zz', 'key'), /key: invalid character "z" at position 0/);
  assert.throws(() => fromHex(5 as unknown as string), TypeError);
  assert.throws(() => toHex('ab' as unknown as Uint8Array), TypeError);
});
