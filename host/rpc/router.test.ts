import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RelayError } from '../../shared/protocol/errors.ts';
import type { RuntimeStatus } from '../../shared/protocol/messages.ts';
import type { Device } from '../devices/store.ts';
import { silentLogger } from '../log.ts';
import type { MetricsSnapshot } from '../metrics/metrics.ts';
import { createWorkspaceGate } from '../policy/workspaces.ts';
import type { SessionRecord } from '../tasks/ledger.ts';
import { createKeyedSessions } from '../tasks/keyed-sessions.ts';
import { createRouter, type RuntimeCalls } from './router.ts';
import type { PermissionGrants } from './permissions.ts';

const device = { id: 'dev_all', scopes: ['read', 'run', 'approve'] } as Device;
/** May use /b only. */
const limited = { id: 'dev_b', scopes: ['read', 'run', 'approve'], workspaces: ['/b'] } as Device;
const SESSIONS = [{ id: 'ses_a', directory: '/a' }, { id: 'ses_b', directory: '/b' }];
/** What the runtime lists: its sessions, and a nested workspace whose instance did not answer. */
const UNAVAILABLE = [{ workspace: '/a/sub', reason: 'the coding runtime did not answer in time' }];
const metrics = { snapshot: () => ({ enabled: true }) as unknown as MetricsSnapshot };

function setup(status: RuntimeStatus = { state: 'ready' }) {
  const calls: unknown[][] = [];
  const runtime: RuntimeCalls = {
    listSessions: async () => (calls.push(['listSessions']), { sessions: SESSIONS, unavailable: UNAVAILABLE }),
    messages: async (id) => (calls.push(['messages', id]), ['m']),
    createSession: async (title, dir) => (calls.push(['createSession', title, dir]), { id: dir === '/b' ? 'ses_b' : 'ses_a', directory: dir }),
    abort: async (id) => (calls.push(['abort', id]), true),
  };
  const tasks = {
    submit: async (taskId: string, sessionId: string, text: string) => {
      calls.push(['submit', taskId, sessionId, text]);
      return { taskId, sessionId, messageId: 'msg_1', acceptedAt: 5 };
    },
  };
  const permissions = { reply: async (...a: unknown[]) => void calls.push(['reply', ...a]) } as unknown as PermissionGrants;
  const questions = {
    reply: async (...a: unknown[]) => void calls.push(['question.reply', ...a]),
    reject: async (...a: unknown[]) => void calls.push(['question.reject', ...a]),
  };
  const gate = createWorkspaceGate({
    runtime: {
      getSession: async (id) => SESSIONS.find((x) => x.id === id)!,
      listPermissions: async () => ({ requests: [{ id: 'per_b', sessionID: 'ses_b' }, { id: 'per_a', sessionID: 'ses_a' }], unavailable: [], unseen: [] }),
      listQuestions: async () => ({ requests: [{ id: 'que_b', sessionID: 'ses_b' }, { id: 'que_a', sessionID: 'ses_a' }], unavailable: [], unseen: [] }),
    },
    workspaces: () => ['/a', '/b'],
  });
  const records = new Map<string, SessionRecord>();
  const sessions = createKeyedSessions({
    ledger: {
      session: (d, k) => records.get(`${d} ${k}`),
      recordSession: (r) => void records.set(`${r.deviceId} ${r.key}`, r),
      sessionIntent: () => undefined,
      intendSession: () => {},
    },
    runtime: {
      createSession: runtime.createSession,
      getSession: async (id) => (calls.push(['getSession', id]), SESSIONS.find((x) => x.id === id)),
      sessionsCreatedSince: async () => [],
    },
    log: silentLogger,
  });
  const router = createRouter({ runtime, tasks, sessions, permissions, questions, workspaces: () => ['/a', '/b'], runtimeStatus: () => status, metrics, gate });
  return { router, calls };
}

test('each request maps to its runtime call', async () => {
  const { router, calls } = setup();
  assert.deepEqual(await router.handle({ t: 'sessions.list', id: '1', withUnavailable: true }, device), { sessions: SESSIONS, unavailable: UNAVAILABLE });
  assert.deepEqual(await router.handle({ t: 'session.messages', id: '1', sessionId: 'x' }, device), ['m']);
  assert.deepEqual(await router.handle({ t: 'session.create', id: '1' }, device), { id: 'ses_a', directory: '/a' });
  await router.handle({ t: 'session.create', id: '1', title: 'T', workspace: '/b' }, device);
  assert.deepEqual(await router.handle({ t: 'session.abort', id: '1', sessionId: 'x' }, device), {});
  assert.deepEqual(await router.handle({ t: 'task.submit', id: '1', taskId: 'k', sessionId: 'x', text: 'hi' }, device), { taskId: 'k', sessionId: 'x', messageId: 'msg_1', acceptedAt: 5 });
  assert.deepEqual(await router.handle({ t: 'permission.reply', id: '1', requestId: 'p', reply: 'session' }, device), {});
  assert.deepEqual(await router.handle({ t: 'question.reply', id: '1', requestId: 'que_a', answers: [['Yes']] }, device), {});
  assert.deepEqual(await router.handle({ t: 'question.reject', id: '1', requestId: 'que_a' }, device), {});
  assert.deepEqual(calls, [
    ['listSessions'], ['messages', 'x'], ['createSession', undefined, '/a'], ['createSession', 'T', '/b'], ['abort', 'x'],
    ['submit', 'k', 'x', 'hi'], ['reply', 'p', 'session', undefined], ['question.reply', 'que_a', [['Yes']]], ['question.reject', 'que_a'],
  ]);
});

