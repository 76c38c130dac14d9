import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { ERROR_CODES } from '../../shared/protocol/errors.ts';
import { TROUBLESHOOTING_URL, TRUST_URL, troubleshootingUrl } from '../app/links.ts';
import { DOC_PAGES, docHref, docPage } from './page.ts';

const source = (name: string) => readFileSync(new URL(`../../docs/${name}`, import.meta.url), 'utf8');
const built = (name: string) => docPage(source(name), { source: name, stylesheet: '/assets/docs-x.css' });
const ids = (html: string) => new Set([...html.matchAll(/<h[1-6] id="([^"]+)"/g)].map((m) => m[1]!));

test('every error code the app links to has its section in the built troubleshooting page', () => {
  const page = built('troubleshooting.md');
  const present = ids(page);
  const missing = Object.keys(ERROR_CODES).filter((code) => !present.has(troubleshootingUrl(code).split('#')[1]!));
  assert.deepEqual(missing, []);
  assert.equal(troubleshootingUrl('pair.rate-limited'), '/troubleshooting#pairrate-limited');
  assert.equal(troubleshootingUrl(), TROUBLESHOOTING_URL);
  assert.ok(present.has('certificate-not-trusted'));
});

test('the pages are the URLs the app links to, and the guide to HTTPS names all three routes', () => {
  assert.deepEqual(DOC_PAGES.map((p) => p.url).sort(), [TROUBLESHOOTING_URL, TRUST_URL].sort());
  for (const p of DOC_PAGES) assert.equal(p.fileName, `${p.url.slice(1)}.html`, 'the host serves x.html at /x');
  const trust = built('tls.md');
  for (const words of ['npm start -- tls setup', '--tls-cert', 'Plain HTTP']) assert.ok(trust.includes(words), words);
});

test('a built page has no script or inline style (the host’s CSP), one stylesheet and a way back to the app', () => {
  for (const p of DOC_PAGES) {
    const html = built(p.source);
    assert.doesNotMatch(html, /<script|<style|\sstyle=|\son\w+=/i, p.source);
    assert.deepEqual(
      [...html.matchAll(/<link [^>]*>/g)].map((m) => m[0]),
      ['<link rel="icon" href="/favicon.svg" type="image/svg+xml">', '<link rel="stylesheet" href="/assets/docs-x.css">'],
    );
    assert.match(html, /<a href="\/">Back to the app<\/a>/);
  }
});

test('links: own anchors, the other guide, the web; a docs file the host does not serve fails the build', () => {
  assert.equal(docHref('#pairexpired'), '#pairexpired');
  assert.equal(docHref('troubleshooting.md#certificate-not-trusted'), '/troubleshooting#certificate-not-trusted');
  assert.equal(docHref('tls.md'), '/trust');
  assert.equal(docHref('https://tailscale.com'), 'https://tailscale.com');
  for (const bad of ['service.md', 'javascript:alert(1)', 'data:text/html,x', '//evil.test', '../x.md', '#a"b']) assert.equal(docHref(bad), undefined, bad);
  assert.throws(() => docPage('# T\n\nsee [svc](service.md)', { source: 'x.md', stylesheet: '/a.css' }), /docs\/x\.md: .*service\.md/);
  assert.throws(() => docPage('# T\n\nsee [gone](#renamed)', { source: 'x.md', stylesheet: '/a.css' }), /#renamed/);
  assert.doesNotThrow(() => docPage('# T\n\n## Here\n\nsee [here](#here)', { source: 'x.md', stylesheet: '/a.css' }));
});
