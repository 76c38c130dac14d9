import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRateLimiter } from './rate-limit.ts';

test('allows `limit` attempts per key in the window, then refuses until it slides', () => {
  let t = 0;
  const rl = createRateLimiter({ limit: 3, windowMs: 1000, now: () => t });
  assert.deepEqual([rl.take('a'), rl.take('a'), rl.take('a'), rl.take('a')], [true, true, true, false]);
  assert.equal(rl.take('b'), true, 'keys are independent');
  t = 999;
  assert.equal(rl.take('a'), false);
  t = 1000;
  assert.equal(rl.take('a'), true, 'the first attempts left the window');
});

test('forgets the least recently used key beyond maxKeys', () => {
  const rl = createRateLimiter({ limit: 1, windowMs: 1000, now: () => 0, maxKeys: 2 });
  assert.equal(rl.take('a'), true);
  assert.equal(rl.take('b'), true);
  assert.equal(rl.take('c'), true); // evicts 'a'
  assert.equal(rl.take('a'), true);
  assert.equal(rl.take('c'), false);
});
