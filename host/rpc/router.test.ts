import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RelayError } from '../../shared/protocol/errors.ts';
import type { RuntimeStatus } from '../../shared/protocol/messages.ts';
import type { Device } from '../devices/store.ts';
import { silentLogger } from '../log.ts';
import type { MetricsSnapshot } from '../metrics/metrics.ts';
import { createWorkspaceGate } from '../policy/workspaces.ts';
import { createRuntimeFacts } from '../runtime/facts.ts';
import type { SessionRecord } from '../tasks/ledger.ts';
import { createKeyedSessions } from '../tasks/keyed-sessions.ts';
import { createRouter, type RuntimeCalls } from './router.ts';
import type { PermissionGrants } from './permissions.ts';

const device = { id: 'dev_all', scopes: ['read', 'run', 'approve'] } as Device;
/** May use /b only. */
const limited = { id: 'dev_b', scopes: ['read', 'run', 'approve'], workspaces: ['/b'] } as Device;
/** As the bridge lists them: OpenCode's sessions, each with the runtime's status of it. */
const SESSIONS = [
  { id: 'ses_a', title: 'A', directory: '/a', time: { created: 1, updated: 2 }, relayStatus: { type: 'busy' } },
  { id: 'ses_b', title: 'B', directory: '/b', time: { created: 3, updated: 4 }, relayStatus: { type: 'idle' } },
];
/** The same sessions as devices get them. */
const A = { sessionId: 'ses_a', title: 'A', directory: '/a', createdAt: 1, updatedAt: 2 };
const B = { sessionId: 'ses_b', title: 'B', directory: '/b', createdAt: 3, updatedAt: 4 };
const LISTED_A = { ...A, state: { status: 'busy' }, waiting: false };
const LISTED_B = { ...B, state: { status: 'idle' }, waiting: true };
/** One stored message of the runtime's, with a part the relay carries and one it does not. */
const STORED = [{
  info: { id: 'msg_1', sessionID: 'x', role: 'user', time: { created: 5 } },
  parts: [{ id: 'prt_1', sessionID: 'x', messageID: 'msg_1', type: 'text', text: 'hi' }, { id: 'prt_2', sessionID: 'x', messageID: 'msg_1', type: 'snapshot', snapshot: 'abc' }],
}];
/** What the runtime lists: its sessions, and a nested workspace whose instance did not answer. */
const UNAVAILABLE = [{ workspace: '/a/sub', reason: 'the coding runtime did not answer in time' }];
/** The fields of a listed permission request the gate does not read. */
const BASH = { permission: 'bash', patterns: [], always: [] };
/** What OpenCode answers for the composer: a subagent and a hidden agent that are not offered, a skill among the commands. */
const CHOICES = {
  agents: [
    { name: 'build', description: 'The default agent.', mode: 'primary', native: true },
    { name: 'compaction', mode: 'primary', hidden: true },
    { name: 'explore', mode: 'subagent' },
    { name: 'plan', mode: 'primary' },
    { name: 'mine', mode: 'all' },
  ],
  commands: [{ name: 'init', description: 'guided AGENTS.md setup', source: 'command', template: 'x', hints: [] }, { name: 'greet', source: 'command' }, { description: 'no name' }],
  providers: {
    providers: [
      { id: 'fake', name: 'Fake', options: { apiKey: 'secret' }, models: { 'fake-model': { id: 'fake-model', name: 'Fake model' }, 'fake-smart': { id: 'fake-smart', name: 'Smart', variants: { low: {}, high: {} } } } },
    ],
    default: { fake: 'fake-model' },
  },
  model: 'fake/fake-smart',
};
const metrics = { snapshot: () => ({ enabled: true }) as unknown as MetricsSnapshot };

