import { test } from 'node:test';
import assert from 'node:assert/strict';
import { escapeHelp, escapeLabelValue, formatValue, renderExposition } from './prometheus.ts';
import { parseExposition } from '../../test-support/prometheus.ts';

test('label values escape backslash, quote and line feed, and parse back to the original', () => {
  const tricky = 'a\\b "quoted"\nnext line } , =';
  assert.equal(escapeLabelValue(tricky), 'a\\\\b \\"quoted\\"\\nnext line } , =');
  const text = renderExposition([{ name: 'x_total', type: 'counter', help: 'h', samples: [{ labels: { reason: tricky }, value: 2 }] }]);
  assert.match(text, /^x_total\{reason="a\\\\b \\"quoted\\"\\nnext line } , ="\} 2$/m);
  assert.deepEqual(parseExposition(text).get('x_total')?.samples, [{ name: 'x_total', labels: { reason: tricky }, value: 2 }]);
});

test('help text escapes backslash and line feed but keeps quotes', () => {
  assert.equal(escapeHelp('say "hi"\\now\nthen'), 'say "hi"\\\\now\\nthen');
  const text = renderExposition([{ name: 'g', type: 'gauge', help: 'two\nlines \\ "q"', samples: [{ labels: {}, value: 1 }] }]);
  assert.equal(parseExposition(text).get('g')?.help, 'two\nlines \\ "q"');
});

test('special values use the exposition spelling', () => {
  assert.equal(formatValue(NaN), 'NaN');
  assert.equal(formatValue(Infinity), '+Inf');
  assert.equal(formatValue(-Infinity), '-Inf');
  assert.equal(formatValue(1.5), '1.5');
  const text = renderExposition([{ name: 'g', type: 'gauge', help: 'h', samples: [{ labels: {}, value: NaN }] }]);
  assert.ok(Number.isNaN(parseExposition(text).get('g')?.samples[0]?.value));
});

test('invalid metric or label names are refused instead of producing unparseable text', () => {
  assert.throws(() => renderExposition([{ name: 'bad-name', type: 'gauge', help: 'h', samples: [] }]), RangeError);
  assert.throws(() => renderExposition([{ name: 'ok', type: 'gauge', help: 'h', samples: [{ labels: { 'bad-label': 'v' }, value: 1 }] }]), RangeError);
  assert.throws(() => renderExposition([{ name: 'ok', type: 'gauge', help: 'h', samples: [{ labels: { __reserved: 'v' }, value: 1 }] }]), RangeError);
});

test('the test parser itself rejects what a scraper would reject', () => {
  const bad = [
    'x 1', // no final line feed
    'x{a="b} 1\n', // unterminated value
    'x{a="\\t"} 1\n', // bad escape
    'x{a="b"} one\n', // bad value
    '# TYPE x counter\n# TYPE x counter\nx 1\n', // TYPE twice
    'x 1\n# TYPE x counter\n', // TYPE after samples
    'x 1\ny 1\nx 2\n', // family split
    '# HELP x bad \\q escape\n', // bad help escape
  ];
  for (const text of bad) assert.throws(() => parseExposition(text), Error, JSON.stringify(text));
  assert.equal(parseExposition('# TYPE x counter\nx{a="1",b="2"} 3 1700000000000\n').get('x')?.samples[0]?.value, 3);
});
