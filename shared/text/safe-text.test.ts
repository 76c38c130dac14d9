import { test } from 'node:test';
import assert from 'node:assert/strict';
import { safeText } from './safe-text.ts';

test('controls, escape sequences, bidi and zero-width characters are shown escaped; other text is kept', () => {
  assert.equal(safeText('a\r\n\t\x1b[2K\x07\x7f\x9b8m'), 'a\\r\\n\\t\\x1b[2K\\x07\\x7f\\x9b8m');
  assert.equal(safeText('\x1b]0;title\x07'), '\\x1b]0;title\\x07');
  assert.equal(safeText('\u202eabc\u2066\u2069\u200b\u200f\ufeff\u2028\u2029'), '\\u202eabc\\u2066\\u2069\\u200b\\u200f\\ufeff\\u2028\\u2029');
  assert.equal(safeText('\ud800x'), '\\ud800x', 'a lone surrogate');
  assert.equal(safeText("Zoë's Pixel 8 — 📱 日本"), "Zoë's Pixel 8 — 📱 日本");
  assert.equal(safeText(undefined), 'undefined');
});

test('capped at max characters, the cut marked, without splitting a character', () => {
  assert.equal(safeText('abcdef', 4), 'abc…');
  assert.equal(safeText('abcd', 4), 'abcd');
  assert.equal(safeText('📱📱📱📱📱', 3), '📱📱…');
  assert.equal(safeText('x'.repeat(1000)).length, 200);
});
