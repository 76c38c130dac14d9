import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHosts } from './hosts.ts';
import { pairedHost, welcomeOf } from './test-records.ts';
import { createWithDb } from './with-db.ts';

const host = pairedHost();
const welcome = welcomeOf();

test('a welcome that tells nothing new writes nothing and leaves the stored computer as it was', async () => {
  const puts: unknown[] = [];
  // Only `put` exists: every other storage call fails, and the store carries on from memory.
  const withDb = createWithDb(async () => ({ put: async (_store: string, value: unknown) => void puts.push(value) }) as never);
  const hosts = createHosts({ withDb, origin: 'http://desk:1', activate: async (hostId) => hosts.select(hostId) });
  await hosts.add(host);
  const settle = () => new Promise((r) => setTimeout(r, 10));
  hosts.learn(welcome);
  await settle();
  const learned = hosts.active();
  assert.deepEqual(learned!.scopes, ['read']);
  const written = puts.length;
  assert.ok(written > 0, 'what the first welcome taught was stored');
  hosts.learn(welcome);
  await settle();
  assert.equal(puts.length, written, 'the same welcome again: no write');
  assert.equal(hosts.active(), learned, 'and the same record');
  hosts.learn({ ...welcome, scopes: ['read', 'run'] });
  await settle();
  assert.equal(puts.length, written + 1);
  assert.deepEqual(hosts.active()!.scopes, ['read', 'run']);
});
