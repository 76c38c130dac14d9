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
import { createInterruptions } from '../tasks/interruptions.ts';
import { openTaskLedger } from '../tasks/ledger.ts';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRouter, type RouterOptions, type RuntimeCalls } from './router.ts';
import { openAttachmentStore } from '../attachments/store.ts';
import { createHash } from 'node:crypto';
import type { PermissionGrants } from './permissions.ts';
import type { QuestionAskedEvent } from '../../shared/protocol/questions.ts';

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
// ses_a's last message (STORED) is a prompt, "hi"; ses_b's (TURNS) have no text.
const LISTED_A = { ...A, state: { status: 'busy' }, waiting: false, preview: 'hi' };
const LISTED_B = { ...B, state: { status: 'idle' }, waiting: true };
/** One stored message of the runtime's, with a part the relay carries and one it does not. */
const STORED = [
  {
    info: { id: 'msg_1', sessionID: 'x', role: 'user', time: { created: 5 } },
    parts: [
      { id: 'prt_1', sessionID: 'x', messageID: 'msg_1', type: 'text', text: 'hi' },
      { id: 'prt_2', sessionID: 'x', messageID: 'msg_1', type: 'snapshot', snapshot: 'abc' },
    ],
  },
];
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
  commands: [
    { name: 'init', description: 'guided AGENTS.md setup', source: 'command', template: 'x', hints: [] },
    { name: 'greet', source: 'command' },
    { description: 'no name' },
  ],
  providers: {
    providers: [
      {
        id: 'fake',
        name: 'Fake',
        options: { apiKey: 'secret' },
        models: { 'fake-model': { id: 'fake-model', name: 'Fake model' }, 'fake-smart': { id: 'fake-smart', name: 'Smart', variants: { low: {}, high: {} } } },
      },
    ],
    default: { fake: 'fake-model' },
  },
  model: 'fake/fake-smart',
};
/** OpenCode's `/config/providers`: the fake model's context window is 1000 tokens; fake-smart's is unknown (0). */
const PROVIDERS = {
  providers: [
    { id: 'fake', models: { 'fake-model': { id: 'fake-model', limit: { context: 1000, output: 100 } }, 'fake-smart': { id: 'fake-smart', limit: { context: 0, output: 0 } } } },
  ],
};
/** OpenCode's `/vcs` and `/vcs/status`, with one malformed entry. */
const VCS = {
  info: { branch: 'feature/x', default_branch: 'main' },
  files: [
    { file: 'src/a.ts', additions: 2, deletions: 1, status: 'modified' },
    { file: 'new.txt', additions: 3, deletions: 0, status: 'added' },
    { file: 'odd.txt', additions: 1, deletions: 0, status: 'renamed' },
  ],
};
/** OpenCode's replies as stored: tokens and cost on each; the latest with output is what fills the context. */
const reply = (id: string, modelID: string, tokens: object, cost: number) => ({
  info: { id, sessionID: 'ses_b', role: 'assistant', time: { created: 7, completed: 8 }, providerID: 'fake', modelID, cost, tokens },
  parts: [],
});
const REPLIES = [
  ...STORED,
  reply('msg_6', 'fake-smart', { input: 100, output: 20, reasoning: 5, cache: { read: 40, write: 10 } }, 0.01),
  reply('msg_7', 'fake-model', { input: 300, output: 30, reasoning: 0, cache: { read: 60, write: 0 } }, 0.02),
  // Cut off before it wrote anything: counted, but not what the context holds.
  reply('msg_8', 'fake-smart', { input: 0, output: 0, reasoning: 0, cache: { read: 0, write: 0 } }, 0),
  { info: { id: 'msg_9', sessionID: 'ses_b', role: 'assistant', time: { created: 9 }, tokens: 'broken' }, parts: [] },
];
const metrics = { snapshot: () => ({ enabled: true }) as unknown as MetricsSnapshot };

