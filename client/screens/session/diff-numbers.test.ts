import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseDiff } from '../../ui/diff.ts';
import { numberLines, visibleRows } from './diff-numbers.ts';

test('each line gets its old and new line numbers, restarting at each hunk', () => {
  const lines = numberLines(parseDiff('--- a\n+++ a\n@@ -3,3 +3,4 @@\n keep\n-gone\n+new\n+more\n same\n@@ -20 +21 @@\n-x\n+y\n'));
  assert.deepEqual(
    lines.map((l) => [l.kind, l.old, l.new]),
    [
      ['hunk', undefined, undefined],
      ['ctx', 3, 3],
      ['del', 4, undefined],
      ['add', undefined, 4],
      ['add', undefined, 5],
      ['ctx', 5, 6],
      ['hunk', undefined, undefined],
      ['del', 20, undefined],
      ['add', undefined, 21],
    ],
  );
});

test('a 5,000-line diff renders only the rows in view, plus some either side', () => {
  assert.deepEqual(visibleRows(0, 400, 20, 5000), { from: 0, to: 40 });
  assert.deepEqual(visibleRows(50_000, 400, 20, 5000), { from: 2480, to: 2540 });
  assert.deepEqual(visibleRows(99_800, 400, 20, 5000), { from: 4970, to: 5000 });
});
