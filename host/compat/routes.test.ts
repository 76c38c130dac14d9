import { test } from 'node:test';
import assert from 'node:assert/strict';
import { COMPAT_ROUTES, matchRoute, unlistedMessage } from './routes.ts';

test('the routes a basic client needs are listed with their scope', () => {
  const cases: Array<[string, string, string | null]> = [
    ['GET', '/global/health', null],
    ['GET', '/event', 'read'],
    ['GET', '/session', 'read'],
    ['POST', '/session', 'run'],
    ['GET', '/session/ses_abc123/message', 'read'],
    ['POST', '/session/ses_abc123/message', 'run'],
    ['POST', '/session/ses_abc123/prompt_async', 'run'],
    ['POST', '/session/ses_abc123/abort', 'run'],
    ['POST', '/permission/per_1/reply', 'approve'],
    ['POST', '/session/ses_1/permissions/per_1', 'approve'],
    ['POST', '/question/que_1/reply', 'approve'],
    ['GET', '/agent', 'read'],
    ['GET', '/command', 'read'],
    ['GET', '/config/providers', 'read'],
    ['GET', '/file/content', 'read'],
  ];
  for (const [method, path, scope] of cases) {
    const matched = matchRoute(method, path);
    assert.ok(matched, `${method} ${path} is listed`);
    assert.equal(matched.route.scope, scope, `${method} ${path}`);
  }
  assert.deepEqual(matchRoute('post', '/session/ses_1/permissions/per_2')?.params, { sessionID: 'ses_1', requestID: 'per_2' });
});

test('the shell, terminals, config writes, auth, dispose, experimental and unknown routes are not listed', () => {
  for (const [method, path] of [
    ['POST', '/session/ses_1/shell'],
    ['GET', '/pty'],
    ['POST', '/pty'],
    ['GET', '/pty/pty_1/connect'],
    ['PATCH', '/config'],
    ['PATCH', '/session/ses_1'],
    ['DELETE', '/session/ses_1'],
    ['PUT', '/auth/anthropic'],
    ['POST', '/global/dispose'],
    ['POST', '/instance/dispose'],
    ['GET', '/experimental/tool/ids'],
    ['GET', '/api/session'],
    ['POST', '/session/ses_1/command'],
    ['GET', '/doc'],
    ['GET', '/global/health/'],
  ]) {
    assert.equal(matchRoute(method!, path!), undefined, `${method} ${path}`);
  }
  assert.ok(COMPAT_ROUTES.every((r) => !/shell|pty|dispose|experimental|^\/auth/.test(r.path)));
  assert.match(unlistedMessage('post', '/pty'), /^POST \/pty is not available through OpenWork Relay: .*shell, terminals/);
});

test('an id that is not an id never matches, so it cannot become another runtime route', () => {
  assert.equal(matchRoute('GET', '/session/../message'), undefined);
  assert.equal(matchRoute('GET', '/session/%2e%2e/message'), undefined);
  assert.equal(matchRoute('GET', '/session/a%2Fb/message'), undefined);
  assert.equal(matchRoute('POST', '/session/./abort'), undefined);
});
