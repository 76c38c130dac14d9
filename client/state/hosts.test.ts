import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Welcome } from '../../shared/channel/client.ts';
import type { HostRecord } from '../storage/db.ts';
import { createHosts } from './hosts.ts';
import { createWithDb } from './with-db.ts';

const key = () => new Uint8Array(32).fill(1);
const host: HostRecord = {
  hostId: 'H1',
  label: 'Desk',
  name: 'desk',
  pairedAt: 1,
  hostKey: key(),
  deviceKey: { publicKey: key(), secretKey: key() },
  deviceId: 'd1',
  addresses: ['http://desk:1'],
  scopes: ['read', 'run', 'approve'],
  workspaces: ['/w'],
};
const welcome: Welcome = {
  t: 'welcome',
  host: { hostId: 'H1', name: 'desk', version: '9.9.9', addresses: ['http://desk.local:1'] },
  deviceId: 'd1',
  scopes: ['read'],
  workspaces: ['/w'],
  runtime: { state: 'ready', version: '1.18.33' },
  protocol: 1,
  epoch: 'e',
  resumed: false,
};

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
