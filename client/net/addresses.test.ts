import { test } from 'node:test';
import assert from 'node:assert/strict';
import { candidateAddresses, stableOriginElsewhere, unlistedOrigin } from './addresses.ts';

const HOST = ['https://desk.local:8787', 'https://192.168.1.20:8787'];

test('the page’s own origin is tried first; an https page skips http addresses', () => {
  assert.deepEqual(candidateAddresses(HOST, 'https://192.168.1.20:8787'), [HOST[1], HOST[0]]);
  assert.deepEqual(candidateAddresses(['http://desk.local:8787', ...HOST], 'https://desk.local:8787'), HOST);
});

test('a pairing link is for the host’s stable origin: say so when the page is elsewhere', () => {
  assert.equal(stableOriginElsewhere(HOST, 'https://desk.local:8787'), undefined);
  assert.equal(stableOriginElsewhere(HOST, 'https://192.168.1.20:8787'), 'https://desk.local:8787', 'listed, but not the stable one');
  assert.equal(stableOriginElsewhere(['https://desk.local:8787/'], 'http://desk.local:8787'), 'https://desk.local:8787', 'another scheme is another origin');
  assert.equal(stableOriginElsewhere([], 'https://x'), undefined);
  assert.equal(stableOriginElsewhere(['not a url'], 'https://x'), undefined);
});

test('a page at an address the host does not list learns the stable one', () => {
  assert.equal(unlistedOrigin(HOST, 'https://192.168.1.20:8787'), undefined);
  assert.equal(unlistedOrigin(HOST, 'https://192.168.1.21:8787'), 'https://desk.local:8787');
  assert.equal(unlistedOrigin([], 'https://x'), undefined);
});
