import { test } from 'node:test';
import assert from 'node:assert/strict';
import { additionDiff, diffStats, parseDiff } from './diff.ts';

test('parses a unified diff, dropping headers', () => {
  const lines = parseDiff('Index: a.txt\n===\n--- a.txt\n+++ a.txt\n@@ -1,2 +1,2 @@\n keep\n-old\n+new\n');
  assert.deepEqual(lines, [
    { kind: 'hunk', text: '@@ -1,2 +1,2 @@' },
    { kind: 'ctx', text: 'keep' },
    { kind: 'del', text: 'old' },
    { kind: 'add', text: 'new' },
  ]);
  assert.deepEqual(diffStats(lines), { additions: 1, deletions: 1 });
});

test('a written file shows as added lines', () => {
  assert.deepEqual(additionDiff('a\nb\n'), [
    { kind: 'add', text: 'a' },
    { kind: 'add', text: 'b' },
  ]);
});
