import { test } from 'node:test';
import assert from 'node:assert/strict';
import { escapeHtml, headingId, markdownToHtml } from './html.ts';

test('heading ids are GitHub’s: lower case, punctuation but - and _ dropped, spaces as -', () => {
  assert.equal(headingId('pair.expired'), 'pairexpired');
  assert.equal(headingId('pair.rate-limited'), 'pairrate-limited');
  assert.equal(headingId('Host does not start: config.json has a problem'), 'host-does-not-start-configjson-has-a-problem');
  assert.equal(headingId('Reaching the host from outside your network'), 'reaching-the-host-from-outside-your-network');
});

test('every text is escaped and nothing becomes markup or script', () => {
  const { html } = markdownToHtml('# A <b>title</b>\n\n<script>alert(1)</script> & "quotes"\n\n`<img onerror=x>`\n\n```\n</pre><script>\n```\n\n[x](javascript:alert(1))');
  assert.doesNotMatch(html, /<script|<b>|<img/);
  assert.match(html, /&lt;script&gt;alert\(1\)&lt;\/script&gt; &amp; &quot;quotes&quot;/);
  assert.match(html, /\[x\]\(javascript:alert\(1\)\)/, 'a refused link stays text');
  assert.equal(escapeHtml(`<a href="x">'&'</a>`), '&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
});

test('headings carry unique ids and the first level-1 heading is the title', () => {
  const doc = markdownToHtml('# Guide\n\n## Same\n\n## Same\n\n### `pair.used`');
  assert.equal(doc.title, 'Guide');
  assert.deepEqual(doc.ids, ['guide', 'same', 'same-1', 'pairused']);
  assert.match(doc.html, /<h3 id="pairused"><code>pair\.used<\/code><\/h3>/);
});

test('a nested list is nested, so the outer list keeps its numbers; wrapped lines stay one paragraph', () => {
  const { html } = markdownToHtml('1. one\n2. two\n   - a\n   - b\n3. three\n\nline one\nline two');
  assert.equal(html.replace(/\n/g, ''), '<ol><li>one</li><li>two<ul><li>a</li><li>b</li></ul></li><li>three</li></ol><p>line oneline two</p>');
  assert.match(html, /<p>line one\nline two<\/p>/, 'a soft break, not <br>');
});

test('links: the allowed ones only, web links without a referrer', () => {
  const href = (raw: string) => (raw.startsWith('#') || raw.startsWith('https:') ? raw : undefined);
  const { html } = markdownToHtml('[in page](#x), [web](https://example.test/a), [other](other.md)', { href });
  assert.match(html, /<a href="#x">in page<\/a>/);
  assert.match(html, /<a href="https:\/\/example\.test\/a" rel="noreferrer">web<\/a>/);
  assert.match(html, /\[other\]\(other\.md\)/);
});

test('tables scroll on their own and code blocks are reachable by keyboard', () => {
  const { html } = markdownToHtml('| a | b |\n|---|---|\n| `c` | d |\n\n```sh\nnpm start\n```');
  assert.match(
    html,
    /<div class="table" tabindex="0"><table><thead><tr><th>a<\/th><th>b<\/th><\/tr><\/thead><tbody><tr><td><code>c<\/code><\/td><td>d<\/td><\/tr><\/tbody><\/table><\/div>/,
  );
  assert.match(html, /<pre tabindex="0"><code>npm start<\/code><\/pre>/);
});

test('GitHub-flavoured: strikethrough, task lists and bare links, as in the conversation', () => {
  const { html } = markdownToHtml('~~old~~ see https://example.test/x.\n\n- [x] done\n- [ ] next');
  assert.match(html, /<del>old<\/del> see <a href="https:\/\/example\.test\/x" rel="noreferrer">https:\/\/example\.test\/x<\/a>\./);
  assert.match(html, /<li><input type="checkbox" disabled checked> done<\/li>\n<li><input type="checkbox" disabled> next<\/li>/);
});
