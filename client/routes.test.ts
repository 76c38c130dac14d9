import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatRoute, parseRoute } from './routes.ts';

test('parses every screen and round-trips through formatRoute', () => {
  for (const r of [{ name: 'pair' }, { name: 'pair', param: 'AB12-CD34' }, { name: 'sessions' }, { name: 'session', param: 'ses 1/2' }, { name: 'settings' }] as const) {
    assert.deepEqual(parseRoute(formatRoute(r)), r);
  }
});

test('rejects empty, unknown and malformed fragments', () => {
  for (const h of ['', '#', '#/', '#/nope', '#/session', '#/settings/x', '#/session/a/b', '#/session/%E0%A4%A', '#/__proto__', '#/toString']) {
    assert.equal(parseRoute(h), null, h);
  }
});

test('accepts a fragment without the leading slash', () => {
  assert.deepEqual(parseRoute('#settings'), { name: 'settings' });
});
