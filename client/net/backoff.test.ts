import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createBackoff } from './backoff.ts';

test('doubles up to the cap, each delay between half and all of its ceiling', () => {
  const low = createBackoff({ initialMs: 100, maxMs: 1000, random: () => 0 });
  const high = createBackoff({ initialMs: 100, maxMs: 1000, random: () => 0.999999 });
  assert.deepEqual(
    Array.from({ length: 6 }, () => low.next()),
    [50, 100, 200, 400, 500, 500],
  );
  assert.deepEqual(
    Array.from({ length: 6 }, () => high.next()),
    [100, 200, 400, 800, 1000, 1000],
  );
});

test('reset starts over and counts attempts', () => {
  const b = createBackoff({ initialMs: 100, maxMs: 1000, random: () => 0 });
  b.next();
  b.next();
  assert.equal(b.attempts, 2);
  b.reset();
  assert.equal(b.attempts, 0);
  assert.equal(b.next(), 50);
});

test('refuses nonsense bounds', () => {
  assert.throws(() => createBackoff({ initialMs: 0 }), RangeError);
  assert.throws(() => createBackoff({ initialMs: 10, maxMs: 5 }), RangeError);
});
