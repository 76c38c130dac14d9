import { test } from 'node:test';
import assert from 'node:assert/strict';
import { newSecret, parseBasicAuth, secretHash, secretMatches } from './credentials.ts';

test('a secret is 256 random bits in 43 base64url characters; only its SHA-256 is kept', () => {
  const a = newSecret();
  assert.match(a, /^[A-Za-z0-9_-]{43}$/);
  assert.notEqual(a, newSecret());
  const hash = secretHash(a);
  assert.match(hash, /^[A-Za-z0-9_-]{43}$/);
  assert.ok(!hash.includes(a));
  assert.ok(secretMatches({ secretHash: hash }, a));
  assert.ok(!secretMatches({ secretHash: hash }, `${a}x`));
  assert.ok(!secretMatches({ secretHash: hash }, ''));
  assert.ok(!secretMatches({}, a), 'a phone has no secret');
});

test('no secret starts with "-", which a command line would read as options', () => {
  // Without the rule about 156 of these would.
  const leading = Array.from({ length: 10_000 }, () => newSecret()[0]);
  assert.ok(!leading.includes('-'));
  assert.ok(leading.includes('_'), 'the rest of the alphabet is still used');
});

test('basic auth: user and password split at the first colon; anything else is not basic auth', () => {
  const header = (s: string) => `Basic ${Buffer.from(s).toString('base64')}`;
  assert.deepEqual(parseBasicAuth(header('abc:p:w')), { user: 'abc', password: 'p:w' });
  assert.deepEqual(parseBasicAuth(header('abc:')), { user: 'abc', password: '' });
  assert.equal(parseBasicAuth(header('no-colon')), undefined);
  assert.equal(parseBasicAuth('Bearer x'), undefined);
  assert.equal(parseBasicAuth(''), undefined);
  assert.equal(parseBasicAuth('Basic !!!'), undefined);
});