function setup(status: RuntimeStatus = { state: 'ready' }) {
  const calls: unknown[][] = [];
  const runtime: RuntimeCalls = {
    listSessions: async () => (calls.push(['listSessions']), { sessions: SESSIONS, unavailable: UNAVAILABLE }),
    messages: async (id) => (calls.push(['messages', id]), STORED),
    sessionStatus: async (id) => (calls.push(['sessionStatus', id]), { type: 'retry', attempt: 2, message: 'rate limited', next: 9 }),
    createSession: async (title, dir) => (calls.push(['createSession', title, dir]), SESSIONS[dir === '/b' ? 1 : 0]),
    abort: async (id) => (calls.push(['abort', id]), true),
    getSession: async (id) => (calls.push(['getSession', id]), SESSIONS.find((x) => x.id === id)!),
    choices: async (dir) => (calls.push(['choices', dir]), CHOICES),
  };
  const tasks = {
    submit: async (taskId: string, sessionId: string, text: string, choice?: object) => {
      calls.push(['submit', taskId, sessionId, text, ...(choice && Object.keys(choice).length ? [choice] : [])]);
      return { taskId, sessionId, messageId: 'msg_1', acceptedAt: 5 };
    },
  };
  const permissions = {
    reply: async (...a: unknown[]) => void calls.push(['reply', ...a]),
    pending: () => [{ type: 'permission.asked', requestId: 'per_b', sessionId: 'ses_b', permission: 'bash', patterns: [], always: [], metadata: {} }],
  } as Partial<PermissionGrants> as PermissionGrants;
  const gate = createWorkspaceGate({
    runtime: {
      getSession: async (id) => SESSIONS.find((x) => x.id === id)!,
      listPermissions: async () => ({ requests: [{ id: 'per_b', sessionID: 'ses_b', ...BASH }, { id: 'per_a', sessionID: 'ses_a', ...BASH }], unavailable: [], unseen: [] }),
    },
    facts: createRuntimeFacts(),
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
      getSession: async (id) => (calls.push(['getSession', id]), SESSIONS.find((x) => x.id === id)!),
      sessionsCreatedSince: async () => [],
    },
    log: silentLogger,
  });
  const router = createRouter({ runtime, tasks, sessions, permissions, workspaces: () => ['/a', '/b'], runtimeStatus: () => status, metrics, gate });
  return { router, calls };
}

test('each request maps to its runtime call, and the answer to the relay\'s own shapes', async () => {
  const { router, calls } = setup();
  assert.deepEqual(await router.handle({ t: 'sessions.list', id: '1' }, device), { sessions: [LISTED_A, LISTED_B], unavailable: UNAVAILABLE }, 'each with its live state, and whether a request waits');
  assert.deepEqual(await router.handle({ t: 'session.messages', id: '1', sessionId: 'x' }, device), {
    sessionId: 'x',
    state: { status: 'retry', attempt: 2, message: 'rate limited', next: 9 },
    messages: [{ messageId: 'msg_1', role: 'user', time: { created: 5 }, parts: [{ kind: 'text', partId: 'prt_1', text: 'hi', done: true }] }],
    todos: [],
  });
  assert.deepEqual(await router.handle({ t: 'session.create', id: '1' }, device), A);
  await router.handle({ t: 'session.create', id: '1', title: 'T', workspace: '/b' }, device);
  assert.deepEqual(await router.handle({ t: 'session.abort', id: '1', sessionId: 'x' }, device), {});
  assert.deepEqual(await router.handle({ t: 'task.submit', id: '1', taskId: 'k', sessionId: 'x', text: 'hi' }, device), { taskId: 'k', sessionId: 'x', messageId: 'msg_1', acceptedAt: 5 });
  assert.deepEqual(await router.handle({ t: 'permission.reply', id: '1', requestId: 'p', reply: 'session' }, device), {});
  assert.deepEqual(calls, [
    ['listSessions'], ['messages', 'x'], ['sessionStatus', 'x'], ['createSession', undefined, '/a'], ['createSession', 'T', '/b'], ['abort', 'x'],
    ['submit', 'k', 'x', 'hi'], ['reply', 'p', 'session', undefined],
  ]);
});

test('composer.options offers the primary agents, the models with their variants and the commands, of the session\'s workspace', async () => {
  const { router, calls } = setup();
  const options = await router.handle({ t: 'composer.options', id: '1', sessionId: 'ses_b' }, device);
  assert.deepEqual(options, {
    agents: [{ name: 'build', description: 'The default agent.' }, { name: 'plan' }, { name: 'mine' }],
    defaultAgent: 'build',
    models: [
      { providerId: 'fake', providerName: 'Fake', modelId: 'fake-model', name: 'Fake model', variants: [] },
      { providerId: 'fake', providerName: 'Fake', modelId: 'fake-smart', name: 'Smart', variants: ['low', 'high'] },
    ],
    defaultModel: { providerId: 'fake', modelId: 'fake-smart' },
    commands: [{ name: 'init', description: 'guided AGENTS.md setup', source: 'command' }, { name: 'greet', source: 'command' }],
  });
  assert.ok(!JSON.stringify(options).includes('secret'), 'no provider key leaves the host');
  await router.handle({ t: 'composer.options', id: '2' }, limited);
  assert.deepEqual(calls, [['getSession', 'ses_b'], ['choices', '/b'], ['choices', '/b']], 'a new session\'s: the device\'s own first workspace');
  await assert.rejects(router.handle({ t: 'composer.options', id: '3', sessionId: 'ses_a' }, limited), (e: unknown) => e instanceof RelayError && e.code === 'scope.denied');
});

