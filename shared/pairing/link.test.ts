import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPair, randomBytes } from '../noise/primitives.ts';
import { toBase64url } from '../encoding.ts';
import { OfferError, buildPairLink, buildTypedCode, checkCodeHostKey, parsePairLink, parseTypedCode, relaySocketUrl, type PairLink } from './link.ts';
import { codeFingerprintOf, codeOfferId, hostIdOf, pairingPsk } from './keys.ts';

const hostKey = generateKeyPair().publicKey;
const sample = (over: Partial<PairLink> = {}): PairLink => ({
  hostKey,
  offerId: 'abcdEFGH12345678',
  secret: randomBytes(32),
  addresses: ['http://host.local:8080', 'http://192.168.1.2:8080'],
  hostName: 'studio',
  expiresAt: Math.floor(Date.now() / 1000) + 300,
  ...over,
});

test('a link round-trips, from the whole URL or just the fragment', () => {
  const link = sample();
  const url = buildPairLink('http://host.local:8080/', link);
  assert.match(url, /^http:\/\/host\.local:8080\/#pair=[A-Za-z0-9_-]+$/);
  assert.deepEqual(parsePairLink(url), link);
  assert.deepEqual(parsePairLink(url.slice(url.indexOf('#'))), link);
});

test('malformed and expired links are refused with the reason', () => {
  const expect = (text: string, reason: string, re: RegExp) =>
    assert.throws(
      () => parsePairLink(text),
      (e: unknown) => e instanceof OfferError && e.reason === reason && re.test(e.message),
    );
  expect('http://host.local/', 'malformed', /not a pairing link/);
  expect('#pair=!!!', 'malformed', /damaged .*invalid character/);
  const url = buildPairLink('http://h', sample());
  expect(url.slice(0, -6), 'malformed', /damaged/);
  const json = (o: object) => `#pair=${toBase64url(new TextEncoder().encode(JSON.stringify(o)))}`;
  const good = JSON.parse(new TextDecoder().decode(Buffer.from(url.split('pair=')[1]!, 'base64url')));
  expect(json({ ...good, v: 2 }), 'malformed', /version 2 is not supported/);
  expect(json({ ...good, k: 'AAAA' }), 'malformed', /link\.k: expected a 32-byte key/);
  expect(json({ ...good, o: undefined }), 'malformed', /link\.o: expected a string/);
  expect(buildPairLink('http://h', sample({ expiresAt: Math.floor(Date.now() / 1000) - 1 })), 'expired', /expired; press p/);
});

test('typed code: fingerprint then secret, forgiving input, strict length and alphabet', () => {
  const secret = '0123456789';
  const code = buildTypedCode(hostKey, secret);
  assert.match(code, /^([0-9A-HJKMNP-TV-Z]{4}-){4}[0-9A-HJKMNP-TV-Z]{4}$/);
  assert.equal(code.replace(/-/g, '').slice(0, 10), codeFingerprintOf(hostKey));
  assert.equal(hostIdOf(hostKey).slice(0, 10), codeFingerprintOf(hostKey), 'the code starts with the host id');
  const parsed = parseTypedCode(code.toLowerCase().replace(/-/g, ' ').replace(/1/g, 'l').replace(/0/g, 'o'));
  assert.deepEqual(parsed, { fingerprint: codeFingerprintOf(hostKey), secret, offerId: codeOfferId(secret) });
  assert.match(parsed.offerId, /^[A-Za-z0-9_-]{16}$/);
  assert.throws(() => parseTypedCode(code.slice(0, -1)), /has 19 characters, expected 20/);
  assert.throws(() => parseTypedCode(`${code}A`), /has 21 characters, expected 20/);
  assert.throws(
    () => parseTypedCode(`${code.slice(0, -1)}U`),
    (e: unknown) => e instanceof OfferError && /invalid character "U"/.test(e.message),
  );
  assert.throws(() => buildTypedCode(hostKey, 'short'), /codeSecret/);
});

test('checkCodeHostKey refuses a key with another fingerprint', () => {
  const code = parseTypedCode(buildTypedCode(hostKey, 'ABCDEFGHJK'));
  checkCodeHostKey(code, hostKey);
  assert.throws(
    () => checkCodeHostKey(code, generateKeyPair().publicKey),
    (e: unknown) => e instanceof OfferError && e.reason === 'host-mismatch',
  );
});

test('derivations are deterministic and separate', () => {
  const s = randomBytes(32);
  assert.deepEqual(pairingPsk(s), pairingPsk(s.slice()));
  assert.notDeepEqual(pairingPsk(s), pairingPsk(randomBytes(32)));
  assert.equal(pairingPsk(s).length, 32);
  assert.match(hostIdOf(hostKey), /^[0-9A-HJKMNP-TV-Z]{16}$/);
});

test('relaySocketUrl maps http(s) to ws(s) and appends /relay', () => {
  assert.equal(relaySocketUrl('http://host.local:8080'), 'ws://host.local:8080/relay');
  assert.equal(relaySocketUrl('https://x.example/base/'), 'wss://x.example/base/relay');
  assert.equal(relaySocketUrl('ws://127.0.0.1:1'), 'ws://127.0.0.1:1/relay');
  assert.throws(() => relaySocketUrl('ftp://x'), /expected http/);
});
