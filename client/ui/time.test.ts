import { test } from 'node:test';
import assert from 'node:assert/strict';
import { duration, timeAgo } from './time.ts';

test('time ago and durations read naturally', () => {
  const now = 1_000_000_000;
  assert.equal(timeAgo(now - 10_000, now), 'just now');
  assert.equal(timeAgo(now - 5 * 60_000, now), '5 min ago');
  assert.equal(timeAgo(now - 3 * 3600_000, now), '3 h ago');
  assert.equal(timeAgo(now - 86400_000, now), '1 day ago');
  assert.equal(duration(42), '42 s');
  assert.equal(duration(3 * 3600 + 20 * 60), '3 h 20 min');
  assert.equal(duration(50 * 3600), '2 days 2 h');
});
