import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createConnectionStore, statusSummary } from './connection.ts';

test('starts unpaired (not offline) with a reason', () => {
  const c = createConnectionStore({ now: () => 1 });
  assert.equal(c.state.status, 'unpaired');
  assert.match(c.state.reason, /paired/);
  assert.equal(statusSummary(c.state).label, 'Not paired');
});

test('a pairing under way shows as Pairing, whatever the link does, until it ends', () => {
  const c = createConnectionStore({ now: () => 1 });
  c.pairing('vm:8080');
  assert.equal(statusSummary(c.state).label, 'Pairing');
  c.offline('This phone is offline');
  assert.equal(statusSummary(c.state).label, 'Pairing');
  c.pairing(undefined);
  assert.equal(statusSummary(c.state).label, 'Offline');
});

test('named actions move the status and stamp the time of a status change only', () => {
  let t = 10;
  const c = createConnectionStore({ now: () => t });
  t = 20;
  c.connecting();
  assert.deepEqual({ ...c.state }, { status: 'connecting', reason: 'Reaching your computer', since: 20, queued: 0, failed: 0, catchingUp: false });
  t = 30;
  c.connecting('Still trying');
  assert.deepEqual({ ...c.state }, { status: 'connecting', reason: 'Still trying', since: 20, queued: 0, failed: 0, catchingUp: false });
  c.connected();
  assert.equal(c.state.status, 'connected');
  assert.equal(c.state.since, 30);
  c.reconnecting('Connection lost');
  assert.equal(c.state.reason, 'Connection lost');
});

test('the summary says catching up only while connected, and counts the outbox', () => {
  const c = createConnectionStore({ now: () => 1 });
  c.outbox({ queued: 2, failed: 0 });
  c.catchingUp(true);
  assert.equal(c.state.catchingUp, false, 'not connected: nothing to catch up with');
  assert.deepEqual(statusSummary(c.state), { label: 'Not paired', extra: '2 queued' });
  c.connected();
  c.catchingUp(true);
  assert.deepEqual(statusSummary(c.state), { label: 'Catching up', extra: '2 queued' });
  c.outbox({ queued: 0, failed: 1 });
  c.catchingUp(false);
  assert.deepEqual(statusSummary(c.state), { label: 'Connected', extra: '1 not sent' });
  c.catchingUp(true);
  c.reconnecting('Connection lost');
  assert.equal(c.state.catchingUp, false, 'a lost connection ends catching up');
  assert.equal(c.state.reason, 'Connection lost', 'the reason for being offline stays');
});
