import { test } from 'node:test';
import assert from 'node:assert/strict';
import { percentile, summarize } from './stats.ts';

test('percentiles are nearest-rank: always a sample that was observed', () => {
  const samples = Array.from({ length: 100 }, (_, i) => 100 - i); // 100 … 1, unsorted on purpose
  assert.deepEqual(summarize(samples), { count: 100, median: 50, p99: 99, max: 100 });
  assert.equal(percentile([7], 99), 7);
  assert.ok(Number.isNaN(percentile([], 50)));
});
