import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseBlocks, parseInline, safeHref } from './parse.ts';
import { settledBlocks } from './split.ts';

test('inline: code, strong, emphasis, links, escapes, snake_case and line breaks', () => {
  assert.deepEqual(parseInline('a `b*c*` **d** *e* _f_ snake_case_name'), [
    { t: 'text', v: 'a ' },
    { t: 'code', v: 'b*c*' },
    { t: 'text', v: ' ' },
    { t: 'strong', c: [{ t: 'text', v: 'd' }] },
    { t: 'text', v: ' ' },
    { t: 'em', c: [{ t: 'text', v: 'e' }] },
    { t: 'text', v: ' ' },
    { t: 'em', c: [{ t: 'text', v: 'f' }] },
    { t: 'text', v: ' snake_case_name' },
  ]);
  assert.deepEqual(parseInline('[docs](https://x.test/a) \\*not\\*\nnext'), [
    { t: 'link', href: 'https://x.test/a', c: [{ t: 'text', v: 'docs' }] },
    { t: 'text', v: ' *not*' },
    { t: 'br' },
    { t: 'text', v: 'next' },
  ]);
  assert.deepEqual(parseInline('see https://x.test/p.'), [
    { t: 'text', v: 'see ' },
    { t: 'link', href: 'https://x.test/p', c: [{ t: 'text', v: 'https://x.test/p' }] },
    { t: 'text', v: '.' },
  ]);
});

test('links that could run script are left as text', () => {
  for (const href of ['javascript:alert(1)', 'data:text/html,x', 'JAVASCRIPT:x', '//evil.test', 'https://a b']) assert.equal(safeHref(href), undefined, href);
  assert.deepEqual(parseInline('[x](javascript:alert(1))'), [{ t: 'text', v: '[x](javascript:alert(1))' }]);
  assert.equal(safeHref('mailto:a@b.test'), 'mailto:a@b.test');
});

test('blocks: headings, fences (closed and open), lists, quotes, tables, rules, paragraphs', () => {
  const blocks = parseBlocks('# Title\n\npara one\nline two\n\n```ts\nconst a = 1;\n```\n- a\n  - b\n1. x\n> quoted\n\n| h1 | h2 |\n|----|---:|\n| c | `d` |\n\n---\n```sh\nopen');
  assert.deepEqual(
    blocks.map((b) => b.t),
    ['h', 'p', 'code', 'list', 'list', 'quote', 'table', 'hr', 'code'],
  );
  assert.deepEqual(blocks[2], { t: 'code', lang: 'ts', v: 'const a = 1;', open: false });
  assert.deepEqual(blocks[3], {
    t: 'list',
    ordered: false,
    start: 1,
    items: [
      { depth: 0, c: [{ t: 'text', v: 'a' }] },
      { depth: 1, c: [{ t: 'text', v: 'b' }] },
    ],
  });
  assert.equal(blocks[4]!.t === 'list' && blocks[4]!.ordered, true);
  assert.equal(blocks[6]!.t === 'table' && blocks[6]!.rows[0]![1]![0]!.t, 'code');
  assert.deepEqual(blocks[8], { t: 'code', lang: 'sh', v: 'open', open: true });
});

test('settled blocks: only what a later line proves finished', () => {
  assert.deepEqual(settledBlocks('para'), { blocks: [], consumed: 0 });
  assert.deepEqual(settledBlocks('para\n'), { blocks: [], consumed: 0 });
  assert.deepEqual(settledBlocks('para\n\nnext'), { blocks: ['para\n'], consumed: 6 });
  assert.deepEqual(settledBlocks('# H\nbody'), { blocks: ['# H\n'], consumed: 4 });
  // A blank line inside a fence does not end it; its closing line does.
  assert.deepEqual(settledBlocks('```\na\n\nb\n'), { blocks: [], consumed: 0 });
  assert.deepEqual(settledBlocks('intro\n```\na\n\nb\n```\ntail'), { blocks: ['intro\n', '```\na\n\nb\n```\n'], consumed: 19 });
});

test('streaming in pieces settles the same blocks as the whole text at once', () => {
  const text = '# Plan\n\nFirst **step**.\n\n```js\nlet x = 1;\n\nx++;\n```\n- one\n- two\n\nDone.';
  let consumed = 0;
  const pieces: string[] = [];
  for (let end = 1; end <= text.length; end++) {
    const s = settledBlocks(text.slice(consumed, end));
    pieces.push(...s.blocks);
    consumed += s.consumed;
  }
  assert.deepEqual(pieces, settledBlocks(text).blocks);
  assert.deepEqual(parseBlocks(`${pieces.join('\n')}\n${text.slice(consumed)}`), parseBlocks(text));
});
