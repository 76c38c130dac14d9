import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createConnectionStore } from './connection.ts';

test('starts offline with a reason', () => {
  const c = createConnectionStore({ now: () => 1 });
  assert.equal(c.state.status, 'offline');
  assert.match(c.state.reason, /paired/);
});

test('named actions move the status and stamp the time of a status change only', () => {
  let t = 10;
  const c = createConnectionStore({ now: () => t });
  t = 20;
  c.connecting();
  assert.deepEqual({ ...c.state }, { status: 'connecting', reason: 'Reaching your computer', since: 20 });
  t = 30;
  c.connecting('Still trying');
  assert.deepEqual({ ...c.state }, { status: 'connecting', reason: 'Still trying', since: 20 });
  c.connected();
  assert.equal(c.state.status, 'connected');
  assert.equal(c.state.since, 30);
  c.reconnecting('Connection lost');
  assert.equal(c.state.reason, 'Connection lost');
});
