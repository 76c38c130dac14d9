import { test } from 'node:test';
import assert from 'node:assert/strict';
import { showPairingOffer } from './qr.ts';

const offer = { link: 'http://h.local:8787/#pair=abc', code: 'ABCD-EFGH-JKMN-PQRS-TVWX', origin: 'http://h.local:8787', expiresAt: 10 * 60_000 };

function sink(isTTY: boolean) {
  const chunks: string[] = [];
  return { chunks, out: { isTTY, write: (s: string) => chunks.push(s) } };
}

test('without a terminal: the link and the code as text, no QR', async () => {
  const { chunks, out } = sink(false);
  await showPairingOffer(offer, out, 5 * 60_000);
  const text = chunks.join('');
  assert.match(text, /open this link on it:\n {2}http:\/\/h\.local:8787\/#pair=abc\n/);
  assert.match(text, /type this code:\n {2}ABCD-EFGH-JKMN-PQRS-TVWX\n/);
  assert.match(text, /expires in 5 min/);
  assert.doesNotMatch(text, /[▀▄█]/);
});

test('in a terminal: a QR code as well', async () => {
  const { chunks, out } = sink(true);
  await showPairingOffer(offer, out, 5 * 60_000);
  const text = chunks.join('');
  assert.match(text, /scan this QR code/);
  assert.match(text, /[▀▄█]/);
  assert.match(text, /#pair=abc/);
  assert.match(text, /ABCD-EFGH-JKMN-PQRS-TVWX/);
});