/** A session of three turns as the runtime stores it: each turn's diff is on its user message. */
const user = (id: string, diffs: unknown[]) => ({ info: { id, sessionID: 'ses_b', role: 'user', time: { created: 1 }, summary: { diffs } }, parts: [] });
const TURNS = [
  user('msg_1', [{ file: 'src/a.ts', patch: '@@ -1 +1 @@\n-a\n+b\n', additions: 1, deletions: 1, status: 'modified' }]),
  { info: { id: 'msg_2', sessionID: 'ses_b', role: 'assistant', time: { created: 2 } }, parts: [] },
  user('msg_3', [
    { file: 'new.txt', additions: 3, deletions: 0, status: 'added' },
    { file: 'src/a.ts', patch: '@@ -1 +1 @@\n-b\n+c\n', additions: 1, deletions: 1, status: 'modified' },
  ]),
  user('msg_4', [{ file: 'new.txt', additions: 1, deletions: 0, status: 'modified' }, { file: 'bad.txt' }]),
];

/** `list`: what the runtime lists for a query (default: SESSIONS, whatever is asked). */
function setup(status: RuntimeStatus, t: { after(fn: () => void): void }, list?: (query: { limit?: number; search?: string } | undefined) => unknown[]) {
  const calls: unknown[][] = [];
  const runtime: RuntimeCalls = {
    listSessions: async (query) => {
      if (!list) return (calls.push(['listSessions']), { sessions: SESSIONS, unavailable: UNAVAILABLE });
      calls.push(['listSessions', query]);
      return { sessions: list(query), unavailable: [] };
    },
    // Like the bridge: with `before`, only the messages before it (the router cuts the page).
    messages: async (id, limit, before) => {
      calls.push(before === undefined ? ['messages', id] : ['messages', id, limit, before]);
      const all = id === 'ses_b' ? TURNS : STORED;
      return before === undefined
        ? all
        : all.slice(
            0,
            all.findIndex((m) => m.info.id === before),
          );
    },
    // ses_b is idle; every other session is retrying (running).
    sessionStatus: async (id) => (calls.push(['sessionStatus', id]), id === 'ses_b' ? { type: 'idle' } : { type: 'retry', attempt: 2, message: 'rate limited', next: 9 }),
    createSession: async (title, dir) => (calls.push(['createSession', title, dir]), SESSIONS[dir === '/b' ? 1 : 0]),
    abort: async (id) => (calls.push(['abort', id]), true),
    revert: async (id, messageId, partId) => (calls.push(['revert', id, messageId, partId]), { ...SESSIONS[1], revert: { messageID: messageId } }),
    unrevert: async (id) => (calls.push(['unrevert', id]), SESSIONS[1]),
    renameSession: async (id, title) => (calls.push(['renameSession', id, title]), { ...SESSIONS[1], title }),
    forkSession: async (id, messageId) => (calls.push(['forkSession', id, messageId]), { ...SESSIONS[1], id: 'ses_fork' }),
    deleteSession: async (id) => (calls.push(['deleteSession', id]), true),
    compact: async (id, model) => (calls.push(['compact', id, model]), true),
    getSession: async (id) => (calls.push(['getSession', id]), SESSIONS.find((x) => x.id === id)!),
    choices: async (dir) => (calls.push(['choices', dir]), CHOICES),
    providers: async (dir) => (calls.push(['providers', dir]), PROVIDERS),
    vcs: async (dir) => (calls.push(['vcs', dir]), VCS),
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
  /** The agent's questions waiting now (a test adds some). */
  const asked: QuestionAskedEvent[] = [];
  const questions: RouterOptions['questions'] = {
    reply: async (...a: unknown[]) => void calls.push(['question.reply', ...a]),
    reject: async (...a: unknown[]) => void calls.push(['question.reject', ...a]),
    pending: () => asked,
  };
  const gate = createWorkspaceGate({
    runtime: {
      getSession: async (id) => SESSIONS.find((x) => x.id === id)!,
      listPermissions: async () => ({
        requests: [
          { id: 'per_b', sessionID: 'ses_b', ...BASH },
          { id: 'per_a', sessionID: 'ses_a', ...BASH },
        ],
        unavailable: [],
        unseen: [],
      }),
      listQuestions: async () => ({
        requests: [
          { id: 'que_b', sessionID: 'ses_b', questions: [] },
          { id: 'que_a', sessionID: 'ses_a', questions: [] },
        ],
        unavailable: [],
        unseen: [],
      }),
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
  const dir = mkdtempSync(join(tmpdir(), 'owr-router-'));
  const ledger = openTaskLedger({ dir, log: silentLogger });
  t.after(() => (ledger.close(), rmSync(dir, { recursive: true, force: true })));
  const interruptions = createInterruptions({ ledger, runtime, log: silentLogger, onInterrupted: () => {} });
  const attachments = openAttachmentStore({ dir: join(dir, 'attachments'), log: silentLogger });
  t.after(() => attachments.close());
  const router = createRouter({
    runtime,
    tasks,
    sessions,
    permissions,
    questions,
    workspaces: () => ['/a', '/b'],
    runtimeStatus: () => status,
    metrics,
    gate,
    interruptions,
    attachments,
  });
  return { router, calls, ledger, asked, dir };
}

test("a session whose agent's question waits is listed as waiting, like one with a permission request", async (t) => {
  const { router, asked } = setup({ state: 'ready' }, t);
  asked.push({ type: 'question.asked', requestId: 'que_a', sessionId: 'ses_a', questions: [] });
  assert.deepEqual(await router.handle({ t: 'sessions.list', id: '1' }, device), { sessions: [{ ...LISTED_A, waiting: true }, LISTED_B], unavailable: UNAVAILABLE });
});

test("each request maps to its runtime call, and the answer to the relay's own shapes", async (t) => {
  const { router, calls } = setup({ state: 'ready' }, t);
  assert.deepEqual(
    await router.handle({ t: 'sessions.list', id: '1' }, device),
    { sessions: [LISTED_A, LISTED_B], unavailable: UNAVAILABLE },
    'each with its live state, and whether a request waits',
  );
  assert.deepEqual(await router.handle({ t: 'session.messages', id: '1', sessionId: 'x' }, device), {
    sessionId: 'x',
    state: { status: 'retry', attempt: 2, message: 'rate limited', next: 9 },
    messages: [{ messageId: 'msg_1', role: 'user', time: { created: 5 }, parts: [{ kind: 'text', partId: 'prt_1', text: 'hi', done: true }] }],
    todos: [],
  });
  assert.deepEqual(await router.handle({ t: 'session.create', id: '1' }, device), A);
  await router.handle({ t: 'session.create', id: '1', title: 'T', workspace: '/b' }, device);
  assert.deepEqual(await router.handle({ t: 'session.abort', id: '1', sessionId: 'x' }, device), { running: true });
  assert.deepEqual(await router.handle({ t: 'task.submit', id: '1', taskId: 'k', sessionId: 'x', text: 'hi' }, device), {
    taskId: 'k',
    sessionId: 'x',
    messageId: 'msg_1',
    acceptedAt: 5,
  });
  assert.deepEqual(await router.handle({ t: 'permission.reply', id: '1', requestId: 'p', reply: 'session' }, device), {});
  assert.deepEqual(await router.handle({ t: 'question.reply', id: '1', requestId: 'que_a', answers: [['Yes']] }, device), {});
  assert.deepEqual(await router.handle({ t: 'question.reject', id: '1', requestId: 'que_a' }, device), {});
  assert.deepEqual(calls, [
    ['listSessions'],
    // Each listed session's last message, for its preview.
    ['messages', 'ses_a'],
    ['messages', 'ses_b'],
    ['messages', 'x'],
    ['sessionStatus', 'x'],
    ['createSession', undefined, '/a'],
    ['createSession', 'T', '/b'],
    ['sessionStatus', 'x'],
    ['abort', 'x'],
    ['submit', 'k', 'x', 'hi'],
    ['reply', 'p', 'session', undefined],
    ['question.reply', 'que_a', [['Yes']]],
    ['question.reject', 'que_a'],
  ]);
});

test("composer.options offers the primary agents, the models with their variants and the commands, of the session's workspace", async (t) => {
  const { router, calls } = setup({ state: 'ready' }, t);
  const options = await router.handle({ t: 'composer.options', id: '1', sessionId: 'ses_b' }, device);
  assert.deepEqual(options, {
    agents: [{ name: 'build', description: 'The default agent.' }, { name: 'plan' }, { name: 'mine' }],
    defaultAgent: 'build',
    models: [
      { providerId: 'fake', providerName: 'Fake', modelId: 'fake-model', name: 'Fake model', variants: [] },
      { providerId: 'fake', providerName: 'Fake', modelId: 'fake-smart', name: 'Smart', variants: ['low', 'high'] },
    ],
    defaultModel: { providerId: 'fake', modelId: 'fake-smart' },
    commands: [
      { name: 'init', description: 'guided AGENTS.md setup', source: 'command' },
      { name: 'greet', source: 'command' },
    ],
  });
  assert.ok(!JSON.stringify(options).includes('secret'), 'no provider key leaves the host');
  await router.handle({ t: 'composer.options', id: '2' }, limited);
  assert.deepEqual(
    calls,
    [
      ['getSession', 'ses_b'],
      ['choices', '/b'],
      ['choices', '/b'],
    ],
    "a new session's: the device's own first workspace",
  );
  await assert.rejects(router.handle({ t: 'composer.options', id: '3', sessionId: 'ses_a' }, limited), (e: unknown) => e instanceof RelayError && e.code === 'scope.denied');
});

test('task.submit passes the chosen agent, model, variant or command on', async (t) => {
  const { router, calls } = setup({ state: 'ready' }, t);
  const model = { providerId: 'fake', modelId: 'fake-smart' };
  await router.handle({ t: 'task.submit', id: '1', taskId: 'k', sessionId: 'x', text: 'hi', agent: 'plan', model, variant: 'high' }, device);
  await router.handle({ t: 'task.submit', id: '2', taskId: 'c', sessionId: 'x', text: '', command: 'init' }, device);
  assert.deepEqual(calls, [
    ['submit', 'k', 'x', 'hi', { agent: 'plan', model, variant: 'high' }],
    ['submit', 'c', 'x', '', { command: 'init' }],
  ]);
});

test("task.submit sends the device's attached files, uploaded while the runtime was down; another device cannot name them", async (t) => {
  const status: RuntimeStatus = { state: 'starting' };
  const { router, calls, dir } = setup(status, t);
  const bytes = Buffer.from('a picture, in two chunks');
  const file = { attachmentId: 'att_1', name: 'photo.png', mime: 'image/png', size: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') };
  const put = (offset: number, data: Buffer) => router.handle({ t: 'attachment.put', id: 'p', ...file, offset, data: data.toString('base64url') }, device);
  assert.deepEqual(await put(0, bytes.subarray(0, 10)), { received: 10, complete: false });
  assert.deepEqual(await put(0, bytes.subarray(0, 10)), { received: 10, complete: false }, 'a chunk sent again changes nothing');
  assert.deepEqual(await put(10, bytes.subarray(10)), { received: bytes.length, complete: true });
  assert.deepEqual(await put(0, Buffer.alloc(0)), { received: bytes.length, complete: true }, 'an empty chunk asks how much the host holds');

  const submit = (who: Device) => router.handle({ t: 'task.submit', id: '1', taskId: 'k', sessionId: 'x', text: 'look', attachments: ['att_1'] }, who);
  await assert.rejects(submit(device), (e: unknown) => e instanceof RelayError && e.code === 'runtime.not-ready');
  status.state = 'ready';
  await submit(device);
  const [, , , , choice] = calls.at(-1)! as [string, string, string, string, { files: { path: string }[] }];
  const path = choice.files[0]!.path;
  assert.deepEqual(calls.at(-1), ['submit', 'k', 'x', 'look', { files: [{ path, mime: 'image/png', filename: 'photo.png' }] }]);
  assert.ok(path.startsWith(join(dir, 'attachments')), 'in the data directory');
  assert.deepEqual(readFileSync(path), bytes);
  await assert.rejects(submit({ ...device, id: 'dev_other' } as Device), (e: unknown) => e instanceof RelayError && e.code === 'request.unknown');
  await assert.rejects(
    router.handle({ t: 'task.submit', id: '2', taskId: 'c', sessionId: 'x', text: '', command: 'init', attachments: ['att_1'] }, device),
    (e: unknown) => e instanceof RelayError && /command takes no attached files/.test(e.message),
  );
});

test('a session the runtime lists malformed is left out, not the whole list', async (t) => {
  const { router } = setup({ state: 'ready' }, t);
  SESSIONS.push({ id: 'ses_bad', directory: '/a' } as (typeof SESSIONS)[number]);
  try {
    assert.deepEqual(((await router.handle({ t: 'sessions.list', id: '1' }, device)) as { sessions: unknown[] }).sessions, [LISTED_A, LISTED_B]);
  } finally {
    SESSIONS.pop();
  }
});

test('a workspace the host does not serve is refused', async (t) => {
  const { router, calls } = setup({ state: 'ready' }, t);
  await assert.rejects(router.handle({ t: 'session.create', id: '1', workspace: '/etc' }, device), (e: unknown) => e instanceof RelayError && e.code === 'request.unknown');
  assert.deepEqual(calls, []);
});

test('nothing is called while the runtime is not ready', async (t) => {
  const { router, calls } = setup({ state: 'restarting' }, t);
  await assert.rejects(router.handle({ t: 'sessions.list', id: '1' }, device), (e: unknown) => e instanceof RelayError && e.code === 'runtime.not-ready');
  assert.deepEqual(calls, []);
});

test('metrics.get answers from the host while the runtime is not ready', async (t) => {
  const { router, calls } = setup({ state: 'restarting', error: 'it crashed' }, t);
  assert.deepEqual(await router.handle({ t: 'metrics.get', id: '1' }, device), { enabled: true });
  await assert.rejects(router.handle({ t: 'sessions.list', id: '2' }, device), (err: RelayError) => err.code === 'runtime.not-ready');
  assert.deepEqual(calls, []);
});

test('a device limited to one workspace sees, creates in and acts on that workspace only', async (t) => {
  const { router, calls } = setup({ state: 'ready' }, t);
  assert.deepEqual(await router.handle({ t: 'sessions.list', id: '1' }, limited), { sessions: [LISTED_B], unavailable: [] }, 'nor does it learn of a workspace it may not use');
  const onlyA = { scopes: ['read'], workspaces: ['/a'] } as Device;
  assert.deepEqual(await router.handle({ t: 'sessions.list', id: '1' }, onlyA), { sessions: [LISTED_A], unavailable: UNAVAILABLE });
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

test('session.create with a key makes one session per device and key; a repeat still passes the workspace gate', async (t) => {
  const { router, calls } = setup({ state: 'ready' }, t);
  const made = await router.handle({ t: 'session.create', id: '1', key: 'tsk_1' }, device);
  assert.deepEqual(made, A);
  assert.deepEqual(await router.handle({ t: 'session.create', id: '2', key: 'tsk_1' }, device), A, 'the resend gets the same session');
  assert.deepEqual(calls, [
    ['createSession', undefined, '/a'],
    ['getSession', 'ses_a'],
  ]);

  // Another device's use of the key is its own: a session in its workspace, never the first device's.
  assert.deepEqual(await router.handle({ t: 'session.create', id: '3', key: 'tsk_1' }, limited), B);
  // The first device, narrowed to /b since, resends: the session it made in /a is refused, not shown.
  const narrowed = { ...device, workspaces: ['/b'] } as Device;
  await assert.rejects(router.handle({ t: 'session.create', id: '4', key: 'tsk_1' }, narrowed), (e: unknown) => e instanceof RelayError && e.code === 'scope.denied');
  assert.equal(calls.filter((c) => c[0] === 'createSession').length, 2);
});

test("a turn cut short is part of the session's state: in the list while the session is idle, and in its transcript", async (t) => {
  const { router, ledger } = setup({ state: 'ready' }, t);
  const cut = { messageId: 'msg_p', replyId: 'msg_r', at: 7, reason: 'host-restarted' as const };
  ledger.interrupt({ sessionId: 'ses_b', ...cut });
  ledger.interrupt({ sessionId: 'ses_a', ...cut }); // ses_a runs again: its state is the runtime's
  assert.deepEqual(await router.handle({ t: 'sessions.list', id: '1' }, device), { sessions: [LISTED_A, { ...LISTED_B, interrupted: cut }], unavailable: UNAVAILABLE });
  const transcript = (await router.handle({ t: 'session.messages', id: '1', sessionId: 'ses_a' }, device)) as { interrupted?: unknown; interruptions?: unknown };
  assert.equal(transcript.interrupted, undefined, 'retrying: running, not interrupted');
  assert.deepEqual(transcript.interruptions, [cut], 'the cut turn stays in its history');
});

test("review and management requests map to their runtime calls and answer in the relay's shapes", async (t) => {
  const { router, calls } = setup({ state: 'ready' }, t);
  assert.deepEqual(
    await router.handle({ t: 'session.diff', id: '1', sessionId: 'ses_b' }, device),
    {
      files: [
        { path: 'src/a.ts', patch: '@@ -1 +1 @@\n-a\n+b\n\n@@ -1 +1 @@\n-b\n+c\n', additions: 2, deletions: 2, status: 'modified' },
        { path: 'new.txt', additions: 4, deletions: 0, status: 'added' },
      ],
    },
    "every turn's diff, per file; a malformed entry left out",
  );
  assert.deepEqual(
    await router.handle({ t: 'session.diff', id: '1', sessionId: 'ses_b', messageId: 'msg_4' }, device),
    {
      files: [{ path: 'new.txt', additions: 1, deletions: 0, status: 'modified' }],
    },
    'from that turn on',
  );
  assert.deepEqual(
    ((await router.handle({ t: 'session.diff', id: '1', sessionId: 'ses_b', messageId: 'msg_2' }, device)) as { files: unknown[] }).files.length,
    2,
    'an assistant message: from its turn on',
  );
  await assert.rejects(
    router.handle({ t: 'session.diff', id: '1', sessionId: 'ses_b', messageId: 'msg_9' }, device),
    (e: unknown) => e instanceof RelayError && e.code === 'request.unknown',
  );
  assert.deepEqual(await router.handle({ t: 'session.revert', id: '1', sessionId: 'ses_b', messageId: 'msg_1' }, device), { ...B, revertedTo: 'msg_1' });
  assert.deepEqual(await router.handle({ t: 'session.unrevert', id: '1', sessionId: 'ses_b' }, device), B);
  assert.deepEqual(await router.handle({ t: 'session.rename', id: '1', sessionId: 'ses_b', title: 'New' }, device), { ...B, title: 'New' });
  assert.deepEqual(await router.handle({ t: 'session.fork', id: '1', sessionId: 'ses_b', messageId: 'msg_1' }, device), { ...B, sessionId: 'ses_fork' });
  assert.deepEqual(await router.handle({ t: 'session.delete', id: '1', sessionId: 'ses_b' }, device), {});
  assert.deepEqual(calls, [
    ['messages', 'ses_b'],
    ['messages', 'ses_b'],
    ['messages', 'ses_b'],
    ['messages', 'ses_b'],
    ['sessionStatus', 'ses_b'],
    ['revert', 'ses_b', 'msg_1', undefined],
    ['sessionStatus', 'ses_b'],
    ['unrevert', 'ses_b'],
    ['renameSession', 'ses_b', 'New'],
    ['forkSession', 'ses_b', 'msg_1'],
    ['deleteSession', 'ses_b'],
  ]);
});

test("session.usage sums the replies' tokens and cost and measures the latest reply against its model's context window", async (t) => {
  const { router, calls } = setup({ state: 'ready' }, t);
  TURNS.push(...(REPLIES as unknown as typeof TURNS));
  try {
    assert.deepEqual(await router.handle({ t: 'session.usage', id: '1', sessionId: 'ses_b' }, device), {
      tokens: { input: 400, output: 50, reasoning: 5, cacheRead: 100, cacheWrite: 10 },
      cost: 0.03,
      context: { providerId: 'fake', modelId: 'fake-model', used: 390, limit: 1000 },
    });
  } finally {
    TURNS.splice(-REPLIES.length);
  }
  assert.deepEqual(calls, [
    ['messages', 'ses_b'],
    ['getSession', 'ses_b'],
    ['providers', '/b'],
  ]);
  assert.deepEqual(
    await router.handle({ t: 'session.usage', id: '2', sessionId: 'ses_b' }, device),
    { tokens: { input: 0, output: 0, reasoning: 0, cacheRead: 0, cacheWrite: 0 } },
    'no reply yet: no cost, no context',
  );
});

test("workspace.vcs answers the branch and changed files of a session's directory, or of a workspace", async (t) => {
  const { router, calls } = setup({ state: 'ready' }, t);
  const files = [
    { path: 'src/a.ts', status: 'modified', additions: 2, deletions: 1 },
    { path: 'new.txt', status: 'added', additions: 3, deletions: 0 },
  ];
  assert.deepEqual(await router.handle({ t: 'workspace.vcs', id: '1', sessionId: 'ses_b' }, device), { directory: '/b', branch: 'feature/x', defaultBranch: 'main', files });
  assert.deepEqual(await router.handle({ t: 'workspace.vcs', id: '2', workspace: '/a' }, device), { directory: '/a', branch: 'feature/x', defaultBranch: 'main', files });
  assert.equal(((await router.handle({ t: 'workspace.vcs', id: '3' }, limited)) as { directory: string }).directory, '/b', "a limited device's default is its own workspace");
  await assert.rejects(router.handle({ t: 'workspace.vcs', id: '4', workspace: '/elsewhere' }, device), (e: unknown) => e instanceof RelayError && e.code === 'request.unknown');
  assert.deepEqual(calls, [
    ['getSession', 'ses_b'],
    ['vcs', '/b'],
    ['vcs', '/a'],
    ['vcs', '/b'],
  ]);
});

test('compact uses the model the session last used, and is refused for a session with no turn', async (t) => {
  const { router, calls } = setup({ state: 'ready' }, t);
  TURNS.push({
    info: { id: 'msg_5', sessionID: 'ses_b', role: 'assistant', time: { created: 6 }, providerID: 'fake', modelID: 'fake-model' },
    parts: [],
  } as (typeof TURNS)[number]);
  try {
    assert.deepEqual(await router.handle({ t: 'session.compact', id: '1', sessionId: 'ses_b' }, device), {});
  } finally {
    TURNS.pop();
  }
  assert.deepEqual(calls.at(-1), ['compact', 'ses_b', { providerID: 'fake', modelID: 'fake-model' }]);
  await assert.rejects(
    router.handle({ t: 'session.compact', id: '2', sessionId: 'ses_b' }, device),
    (e: unknown) => e instanceof RelayError && e.code === 'request.unknown' && /no turn/.test(e.message),
  );
});

test('revert, unrevert and compact are refused while the session runs, saying so, and reach nothing else', async (t) => {
  const { router, calls } = setup({ state: 'ready' }, t);
  const busy = (e: unknown) => e instanceof RelayError && e.code === 'session.busy' && /running/.test(e.message);
  await assert.rejects(router.handle({ t: 'session.revert', id: '1', sessionId: 'ses_a', messageId: 'msg_1' }, device), busy);
  await assert.rejects(router.handle({ t: 'session.unrevert', id: '1', sessionId: 'ses_a' }, device), busy);
  await assert.rejects(router.handle({ t: 'session.compact', id: '1', sessionId: 'ses_a' }, device), busy);
  assert.deepEqual(calls, [
    ['sessionStatus', 'ses_a'],
    ['sessionStatus', 'ses_a'],
    ['sessionStatus', 'ses_a'],
  ]);
});

test("a device limited to one workspace can neither review nor manage another workspace's sessions, nor read its files", async (t) => {
  const { router, calls } = setup({ state: 'ready' }, t);
  const refused = (e: unknown) => e instanceof RelayError && e.code === 'scope.denied';
  for (const request of [
    { t: 'session.diff', id: '1', sessionId: 'ses_a' },
    { t: 'session.revert', id: '1', sessionId: 'ses_a', messageId: 'msg_1' },
    { t: 'session.unrevert', id: '1', sessionId: 'ses_a' },
    { t: 'session.rename', id: '1', sessionId: 'ses_a', title: 'x' },
    { t: 'session.delete', id: '1', sessionId: 'ses_a' },
    { t: 'session.fork', id: '1', sessionId: 'ses_a' },
    { t: 'session.compact', id: '1', sessionId: 'ses_a' },
    { t: 'session.usage', id: '1', sessionId: 'ses_a' },
    { t: 'workspace.vcs', id: '1', sessionId: 'ses_a' },
    { t: 'workspace.vcs', id: '1', workspace: '/a' },
  ] as const) {
    await assert.rejects(router.handle(request, limited), refused, request.t);
  }
  await assert.rejects(router.handle({ t: 'file.read', id: '1', path: '/a/secret' }, limited), (e: unknown) => e instanceof RelayError && e.code === 'file.refused');
  await assert.rejects(router.handle({ t: 'file.read', id: '1', path: 'x', workspace: '/a' }, limited), (e: unknown) => e instanceof RelayError && e.code === 'file.refused');
  assert.deepEqual(calls, [], 'nothing reached the runtime');
});

test('sessions.list pages a hundred at a time with a cursor, and passes a search to the runtime', async (t) => {
  const many = Array.from({ length: 250 }, (_, i) => ({ id: `ses_${i}`, title: `S${i}`, directory: '/a', time: { created: 1, updated: 1000 - i }, relayStatus: { type: 'idle' } }));
  const { router, calls } = setup({ state: 'ready' }, t, (query) => many.slice(0, query?.limit));
  type Page = { sessions: Array<{ sessionId: string }>; next?: string };
  const first = (await router.handle({ t: 'sessions.list', id: '1' }, device)) as Page;
  assert.equal(first.sessions.length, 100);
  assert.equal(first.sessions[0]!.sessionId, 'ses_0');
  assert.equal(first.next, '100');
  const second = (await router.handle({ t: 'sessions.list', id: '2', cursor: first.next }, device)) as Page;
  assert.deepEqual([second.sessions[0]!.sessionId, second.sessions.at(-1)!.sessionId, second.next], ['ses_100', 'ses_199', '200']);
  const third = (await router.handle({ t: 'sessions.list', id: '3', cursor: second.next }, device)) as Page;
  assert.deepEqual([third.sessions.length, third.sessions.at(-1)!.sessionId, third.next], [50, 'ses_249', undefined]);
  await router.handle({ t: 'sessions.list', id: '4', search: 'S1' }, device);
  assert.deepEqual(
    calls.filter((c) => c[0] === 'listSessions'),
    [
      ['listSessions', { limit: 101 }],
      ['listSessions', { limit: 201 }],
      ['listSessions', { limit: 301 }],
      ['listSessions', { limit: 101, search: 'S1' }],
    ],
  );
  // Each idle session's last message is read once, not again while it did not change (the search).
  const read = calls.filter((c) => c[0] === 'messages').map((c) => c[1]);
  assert.equal(read.length, 250);
  assert.equal(new Set(read).size, 250);
});

test('session.messages pages a long session from its newest messages back, each page with the session state', async (t) => {
  const { router, calls } = setup({ state: 'ready' }, t);
  const ids = (v: unknown) => (v as { messages: { messageId: string }[] }).messages.map((m) => m.messageId);
  const newest = (await router.handle({ t: 'session.messages', id: '1', sessionId: 'ses_b', limit: 2 }, device)) as { more?: boolean; state: unknown };
  assert.deepEqual(ids(newest), ['msg_3', 'msg_4']);
  assert.equal(newest.more, true, 'earlier messages exist');
  assert.deepEqual(newest.state, { status: 'idle' });
  const earlier = (await router.handle({ t: 'session.messages', id: '2', sessionId: 'ses_b', limit: 2, before: 'msg_3' }, device)) as { more?: boolean };
  assert.deepEqual(ids(earlier), ['msg_1', 'msg_2']);
  assert.equal(earlier.more, undefined, 'the first page says nothing more');
  assert.deepEqual(
    calls.filter((c) => c[0] === 'messages' && c.length > 2),
    [['messages', 'ses_b', 3, 'msg_3']],
    'the runtime is asked for the page (and one more), not the whole session',
  );
  const all = await router.handle({ t: 'session.messages', id: '3', sessionId: 'ses_b' }, device);
  assert.deepEqual(ids(all), ['msg_1', 'msg_2', 'msg_3', 'msg_4'], 'without a limit: every message');
});
