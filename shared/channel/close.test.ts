import { test } from 'node:test';
import assert from 'node:assert/strict';
import { closeErrorCode, closeFor, truncateUtf8 } from './close.ts';

test('closeFor: code and "<error>: <text>", within 123 bytes', () => {
  assert.deepEqual(closeFor('device.revoked', 'this device was removed from the host'), {
    code: 4403,
    reason: 'device.revoked: this device was removed from the host',
  });
  assert.equal(closeFor('pair.declined').code, 4410);
  assert.equal(closeFor('frame.auth').code, 4400);
  assert.equal(closeFor('host.shutting-down').code, 1001);
  const long = closeFor('protocol.invalid', 'é'.repeat(200));
  assert.ok(new TextEncoder().encode(long.reason).length <= 123);
  assert.match(long.reason, /^protocol\.invalid: é+$/);
});

test('closeErrorCode reads the code back, or nothing', () => {
  assert.equal(closeErrorCode('pair.used: the offer was used already'), 'pair.used');
  assert.equal(closeErrorCode('whatever'), undefined);
  assert.equal(closeErrorCode(''), undefined);
});

test('truncateUtf8 never splits a character', () => {
  assert.equal(truncateUtf8('aé', 2), 'a');
  assert.equal(truncateUtf8('abc', 3), 'abc');
});
