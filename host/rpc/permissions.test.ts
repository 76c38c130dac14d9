import { test } from 'node:test';
import assert from 'node:assert/strict';
import { silentLogger } from '../log.ts';
import type { PermissionAskedEvent } from '../../shared/protocol/runtime-events.ts';
import { createPermissionGrants, wildcardMatch, type PermissionRuntime } from './permissions.ts';

function runtime(listed: Awaited<ReturnType<PermissionRuntime['listPermissions']>> = []) {
  const replies: string[] = [];
  const rt: PermissionRuntime = {
    listPermissions: async () => listed,
    replyPermission: async (id, reply) => void replies.push(`${id}:${reply}`),
  };
  return { rt, replies };
}

const asked = (requestId: string, sessionId: string, patterns: string[], always: string[] = []): PermissionAskedEvent => ({
  type: 'permission.asked', requestId, sessionId, permission: 'bash', patterns, always, metadata: {},
});

test('"session" answers once and grants the suggested patterns for that session only', async () => {
  const { rt, replies } = runtime();
  const g = createPermissionGrants(rt, silentLogger);
  assert.equal(g.observe(asked('p1', 's1', ['git log -5'], ['git log *'])), true, 'shown to devices');
  await g.reply('p1', 'session');
  assert.deepEqual(replies, ['p1:once']);
  assert.deepEqual(g.granted('s1'), { bash: ['git log *'] });
  assert.equal(g.observe(asked('p2', 's1', ['git log --oneline'])), false, 'covered: answered by the host, not shown');
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(replies, ['p1:once', 'p2:once']);
  assert.equal(g.observe(asked('p3', 's2', ['git log'])), true, 'another session is not covered');
  assert.equal(g.observe(asked('p4', 's1', ['rm -rf /'])), true, 'another command is not covered');
  assert.equal(g.observe({ ...asked('p5', 's1', ['git log']), permission: 'edit' }), true, 'another permission kind is not covered');
  g.observe({ type: 'session.deleted', sessionId: 's1' });
  assert.deepEqual(g.granted('s1'), {});
});

test('once and reject pass through; unknown requests are looked up, then refused', async () => {
  const { rt, replies } = runtime([{ id: 'old', sessionID: 's9', permission: 'edit', patterns: ['a.txt'], always: [] }]);
  const g = createPermissionGrants(rt, silentLogger);
  await g.reply('x', 'once');
  await g.reply('y', 'reject');
  await g.reply('old', 'session');
  assert.deepEqual(replies, ['x:once', 'y:reject', 'old:once']);
  assert.deepEqual(g.granted('s9'), { edit: ['a.txt'] });
  await assert.rejects(g.reply('nope', 'session'), /no permission request nope/);
});

test('wildcardMatch follows OpenCode: * and ?, and "cmd *" also matches "cmd"', () => {
  assert.equal(wildcardMatch('git log *', 'git log -5'), true);
  assert.equal(wildcardMatch('git log *', 'git log'), true);
  assert.equal(wildcardMatch('git log *', 'git status'), false);
  assert.equal(wildcardMatch('a?c', 'abc'), true);
  assert.equal(wildcardMatch('a.c', 'abc'), false, 'regex characters are literal');
  assert.equal(wildcardMatch('echo *', 'echo hi; rm -rf /'), true, 'as in OpenCode, a grant is as wide as its pattern');
});
