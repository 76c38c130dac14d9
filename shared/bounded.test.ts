import { test } from 'node:test';
import assert from 'node:assert/strict';
import { trimOldest } from './bounded.ts';

test('a map keeps its newest entries, in insertion order', () => {
  const map = new Map([
    ['a', 1],
    ['b', 2],
    ['c', 3],
  ]);
  map.set('d', 4);
  trimOldest(map, 3);
  assert.deepEqual([...map.keys()], ['b', 'c', 'd']);
});

test('a set is trimmed by the same rule, several entries at once when needed', () => {
  const set = new Set(['a', 'b', 'c', 'd', 'e']);
  trimOldest(set, 2);
  assert.deepEqual([...set], ['d', 'e']);
  trimOldest(set, 5);
  assert.deepEqual([...set], ['d', 'e']);
});
