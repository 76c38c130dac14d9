import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pairLinkAt, takePairLink } from './pair-link.ts';

test('a pairing link is taken out of the address bar and handed over', () => {
  const replaced: string[] = [];
  const win = { location: { hash: '#pair=abc' }, history: { state: null, replaceState: (_s: unknown, _t: string, url: string) => replaced.push(url) } };
  assert.equal(takePairLink(win as unknown as Window), 'pair=abc');
  assert.deepEqual(replaced, ['#/pair']);
  assert.equal(takePairLink({ ...win, location: { hash: '#/sessions' } } as unknown as Window), undefined);
});

test('the same link at another origin keeps the offer as it is', () => {
  assert.equal(pairLinkAt('https://desk.local:8787', 'pair=abc'), 'https://desk.local:8787/#pair=abc');
  assert.equal(pairLinkAt('https://desk.local:8787/', 'http://192.168.1.20:8787/#pair=abc'), 'https://desk.local:8787/#pair=abc');
  assert.throws(() => pairLinkAt('https://x', '#/sessions'), RangeError);
});
