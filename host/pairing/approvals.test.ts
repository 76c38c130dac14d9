import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createApprovals, type PendingApproval } from './approvals.ts';

const req = (over: Partial<PendingApproval> = {}) => ({
  name: 'Phone',
  platform: 'iOS',
  code: '123456',
  remoteAddress: '10.0.0.2',
  expiresAt: Date.now() + 60_000,
  ...over,
});

test('approve settles with the default scopes and leaves the queue', async () => {
  const a = createApprovals();
  const seen: number[] = [];
  a.onChange((l) => seen.push(l.length));
  const { id, decision } = a.request(req());
  assert.equal(a.list().length, 1);
  assert.equal(a.list()[0]!.code, '123456');
  assert.equal(a.approve(id), true);
  assert.deepEqual(await decision, { approved: true, scopes: ['read', 'run', 'approve'] });
  assert.deepEqual(a.list(), []);
  assert.deepEqual(seen, [1, 0]);
  assert.equal(a.approve(id), false, 'a decided request cannot be decided again');
  assert.equal(a.decline(id), false);
});

test('approve with fewer scopes, decline, cancel', async () => {
  const a = createApprovals();
  const one = a.request(req());
  const two = a.request(req());
  const three = a.request(req());
  assert.throws(() => a.approve(one.id, ['root' as never]), /unknown scope/);
  a.approve(one.id, ['read']);
  a.decline(two.id);
  a.cancel(three.id);
  assert.deepEqual(await one.decision, { approved: true, scopes: ['read'] });
  assert.deepEqual(await two.decision, { approved: false, reason: 'declined' });
  assert.deepEqual(await three.decision, { approved: false, reason: 'cancelled' });
});

test('a request nobody answers expires with its offer', async () => {
  const a = createApprovals();
  const { decision } = a.request(req({ expiresAt: Date.now() + 20 }));
  assert.deepEqual(await decision, { approved: false, reason: 'expired' });
  assert.deepEqual(a.list(), []);
});

test('close cancels everything waiting', async () => {
  const a = createApprovals();
  const { decision } = a.request(req());
  a.close();
  assert.deepEqual(await decision, { approved: false, reason: 'cancelled' });
});
