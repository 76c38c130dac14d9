import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RelayError } from '../../shared/protocol/errors.ts';
import type { RoutedRequest } from '../rpc/request.ts';
import { createRuntimeFacts } from '../runtime/facts.ts';
import { createWorkspaceGate } from './workspaces.ts';

const HOST = ['/ws/a', '/ws/b'];
const SESSIONS: Record<string, string> = { ses_a: '/ws/a', ses_b: '/ws/b', ses_sub: '/ws/a/pkg' };

function gate() {
  const lookups: string[] = [];
  const facts = createRuntimeFacts();
  const g = createWorkspaceGate({
    workspaces: () => HOST,
    facts,
    runtime: {
      getSession: async (id) => (lookups.push(id), { directory: SESSIONS[id]! }),
      // per_hidden: asked in a workspace that is not answering now.
      listPermissions: async () => ({
        requests: [{ id: 'per_b', sessionID: 'ses_b', permission: 'bash', patterns: [], always: [] }],
        unavailable: [{ workspace: '/ws/c', reason: 'down' }],
        unseen: ['per_hidden'],
      }),
      listQuestions: async () => ({
        requests: [{ id: 'que_b', sessionID: 'ses_b', questions: [] }],
        unavailable: [{ workspace: '/ws/c', reason: 'down' }],
        unseen: ['que_hidden'],
      }),
    },
  });
  return { g, facts, lookups };
}

const all = {};
const onlyA = { workspaces: ['/ws/a'] };
const denied = (err: unknown) => err instanceof RelayError && err.code === 'scope.denied' && /devices workspaces/.test(err.message);
const req = (r: DistributiveOmit<RoutedRequest, 'id'>) => ({ id: '1', ...r }) as RoutedRequest;
type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

test('a device without workspaces, or with all of them, may use every workspace', async () => {
  const { g, lookups } = gate();
  assert.deepEqual(g.allowed(all), HOST);
  for (const d of [all, { workspaces: ['/ws/b', '/ws/a'] }]) {
    await g.check(req({ t: 'task.submit', taskId: 't', sessionId: 'ses_b', text: 'x' }), d);
    assert.equal(g.allowsEvent({ type: 'session.idle', sessionId: 'ses_unknown' }, d), true);
  }
  assert.deepEqual(lookups, [], 'nothing to look up');
});

test('a limited device is refused every request about another workspace', async () => {
  const { g } = gate();
  assert.deepEqual(g.allowed(onlyA), ['/ws/a']);
  await g.check(req({ t: 'sessions.list' }), onlyA);
  await g.check(req({ t: 'session.create', workspace: '/ws/a' }), onlyA);
  await g.check(req({ t: 'session.create' }), onlyA);
  await g.check(req({ t: 'session.messages', sessionId: 'ses_sub' }), onlyA);
  await g.check(req({ t: 'attachment.get', sessionId: 'ses_a', messageId: 'msg_1', partId: 'prt_1', offset: 0 }), onlyA);
  await assert.rejects(g.check(req({ t: 'session.create', workspace: '/ws/b' }), onlyA), denied);
  await assert.rejects(g.check(req({ t: 'session.create' }), { workspaces: [] }), denied);
  for (const r of [
    req({ t: 'session.messages', sessionId: 'ses_b' }),
    req({ t: 'session.abort', sessionId: 'ses_b' }),
    req({ t: 'task.submit', taskId: 't', sessionId: 'ses_b', text: 'x' }),
    req({ t: 'attachment.get', sessionId: 'ses_b', messageId: 'msg_1', partId: 'prt_1', offset: 0 }),
    req({ t: 'permission.reply', requestId: 'per_b', reply: 'once' }),
  ])
    await assert.rejects(g.check(r, onlyA), denied, r.t);
  await assert.rejects(
    g.check(req({ t: 'permission.reply', requestId: 'per_gone', reply: 'once' }), onlyA),
    (e: unknown) => e instanceof RelayError && e.code === 'request.unknown',
  );
  // Which workspace it is in cannot be told: refused, but not as gone.
  await assert.rejects(
    g.check(req({ t: 'permission.reply', requestId: 'per_hidden', reply: 'once' }), onlyA),
    (e: unknown) => e instanceof RelayError && e.code === 'runtime.error' && /still waits/.test(e.message),
  );
});

test('session lists and events are filtered; directories are learnt from lists and events, else looked up once', async () => {
  const { g, facts, lookups } = gate();
  const sessions = [
    { id: 'ses_a', directory: '/ws/a' },
    { id: 'ses_b', directory: '/ws/b' },
    { id: 'ses_x', directory: '/ws/ab' },
  ];
  const unavailable = [
    { workspace: '/ws/b', reason: 'down' },
    { workspace: '/ws/a/pkg', reason: 'down too' },
  ];
  const listed = { sessions, unavailable };
  assert.deepEqual(g.visibleSessions(listed, onlyA), { sessions: [sessions[0]], unavailable: [unavailable[1]] }, 'neither the sessions nor the names of other workspaces');
  assert.equal(g.visibleSessions(listed, all), listed);

  assert.equal(g.allowsEvent({ type: 'session.idle', sessionId: 'ses_new' }, onlyA), false, 'unknown sessions are withheld');
  facts.observe({ type: 'session.updated', sessionId: 'ses_new', title: 't', directory: '/ws/a', createdAt: 1, updatedAt: 1 });
  assert.equal(g.allowsEvent({ type: 'session.idle', sessionId: 'ses_new' }, onlyA), true);
  assert.equal(g.allowsEvent({ type: 'runtime.reconnected' }, onlyA), true);
  await g.check(req({ t: 'task.submit', taskId: 't', sessionId: 'ses_new', text: 'x' }), onlyA);
  await g.check(req({ t: 'session.abort', sessionId: 'ses_sub' }), onlyA);
  await g.check(req({ t: 'session.abort', sessionId: 'ses_sub' }), onlyA);
  await g.check(req({ t: 'session.abort', sessionId: 'ses_a' }), onlyA);
  assert.deepEqual(lookups, ['ses_sub'], 'ses_a was learnt from the session list');
  assert.equal(g.allowsEvent({ type: 'session.idle', sessionId: 'ses_sub' }, onlyA), true);
  assert.equal(g.allowsEvent({ type: 'session.idle', sessionId: 'ses_a' }, onlyA), true);
  assert.equal(g.allowsEvent({ type: 'session.idle', sessionId: 'ses_x' }, onlyA), false, '/ws/ab is not inside /ws/a');

  facts.observe({ type: 'permission.asked', requestId: 'per_new', sessionId: 'ses_new', permission: 'bash', patterns: [], always: [], metadata: {} });
  await g.check(req({ t: 'permission.reply', requestId: 'per_new', reply: 'once' }), onlyA);
});