test('an app that does not ask for the unavailable workspaces gets the plain list it knows', async () => {
  const { router } = setup();
  assert.deepEqual(await router.handle({ t: 'sessions.list', id: '1' }, device), SESSIONS);
  assert.deepEqual(await router.handle({ t: 'sessions.list', id: '1', withUnavailable: false }, limited), [{ id: 'ses_b', directory: '/b' }]);
});

test('a workspace the host does not serve is refused', async () => {
  const { router, calls } = setup();
  await assert.rejects(router.handle({ t: 'session.create', id: '1', workspace: '/etc' }, device), (e: unknown) => e instanceof RelayError && e.code === 'request.unknown');
  assert.deepEqual(calls, []);
});

test('nothing is called while the runtime is not ready', async () => {
  const { router, calls } = setup({ state: 'restarting' });
  await assert.rejects(router.handle({ t: 'sessions.list', id: '1' }, device), (e: unknown) => e instanceof RelayError && e.code === 'runtime.not-ready');
  assert.deepEqual(calls, []);
});

test('metrics.get answers from the host while the runtime is not ready', async () => {
  const { router, calls } = setup({ state: 'restarting', error: 'it crashed' });
  assert.deepEqual(await router.handle({ t: 'metrics.get', id: '1' }, device), { enabled: true });
  await assert.rejects(router.handle({ t: 'sessions.list', id: '2' }, device), (err: RelayError) => err.code === 'runtime.not-ready');
  assert.deepEqual(calls, []);
});

test('a device limited to one workspace sees, creates in and acts on that workspace only', async () => {
  const { router, calls } = setup();
  assert.deepEqual(await router.handle({ t: 'sessions.list', id: '1', withUnavailable: true }, limited), { sessions: [{ id: 'ses_b', directory: '/b' }], unavailable: [] }, 'nor does it learn of a workspace it may not use');
  const onlyA = { scopes: ['read'], workspaces: ['/a'] } as Device;
  assert.deepEqual(await router.handle({ t: 'sessions.list', id: '1', withUnavailable: true }, onlyA), { sessions: [SESSIONS[0]], unavailable: UNAVAILABLE });
  await router.handle({ t: 'session.create', id: '1' }, limited);
  assert.deepEqual(calls.at(-1), ['createSession', undefined, '/b'], 'its own first workspace is its default');
  await router.handle({ t: 'session.messages', id: '1', sessionId: 'ses_b' }, limited);
  await router.handle({ t: 'permission.reply', id: '1', requestId: 'per_b', reply: 'once' }, limited);
  await router.handle({ t: 'question.reply', id: '1', requestId: 'que_b', answers: [['Yes']] }, limited);
  calls.length = 0;
  const refused = (e: unknown) => e instanceof RelayError && e.code === 'scope.denied' && /workspace/.test(e.message);
  await assert.rejects(router.handle({ t: 'session.create', id: '1', workspace: '/a' }, limited), refused);
  await assert.rejects(router.handle({ t: 'session.messages', id: '1', sessionId: 'ses_a' }, limited), refused);
  await assert.rejects(router.handle({ t: 'session.abort', id: '1', sessionId: 'ses_a' }, limited), refused);
  await assert.rejects(router.handle({ t: 'task.submit', id: '1', taskId: 'k', sessionId: 'ses_a', text: 'x' }, limited), refused);
  await assert.rejects(router.handle({ t: 'permission.reply', id: '1', requestId: 'per_a', reply: 'once' }, limited), refused);
  await assert.rejects(router.handle({ t: 'question.reply', id: '1', requestId: 'que_a', answers: [['Yes']] }, limited), refused);
  await assert.rejects(router.handle({ t: 'question.reject', id: '1', requestId: 'que_a' }, limited), refused);
  assert.deepEqual(calls, [], 'nothing reached the runtime');
});

test('session.create with a key makes one session per device and key; a repeat still passes the workspace gate', async () => {
  const { router, calls } = setup();
  const made = await router.handle({ t: 'session.create', id: '1', key: 'tsk_1' }, device);
  assert.deepEqual(made, { id: 'ses_a', directory: '/a' });
  assert.deepEqual(await router.handle({ t: 'session.create', id: '2', key: 'tsk_1' }, device), SESSIONS[0], 'the resend gets the same session');
  assert.deepEqual(calls, [['createSession', undefined, '/a'], ['getSession', 'ses_a']]);

  // Another device's use of the key is its own: a session in its workspace, never the first device's.
  assert.deepEqual(await router.handle({ t: 'session.create', id: '3', key: 'tsk_1' }, limited), { id: 'ses_b', directory: '/b' });
  // The first device, narrowed to /b since, resends: the session it made in /a is refused, not shown.
  const narrowed = { ...device, workspaces: ['/b'] } as Device;
  await assert.rejects(router.handle({ t: 'session.create', id: '4', key: 'tsk_1' }, narrowed), (e: unknown) => e instanceof RelayError && e.code === 'scope.denied');
  assert.equal(calls.filter((c) => c[0] === 'createSession').length, 2);
});
