import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ProtocolError } from './guard.ts';
import { parseRequest, parseResult } from './requests.ts';

const tokens = { input: 1, output: 2, reasoning: 0, cacheRead: 3, cacheWrite: 0 };

test('session.usage: a whole answer reads back as sent; a bad count or context is named', () => {
  const usage = { tokens, cost: 0.5, context: { providerId: 'p', modelId: 'm', used: 6, limit: 100 } };
  assert.deepEqual(parseResult('session.usage', usage), usage);
  assert.deepEqual(parseResult('session.usage', { tokens }), { tokens });
  assert.throws(
    () => parseResult('session.usage', { tokens: { ...tokens, output: -1 } }),
    (e: unknown) => e instanceof ProtocolError && /tokens\.output/.test(e.message),
  );
  assert.throws(
    () => parseResult('session.usage', { tokens, context: { providerId: 'p', modelId: 'm', used: 1, limit: 0 } }),
    (e: unknown) => e instanceof ProtocolError && /context\.limit/.test(e.message),
  );
});

test('workspace.vcs: files with a known status; a session id must be a runtime id', () => {
  const vcs = { directory: '/w', branch: 'main', files: [{ path: 'a.ts', status: 'modified', additions: 1, deletions: 2 }] };
  assert.deepEqual(parseResult('workspace.vcs', vcs), vcs);
  assert.throws(
    () => parseResult('workspace.vcs', { ...vcs, files: [{ ...vcs.files[0], status: 'renamed' }] }),
    (e: unknown) => e instanceof ProtocolError && /files\[0\]\.status|status/.test(e.message),
  );
  assert.deepEqual(parseRequest({ t: 'workspace.vcs', id: '1' }), { t: 'workspace.vcs', id: '1' });
  assert.throws(() => parseRequest({ t: 'workspace.vcs', id: '1', sessionId: '../pty' }), ProtocolError);
});
