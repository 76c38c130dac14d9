import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { ERROR_CODES, RelayError, isErrorCode } from './errors.ts';

const GUIDE = readFileSync(new URL('../../docs/troubleshooting.md', import.meta.url), 'utf8');

/** `### heading` → the text up to the next heading of any level. */
function sections(markdown: string): Map<string, string> {
  const out = new Map<string, string>();
  const parts = markdown.split(/^(#{1,6} .*)$/m);
  for (let i = 1; i < parts.length; i += 2) {
    const heading = /^### (.+)$/.exec(parts[i]!);
    if (heading) out.set(heading[1]!.trim(), parts[i + 1] ?? '');
  }
  return out;
}

const entries = sections(GUIDE);

test('docs/troubleshooting.md has an entry for every error code, saying what it means and what to do', () => {
  const missing = Object.keys(ERROR_CODES).filter((code) => !entries.has(code));
  assert.deepEqual(missing, [], `add a "### <code>" section for: ${missing.join(', ')}`);
  for (const code of Object.keys(ERROR_CODES)) {
    const body = entries.get(code)!;
    assert.match(body, /\*\*What it means:\*\* \S/, `${code}: what it means`);
    assert.match(body, /\*\*What to do:\*\* \S/, `${code}: what to do`);
  }
});

test('docs/troubleshooting.md has no entry for a code that no longer exists', () => {
  const stale = [...entries.keys()].filter((h) => /^[a-z]+\.[a-z-]+$/.test(h) && !isErrorCode(h));
  assert.deepEqual(stale, [], 'remove or rename these sections');
});

test('docs/troubleshooting.md covers the problems that have no code', () => {
  for (const topic of ['Host unreachable', 'Different network', 'Certificate not trusted', 'Runtime not ready', 'No model provider', 'Permission timed out']) {
    assert.ok((entries.get(topic) ?? '').trim().length > 100, `a "### ${topic}" section with content`);
  }
  assert.match(GUIDE, /^## Reaching the host from outside your network$/m);
  for (const needed of ['--tls-cert', '--tls-key', '--public-url', 'Tailscale', 'WireGuard', 'tunnel']) assert.ok(GUIDE.includes(needed), needed);
});

test('links inside the guide point at headings that exist', () => {
  // GitHub's anchors: lower case, spaces to hyphens, punctuation other than hyphens dropped.
  const anchors = new Set(
    [...GUIDE.matchAll(/^#{1,6} (.+)$/gm)].map((m) =>
      m[1]!
        .trim()
        .toLowerCase()
        .replace(/[^\w\- ]/g, '')
        .replace(/ /g, '-'),
    ),
  );
  const links = [...GUIDE.matchAll(/\]\(#([^)]+)\)/g)].map((m) => m[1]!);
  assert.ok(links.length > 0);
  for (const link of links) assert.ok(anchors.has(link), `#${link} has no heading`);
});

test("RelayError carries its code and, by default, the code's explanation", () => {
  const err = new RelayError('pair.expired');
  assert.equal(err.code, 'pair.expired');
  assert.equal(err.message, ERROR_CODES['pair.expired']);
  assert.equal(new RelayError('runtime.error', 'model not found').message, 'model not found');
  assert.equal(isErrorCode('scope.denied'), true);
  assert.equal(isErrorCode('toString'), false, 'inherited properties are not codes');
  assert.equal(isErrorCode(42), false);
});