test('task.submit passes the chosen agent, model, variant or command on', async () => {
  const { router, calls } = setup();
  const model = { providerId: 'fake', modelId: 'fake-smart' };
  await router.handle({ t: 'task.submit', id: '1', taskId: 'k', sessionId: 'x', text: 'hi', agent: 'plan', model, variant: 'high' }, device);
  await router.handle({ t: 'task.submit', id: '2', taskId: 'c', sessionId: 'x', text: '', command: 'init' }, device);
  assert.deepEqual(calls, [['submit', 'k', 'x', 'hi', { agent: 'plan', model, variant: 'high' }], ['submit', 'c', 'x', '', { command: 'init' }]]);
});

test('a session the runtime lists malformed is left out, not the whole list', async () => {
  const { router } = setup();
  SESSIONS.push({ id: 'ses_bad', directory: '/a' } as (typeof SESSIONS)[number]);
  try {
    assert.deepEqual((await router.handle({ t: 'sessions.list', id: '1' }, device) as { sessions: unknown[] }).sessions, [LISTED_A, LISTED_B]);
  } finally {
    SESSIONS.pop();
  }
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
  assert.deepEqual(await router.handle({ t: 'sessions.list', id: '1' }, limited), { sessions: [LISTED_B], unavailable: [] }, 'nor does it learn of a workspace it may not use');
  const onlyA = { scopes: ['read'], workspaces: ['/a'] } as Device;
  assert.deepEqual(await router.handle({ t: 'sessions.list', id: '1' }, onlyA), { sessions: [LISTED_A], unavailable: UNAVAILABLE });
  await router.handle({ t: 'session.create', id: '1' }, limited);
  assert.deepEqual(calls.at(-1), ['createSession', undefined, '/b'], 'its own first workspace is its default');
  await router.handle({ t: 'session.messages', id: '1', sessionId: 'ses_b' }, limited);
  await router.handle({ t: 'permission.reply', id: '1', requestId: 'per_b', reply: 'once' }, limited);
  calls.length = 0;
  const refused = (e: unknown) => e instanceof RelayError && e.code === 'scope.denied' && /workspace/.test(e.message);
  await assert.rejects(router.handle({ t: 'session.create', id: '1', workspace: '/a' }, limited), refused);
  await assert.rejects(router.handle({ t: 'session.messages', id: '1', sessionId: 'ses_a' }, limited), refused);
  await assert.rejects(router.handle({ t: 'session.abort', id: '1', sessionId: 'ses_a' }, limited), refused);
  await assert.rejects(router.handle({ t: 'task.submit', id: '1', taskId: 'k', sessionId: 'ses_a', text: 'x' }, limited), refused);
  await assert.rejects(router.handle({ t: 'permission.reply', id: '1', requestId: 'per_a', reply: 'once' }, limited), refused);
  assert.deepEqual(calls, [], 'nothing reached the runtime');
});

test('session.create with a key makes one session per device and key; a repeat still passes the workspace gate', async () => {
  const { router, calls } = setup();
  const made = await router.handle({ t: 'session.create', id: '1', key: 'tsk_1' }, device);
  assert.deepEqual(made, A);
  assert.deepEqual(await router.handle({ t: 'session.create', id: '2', key: 'tsk_1' }, device), A, 'the resend gets the same session');
  assert.deepEqual(calls, [['createSession', undefined, '/a'], ['getSession', 'ses_a']]);

  // Another device's use of the key is its own: a session in its workspace, never the first device's.
  assert.deepEqual(await router.handle({ t: 'session.create', id: '3', key: 'tsk_1' }, limited), B);
  // The first device, narrowed to /b since, resends: the session it made in /a is refused, not shown.
  const narrowed = { ...device, workspaces: ['/b'] } as Device;
  await assert.rejects(router.handle({ t: 'session.create', id: '4', key: 'tsk_1' }, narrowed), (e: unknown) => e instanceof RelayError && e.code === 'scope.denied');
  assert.equal(calls.filter((c) => c[0] === 'createSession').length, 2);
});
