import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Scope } from '../../shared/protocol/messages.ts';
import { mayReceive } from './event-access.ts';
import { createRuntimeFacts } from '../runtime/facts.ts';
import { createWorkspaceGate } from './workspaces.ts';

const facts = createRuntimeFacts();
const gate = createWorkspaceGate({
  workspaces: () => ['/ws/a', '/ws/b'],
  facts,
  runtime: {
    getSession: async () => assert.fail('no lookups'),
    listPermissions: async () => ({ requests: [], unavailable: [], unseen: [] }),
    listQuestions: async () => ({ requests: [], unavailable: [], unseen: [] }),
  },
});
facts.observe({ type: 'session.updated', sessionId: 'ses_a', title: 'a', directory: '/ws/a', createdAt: 1, updatedAt: 1 });
facts.observe({ type: 'session.updated', sessionId: 'ses_b', title: 'b', directory: '/ws/b', createdAt: 1, updatedAt: 1 });

const asked = (sessionId: string) => ({ type: 'permission.asked', requestId: 'per_1', sessionId, permission: 'bash', patterns: [], always: [], metadata: {} });
const part = (sessionId: string) => ({ type: 'message.text.delta', sessionId, messageId: 'm', partId: 'p', text: 'x', done: false });
const outcome = (sessionId: string) => ({ type: 'permission.replied', requestId: 'per_1', sessionId, reply: 'once' });
const hostWide = { type: 'runtime.reconnected' };

const receives = (scopes: Scope[], workspaces?: string[]) => (event: Record<string, unknown>) => mayReceive(event, { scopes, ...(workspaces ? { workspaces } : {}) }, gate);

test('permission requests go only to devices with approve; their outcome to read or approve', () => {
  assert.equal(receives(['read', 'run'])(asked('ses_a')), false);
  assert.equal(receives(['approve'])(asked('ses_a')), true);
  assert.equal(receives(['read'])(outcome('ses_a')), true);
  assert.equal(receives(['approve'])(outcome('ses_a')), true);
  assert.equal(receives(['run'])(outcome('ses_a')), false);
});

test("the agent's questions go only to devices with approve; their outcome to read or approve", () => {
  const question = { type: 'question.asked', requestId: 'que_1', sessionId: 'ses_a', questions: [] };
  assert.equal(receives(['read', 'run'])(question), false);
  assert.equal(receives(['approve'])(question), true);
  for (const type of ['question.replied', 'question.rejected', 'question.expired']) {
    const done = { type, requestId: 'que_1', sessionId: 'ses_a' };
    assert.equal(receives(['read'])(done), true, type);
    assert.equal(receives(['approve'])(done), true, type);
    assert.equal(receives(['run'])(done), false, type);
  }
});

test('what a session shows needs read; host-wide news goes to every device', () => {
  assert.equal(receives(['read'])(part('ses_a')), true);
  for (const scopes of [[], ['run'], ['approve'], ['run', 'approve']] as Scope[][]) {
    assert.equal(receives(scopes)(part('ses_a')), false, scopes.join('+'));
    assert.equal(receives(scopes)(hostWide), true, scopes.join('+'));
  }
});

test('a device limited to a workspace gets nothing about sessions elsewhere, whatever its scopes', () => {
  const onlyA = receives(['read', 'run', 'approve'], ['/ws/a']);
  for (const event of [asked, part, outcome]) {
    assert.equal(onlyA(event('ses_a')), true, event('ses_a').type);
    assert.equal(onlyA(event('ses_b')), false, event('ses_b').type);
  }
  assert.equal(onlyA(hostWide), true);
});
