import { test } from 'node:test';
import assert from 'node:assert/strict';
import { markdownToHtml } from './html.ts';
import { safeHref } from './safe-href.ts';
import { settledBlocks } from './split.ts';

test('links that could run script are refused; web and mail are allowed', () => {
  for (const href of ['javascript:alert(1)', 'data:text/html,x', 'JAVASCRIPT:x', '//evil.test', 'https://a b']) assert.equal(safeHref(href), undefined, href);
  assert.equal(safeHref('mailto:a@b.test'), 'mailto:a@b.test');
  assert.equal(safeHref(' https://x.test/a '), 'https://x.test/a');
});

test('settled blocks: only what a later line proves finished', () => {
  assert.deepEqual(settledBlocks('para'), { blocks: [], consumed: 0 });
  assert.deepEqual(settledBlocks('para\n'), { blocks: [], consumed: 0 });
  assert.deepEqual(settledBlocks('para\n\nnext'), { blocks: ['para\n'], consumed: 6 });
  assert.deepEqual(settledBlocks('# H\nbody'), { blocks: ['# H\n'], consumed: 4 });
  // A blank line inside a fence does not end it; its closing line does, and only a fence as long.
  assert.deepEqual(settledBlocks('```\na\n\nb\n'), { blocks: [], consumed: 0 });
  assert.deepEqual(settledBlocks('````\na\n```\n\nb\n'), { blocks: [], consumed: 0 });
  assert.deepEqual(settledBlocks('intro\n```\na\n\nb\n```\ntail'), { blocks: ['intro\n', '```\na\n\nb\n```\n'], consumed: 19 });
});

test('streaming in pieces settles the same blocks as the whole text at once, and they read the same', () => {
  const text = '# Plan\n\nFirst **step**.\n\n```js\nlet x = 1;\n\nx++;\n```\n- one\n- two\n\nDone.';
  let consumed = 0;
  const pieces: string[] = [];
  for (let end = 1; end <= text.length; end++) {
    const s = settledBlocks(text.slice(consumed, end));
    pieces.push(...s.blocks);
    consumed += s.consumed;
  }
  assert.deepEqual(pieces, settledBlocks(text).blocks);
  assert.equal(markdownToHtml(`${pieces.join('\n')}\n${text.slice(consumed)}`).html, markdownToHtml(text).html);
});
