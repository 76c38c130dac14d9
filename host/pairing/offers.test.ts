import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPair } from '../../shared/noise/primitives.ts';
import { parsePairLink, parseTypedCode } from '../../shared/pairing/link.ts';
import { codeSecretBytes, pairingPsk } from '../../shared/pairing/keys.ts';
import { createOfferStore } from './offers.ts';

const hostKey = generateKeyPair().publicKey;

test('an offer makes a link and a typed code that lead back to it', (t) => {
  const store = createOfferStore({ hostKey });
  t.after(() => store.close());
  const offer = store.create();
  assert.equal(offer.expiresAt - offer.createdAt, 5 * 60_000);
  const link = parsePairLink(store.link(offer, { origin: 'http://h.local:8080', addresses: ['http://h.local:8080'], hostName: 'h' }));
  assert.equal(link.offerId, offer.id);
  assert.deepEqual(link.secret, offer.secret);
  assert.deepEqual(link.hostKey, hostKey);
  assert.equal(link.expiresAt, Math.ceil(offer.expiresAt / 1000));
  const code = parseTypedCode(store.typedCode(offer));
  assert.equal(code.offerId, offer.codeId);
  assert.equal(code.secret, offer.codeSecret);
});

test('claim by link id gives the link psk and uses the offer up; a second claim is "used"', (t) => {
  const store = createOfferStore({ hostKey });
  t.after(() => store.close());
  const offer = store.create();
  const expected = pairingPsk(offer.secret);
  const c = store.claim(offer.id);
  assert.equal(c.ok, true);
  assert.deepEqual(c.ok && c.psk, expected);
  assert.equal(c.ok && c.via, 'link');
  assert.ok(
    offer.secret.every((b) => b === 0),
    'the secret is wiped once used',
  );
  assert.deepEqual(store.claim(offer.id), { ok: false, reason: 'pair.used' });
  assert.deepEqual(store.claim(offer.codeId), { ok: false, reason: 'pair.used' }, 'the typed code went with it');
  assert.deepEqual(store.active(), []);
});

test('claim by typed-code id gives the code psk', (t) => {
  const store = createOfferStore({ hostKey });
  t.after(() => store.close());
  const offer = store.create();
  const c = store.claim(offer.codeId);
  assert.equal(c.ok && c.via, 'code');
  assert.deepEqual(c.ok && c.psk, pairingPsk(codeSecretBytes(offer.codeSecret)));
});

test('unknown and expired offers are refused with their reason; expiry leaves no secret', async (t) => {
  let clock = 1_000_000;
  const store = createOfferStore({ hostKey, now: () => clock });
  t.after(() => store.close());
  assert.deepEqual(store.claim('nope'), { ok: false, reason: 'pair.unknown' });
  const a = store.create({ ttlMs: 1000 });
  clock += 1000;
  assert.deepEqual(store.claim(a.id), { ok: false, reason: 'pair.expired' });
  assert.ok(a.secret.every((b) => b === 0));
  const b = store.create({ ttlMs: 20 }); // expires by its timer
  await new Promise((r) => setTimeout(r, 60));
  assert.deepEqual(store.active(), []);
  assert.ok(b.secret.every((x) => x === 0));
  assert.deepEqual(store.claim(b.codeId), { ok: false, reason: 'pair.expired' });
  clock += 60 * 60_000 + 1;
  assert.deepEqual(store.claim(b.id), { ok: false, reason: 'pair.unknown' }, 'ids are forgotten after an hour');
});

test('limits failed attempts per address and claims per offer; counters', (t) => {
  const store = createOfferStore({ hostKey, perAddress: 2, perOffer: 3 });
  t.after(() => store.close());
  // Attempts that reach the person at the host (approved, declined) are no failures.
  for (const outcome of ['approved', 'declined', 'approved', 'abandoned'] as const) {
    assert.equal(store.admit('1.2.3.4'), true);
    store.record(outcome, '1.2.3.4');
  }
  store.record('unknown', '1.2.3.4');
  assert.equal(store.admit('1.2.3.4'), true);
  store.record('handshake-failed', '1.2.3.4');
  assert.deepEqual([store.admit('1.2.3.4'), store.admit('5.6.7.8')], [false, true]);
  assert.equal(store.counters.attempts, 7);
  const results = [1, 2, 3, 4].map(() => store.claim('guess'));
  assert.deepEqual(
    results.map((r) => !r.ok && r.reason),
    ['pair.unknown', 'pair.unknown', 'pair.unknown', 'pair.rate-limited'],
  );
  assert.equal(store.counters.outcomes.declined, 1);
  assert.equal(store.counters.outcomes.approved, 2);
});
