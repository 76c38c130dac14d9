import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ipBytes, namedBits, oid, smallInteger, time, tlv, unsignedInteger } from './der.ts';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

test('lengths use the short form below 128 bytes and the long form from 128', () => {
  assert.equal(hex(tlv(0x04, Buffer.alloc(127))).slice(0, 4), '047f');
  assert.equal(hex(tlv(0x04, Buffer.alloc(128))).slice(0, 6), '048180');
  assert.equal(hex(tlv(0x04, Buffer.alloc(300))).slice(0, 8), '0482012c');
});

test('integers are minimal and positive', () => {
  assert.equal(hex(smallInteger(0)), '020100');
  assert.equal(hex(smallInteger(2)), '020102');
  assert.equal(hex(smallInteger(128)), '02020080', 'a leading zero keeps the high bit from meaning negative');
  assert.equal(hex(unsignedInteger(Buffer.from([0, 0, 0x7f]))), '02017f', 'leading zero bytes are dropped');
  assert.throws(() => smallInteger(-1), RangeError);
});

test('object identifiers are written in base 128', () => {
  assert.equal(hex(oid('1.2.840.10045.4.3.2')), '06082a8648ce3d040302'); // ecdsa-with-SHA256
  assert.equal(hex(oid('2.5.29.17')), '0603551d11');
  assert.throws(() => oid('1'), RangeError);
});

test('named bits drop trailing zero bits and say how many are unused', () => {
  assert.equal(hex(namedBits([0])), '03020780', 'digitalSignature');
  assert.equal(hex(namedBits([0, 5, 6])), '03020186', 'digitalSignature, keyCertSign, cRLSign');
  assert.equal(hex(namedBits([8])), '0303070080');
});

test('times are UTCTime through 2049 and GeneralizedTime from 2050, in whole UTC seconds', () => {
  assert.equal(time(new Date('2026-05-01T12:34:56.789Z')).toString('latin1').slice(2), '260501123456Z');
  assert.equal(time(new Date('2026-05-01T12:34:56Z'))[0], 0x17);
  assert.equal(time(new Date('2050-01-01T00:00:00Z')).toString('latin1').slice(2), '20500101000000Z');
  assert.equal(time(new Date('2050-01-01T00:00:00Z'))[0], 0x18);
});

test('IP addresses become their 4 or 16 bytes', () => {
  assert.equal(hex(ipBytes('192.168.1.20')), 'c0a80114');
  assert.equal(hex(ipBytes('::1')), '00000000000000000000000000000001');
  assert.equal(hex(ipBytes('2001:db8::1:2')), '20010db8000000000000000000010002');
  assert.equal(hex(ipBytes('fd00:1:2:3:4:5:6:7')), 'fd000001000200030004000500060007');
  assert.equal(hex(ipBytes('::ffff:192.168.1.20')), '00000000000000000000ffffc0a80114');
  assert.throws(() => ipBytes('relay.local'), RangeError);
});
