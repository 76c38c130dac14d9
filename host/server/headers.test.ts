import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CONTENT_SECURITY_POLICY, PERMISSIONS_POLICY, SECURITY_HEADERS } from './headers.ts';

function directives(csp: string): Map<string, string> {
  return new Map(
    csp
      .split(';')
      .map((d) => d.trim().split(/\s+/))
      .map(([name, ...values]) => [name!, values.join(' ')]),
  );
}

test('the CSP allows only same-origin code and forbids inline scripts, framing and plugins', () => {
  const d = directives(CONTENT_SECURITY_POLICY);
  assert.equal(d.get('default-src'), "'self'");
  assert.equal(d.get('script-src'), "'self'");
  assert.equal(d.get('style-src'), "'self'");
  assert.equal(d.get('img-src'), "'self' data: blob:");
  assert.equal(d.get('connect-src'), "'self' ws: wss:");
  assert.equal(d.get('worker-src'), "'self'");
  assert.equal(d.get('manifest-src'), "'self'");
  assert.equal(d.get('media-src'), "'self' blob:");
  assert.equal(d.get('object-src'), "'none'");
  assert.equal(d.get('base-uri'), "'none'");
  assert.equal(d.get('form-action'), "'none'");
  assert.equal(d.get('frame-ancestors'), "'none'");
  assert.doesNotMatch(CONTENT_SECURITY_POLICY, /unsafe-inline|unsafe-eval/);
});

test('only the camera is allowed, for this origin', () => {
  const allowed = PERMISSIONS_POLICY.split(', ').filter((p) => !p.endsWith('=()'));
  assert.deepEqual(allowed, ['camera=(self)']);
});

test('every security header is present once', () => {
  const names = SECURITY_HEADERS.map(([name]) => name.toLowerCase());
  assert.equal(new Set(names).size, names.length);
  const get = (n: string) => SECURITY_HEADERS.find(([name]) => name === n)?.[1];
  assert.equal(get('X-Content-Type-Options'), 'nosniff');
  assert.equal(get('Referrer-Policy'), 'no-referrer');
  assert.equal(get('X-Frame-Options'), 'DENY');
  assert.equal(get('Cross-Origin-Opener-Policy'), 'same-origin');
});
