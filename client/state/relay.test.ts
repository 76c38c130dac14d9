import 'fake-indexeddb/auto';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { RequestBody, Welcome } from '../../shared/channel/client.ts';
import { RelayClosedError, RequestError, readResult } from '../../shared/channel/errors.ts';
import { parseHostMessage, type Resync } from '../../shared/protocol/messages.ts';
import { NotConnected } from '../net/explain.ts';
import type { HostLinkOptions, LinkState } from '../net/host-link.ts';
import { createConnectionStore } from './connection.ts';
import { createRelayApp, type RelayAppDeps } from './relay.ts';
import { freshDb, pairedHost, welcomeOf } from './test-records.ts';

const host = pairedHost();
/** A session as the host lists it (`sessions.list`) and makes it (`session.create`). */
const info = (id: string, title: string) => ({ sessionId: id, directory: '/w', title, createdAt: 1, updatedAt: 2 });
const listed = (id: string, title: string) => ({ ...info(id, title), state: { status: 'idle' }, waiting: false });
const welcome = welcomeOf();

/** An event as the channel hands it on: read by its parser, undefined when it cannot be read. */
function eventAsRead(event: Record<string, unknown>) {
  const m = parseHostMessage({ t: 'event', seq: 1, event });
  return m.t === 'event' ? m.event : undefined;
}

/** The app with a fake network layer, and no storage unless `db` is given (fake-indexeddb). */
async function harness(db: RelayAppDeps['db'] = () => Promise.reject(new Error('no storage in this test'))) {
  const requests: RequestBody[] = [];
  let handlers!: HostLinkOptions['handlers'];
  const connection = createConnectionStore();
  const answers: Partial<Record<RequestBody['t'], unknown>> = {
    'sessions.list': { sessions: [listed('ses_a', 'First'), listed('ses_b', 'Second')], unavailable: [] },
    'session.messages': { sessionId: 'ses_a', state: { status: 'idle' }, messages: [], todos: [] },
    'session.create': info('ses_new', 'New session'),
    'permission.reply': {},
  };
  let state: LinkState = { phase: 'connecting', reason: '' };
  let connected = false;
  /** Submissions that reach the host but whose answer is lost (the connection drops first). */
  let lostAnswers = 0;
  /** Every session's whole transcript is over the 4 MiB a message may carry (a long session's can be). */
  let wholeTooLarge = false;
  const relay = createRelayApp({
    connection,
    db,
    device: () => ({ name: 'phone', platform: 'test' }),
    origin: 'http://desk:1',
    loadNet: async () =>
      ({
        createHostLink: (opts: HostLinkOptions) => {
          handlers = opts.handlers;
          return {
            hostId: opts.host.hostId,
            state: () => state,
            request: async (body: RequestBody) => {
              requests.push(body);
              if (!connected) throw new NotConnected('Desk');
              if (body.t === 'task.submit' && lostAnswers > 0) {
                lostAnswers--;
                throw new RelayClosedError(undefined, 1006, 'gone');
              }
              if (body.t === 'task.submit') return { taskId: body.taskId, sessionId: body.sessionId, messageId: 'msg_1', acceptedAt: 1 };
              if (body.t === 'session.messages' && body.limit === undefined && wholeTooLarge) {
                throw new RequestError('frame.size', 'the answer is larger than the 4 MiB a message may carry');
              }
              // Read as the channel reads what the host sends.
              return readResult(body.t, answers[body.t]);
            },
            reconnectNow() {},
            close() {},
          };
        },
      }) as never,
  });
  await relay.addHost(host);
  const connect = (w: Welcome = welcome) => {
    connected = true;
    state = { phase: 'connected', address: 'http://desk:1' };
    handlers.onState(state);
    handlers.onWelcome(w);
    handlers.onRuntime(welcome.runtime);
  };
  const settle = () => new Promise((r) => setTimeout(r, 10));
  return {
    relay,
    connection,
    requests,
    answers,
    connect,
    settle,
    emit: (e: Record<string, unknown>) => handlers.onEvent(1, eventAsRead(e)),
    loseAnswers: (n: number) => (lostAnswers = n),
    makeWholeTooLarge: () => (wholeTooLarge = true),
    resync: (r: Resync) => handlers.onResync(r),
  };
}

test('a fresh connection loads the session list, learns the host, and shows Connected', async () => {
  const h = await harness();
  assert.equal(h.connection.state.status, 'connecting');
  h.connect();
  await h.settle();
  assert.equal(h.connection.state.status, 'connected');
  assert.deepEqual(
    h.relay.sessions
      .list()
      .map((s) => s.title)
      .sort(),
    ['First', 'Second'],
  );
  assert.equal(h.relay.sessionsFresh(), true);
  assert.equal(h.relay.health.hostVersion, '9.9.9');
  assert.equal(h.relay.health.runtime?.version, '1.18.33');
  assert.deepEqual(h.relay.activeHost()!.addresses, ['http://desk:1', 'http://desk.local:1']);
});

test('a page opened from an address the host does not list learns the host’s stable one', async () => {
  const h = await harness();
  h.connect();
  await h.settle();
  assert.equal(h.relay.unlistedHere(), 'http://desk.local:1', 'the page is at http://desk:1, the host lists only desk.local');
  h.connect({ ...welcome, host: { ...welcome.host, addresses: ['http://desk.local:1', 'http://desk:1/'] } });
  assert.equal(h.relay.unlistedHere(), undefined);
  h.connect();
  await h.relay.addHost({ ...host, hostId: 'H2', label: 'Work' });
  assert.equal(h.relay.unlistedHere(), undefined, 'forgotten when another computer is in use');
});

test('events reach the list, the open timeline and the approvals; malformed ones are dropped', async () => {
  const h = await harness();
  h.connect();
  await h.settle();
  const timeline = h.relay.timeline('ses_a');
  h.emit({ type: 'session.status', sessionId: 'ses_a', status: 'busy' });
  h.emit({ type: 'message.text.delta', sessionId: 'ses_a', messageId: 'msg_1', partId: 'prt_1', delta: 'hi' });
  h.emit({ type: 'message.text.delta', sessionId: 'ses_a', messageId: 'msg_1' }); // no partId: dropped
  h.emit({ type: 'permission.asked', requestId: 'per_1', sessionId: 'ses_a', permission: 'bash', patterns: ['ls'], always: ['ls *'], metadata: { command: 'ls' } });
  assert.equal(h.relay.statusOf('ses_a'), 'waiting');
  assert.equal(timeline.items().length, 1);
  await h.relay.replyPermission(h.relay.permissions()[0]!, 'once');
  assert.deepEqual(
    h.requests.find((r) => r.t === 'permission.reply'),
    { t: 'permission.reply', requestId: 'per_1', reply: 'once' },
  );
  assert.equal(h.relay.permissions().length, 0);
  assert.equal(h.relay.statusOf('ses_a'), 'running');
  h.emit({ type: 'session.idle', sessionId: 'ses_a' });
  assert.equal(h.relay.statusOf('ses_a'), 'idle');
  assert.equal(h.relay.health.lastTask?.result, 'finished');
});

test('a task resent after its answer was lost is not shown running for good: its turn may be over, the host says how it stands', async () => {
  const h = await harness();
  h.connect();
  await h.settle();
  const timeline = h.relay.timeline('ses_a');
  await h.settle();
  h.loseAnswers(1);
  await h.relay.sendTask('ses_a', 'again');
  await h.settle();
  // The host ran it meanwhile, and the turn ended: its events came and went (the end kicks the outbox).
  h.emit({ type: 'session.status', sessionId: 'ses_a', status: 'busy' });
  h.emit({ type: 'session.idle', sessionId: 'ses_a' });
  await h.settle();
  assert.equal(h.requests.filter((r) => r.t === 'task.submit').length, 2, 'sent again, and answered');
  assert.deepEqual(h.relay.outbox.items(), []);
  assert.equal(h.relay.statusOf('ses_a'), 'idle', 'no event would end a "running" set now');
  assert.equal(timeline.status(), 'idle');
});

test('a new task creates a session, submits the text with a task id, and marks it running', async () => {
  const h = await harness();
  h.connect();
  await h.settle();
  const id = await h.relay.newTask('do it');
  assert.equal(id, 'ses_new');
  await h.settle();
  const submit = h.requests.find((r) => r.t === 'task.submit') as Extract<RequestBody, { t: 'task.submit' }>;
  assert.equal(submit.text, 'do it');
  assert.match(submit.taskId, /^tsk_/);
  assert.deepEqual(
    h.requests.find((r) => r.t === 'session.create'),
    { t: 'session.create', key: submit.taskId },
    'the session is keyed by the task',
  );
  assert.equal(h.relay.statusOf('ses_new'), 'running');
});

test('a stop, then a failure, are the last task results', async () => {
  const h = await harness();
  h.connect();
  await h.settle();
  h.emit({ type: 'session.error', sessionId: 'ses_b', kind: 'aborted', name: 'MessageAbortedError', message: 'Aborted' });
  h.emit({ type: 'session.idle', sessionId: 'ses_b' });
  assert.equal(h.relay.health.lastTask?.result, 'stopped');
  h.emit({ type: 'session.error', sessionId: 'ses_b', kind: 'provider-auth', name: 'ProviderAuthError', message: 'no key' });
  assert.equal(h.relay.health.lastTask?.result, 'failed');
  assert.equal(h.relay.health.providerProblem, 'no key');
});

test('several computers: adding one switches to it, and switching back reconnects to the first', async () => {
  const h = await harness();
  h.connect();
  await h.settle();
  assert.equal(h.relay.sessions.list().length, 2);
  await h.relay.addHost({ ...host, hostId: 'H2', label: 'Work' });
  assert.deepEqual(
    h.relay.hosts().map((x) => x.label),
    ['Desk', 'Work'],
  );
  assert.equal(h.relay.activeHost()!.label, 'Work');
  assert.equal(h.relay.sessions.list().length, 0, 'the other computer’s sessions are not shown');
  assert.equal(h.connection.state.status, 'connecting');
  await h.relay.switchHost('H1');
  assert.equal(h.relay.activeHost()!.label, 'Desk');
  await h.relay.forgetHost('H1');
  assert.deepEqual(
    h.relay.hosts().map((x) => x.label),
    ['Work'],
  );
  assert.equal(h.relay.activeHost()!.label, 'Work');
});

test('a resync reloads what it names and replaces the waiting requests; expired ones disappear', async () => {
  const h = await harness();
  h.connect();
  await h.settle();
  h.relay.timeline('ses_a');
  h.relay.timeline('ses_b');
  await h.settle();
  const asked = (id: string) => ({ type: 'permission.asked', requestId: id, sessionId: 'ses_a', permission: 'bash', patterns: ['ls'], always: [], metadata: {} });
  h.emit(asked('per_old'));
  h.requests.length = 0;
  await h.resync({ t: 'resync', reason: 'gap', seq: 9, sessions: ['ses_b'], permissions: [asked('per_new') as never] });
  assert.deepEqual(
    h.relay.permissions().map((p) => p.requestId),
    ['per_new'],
  );
  assert.deepEqual(h.requests.map((r) => (r.t === 'session.messages' ? `${r.t} ${r.sessionId}` : r.t)).sort(), ['session.messages ses_b', 'sessions.list']);
  h.emit({ type: 'permission.expired', requestId: 'per_new', sessionId: 'ses_a', reason: 'runtime-restarted', at: 5 });
  assert.deepEqual(h.relay.permissions(), []);
});

const bashRequest = (id: string) => ({ type: 'permission.asked', requestId: id, sessionId: 'ses_a', permission: 'bash', patterns: ['ls'], always: [], metadata: {} });

test('an expired request is shown with its reason until dismissed, and answering it is refused without asking the host', async () => {
  const h = await harness();
  h.connect();
  await h.settle();
  h.emit(bashRequest('per_1'));
  const [asked] = h.relay.permissions();
  h.emit({ type: 'permission.expired', requestId: 'per_1', sessionId: 'ses_a', reason: 'runtime-restarted', at: 5, detail: 'killed by SIGKILL' });
  assert.deepEqual(h.relay.permissions(), [], 'no longer waiting');
  assert.deepEqual(
    h.relay.expiredPermissions().map((e) => [e.request.requestId, e.reason]),
    [['per_1', 'the OpenCode runtime restarted (killed by SIGKILL) and no longer has this request']],
    "the host's code, in words",
  );
  assert.equal(h.relay.statusOf('ses_a') === 'waiting', false);
  h.requests.length = 0;
  await assert.rejects(h.relay.replyPermission(asked!, 'once'), (err: Error & { code?: string }) => err.code === 'permission.expired');
  assert.deepEqual(h.requests, [], 'nothing was sent');
  h.emit({ type: 'permission.expired', requestId: 'per_unseen', sessionId: 'ses_a', reason: 'withdrawn', at: 6 });
  assert.equal(h.relay.expiredPermissions().length, 1, 'a request this phone never showed is not announced');
  h.relay.dismissExpired('per_1');
  assert.deepEqual(h.relay.expiredPermissions(), []);
});

test('a request the host timeout denied stays in view as timed out; one answered otherwise just goes', async () => {
  const h = await harness();
  h.connect();
  await h.settle();
  h.emit({ ...bashRequest('per_1'), deadline: 1_700_000_000_000 });
  h.emit(bashRequest('per_2'));
  assert.equal(h.relay.permissions()[0]!.deadline, 1_700_000_000_000, 'the deadline reaches the app');
  h.emit({ type: 'permission.replied', requestId: 'per_1', sessionId: 'ses_a', reply: 'reject', by: 'timeout' });
  h.emit({ type: 'permission.replied', requestId: 'per_2', sessionId: 'ses_a', reply: 'reject' });
  assert.deepEqual(h.relay.permissions(), []);
  assert.deepEqual(
    h.relay.expiredPermissions().map((e) => [e.request.requestId, e.timedOut]),
    [['per_1', true]],
  );
});

test('tasks written before the connection wait in the outbox and go once connected, in order', async () => {
  const h = await harness();
  assert.equal(await h.relay.newTask('first'), undefined, 'not connected: it waits');
  await h.relay.sendTask('ses_a', 'second');
  assert.deepEqual(
    h.relay.outbox.items().map((i) => [i.text, i.phase]),
    [
      ['first', 'queued'],
      ['second', 'queued'],
    ],
  );
  assert.equal(h.connection.state.queued, 2);
  assert.equal(h.requests.filter((r) => r.t === 'task.submit').length, 0);
  h.connect();
  await h.settle();
  const submits = h.requests.filter((r) => r.t === 'task.submit') as Extract<RequestBody, { t: 'task.submit' }>[];
  assert.deepEqual(
    submits.map((r) => [r.sessionId, r.text]),
    [
      ['ses_new', 'first'],
      ['ses_a', 'second'],
    ],
  );
  assert.equal(new Set(submits.map((r) => r.taskId)).size, 2);
  assert.deepEqual(h.relay.outbox.items(), []);
  assert.equal(h.connection.state.queued, 0);
  assert.equal(h.relay.statusOf('ses_a'), 'running');
});

test('a follow-up goes into a session whose whole transcript is too large for one message: the outbox asks only for its state', async () => {
  const h = await harness();
  h.makeWholeTooLarge();
  h.connect();
  await h.settle();
  await h.relay.sendTask('ses_a', 'one more thing');
  await h.settle();
  const submits = h.requests.filter((r) => r.t === 'task.submit') as Extract<RequestBody, { t: 'task.submit' }>[];
  assert.deepEqual(
    submits.map((r) => [r.sessionId, r.text]),
    [['ses_a', 'one more thing']],
    `still in the outbox: ${JSON.stringify(h.relay.outbox.items().map((i) => [i.phase, i.note ?? i.failed?.message]))}`,
  );
  assert.deepEqual(h.relay.outbox.items(), []);
});

test('a session is marked fetched once the host’s newest messages are in, not when only the cached ones are', async () => {
  const h = await harness();
  h.relay.timeline('ses_a');
  await h.settle();
  assert.equal(h.relay.sessionLoad('ses_a').fetched, undefined, 'not connected: nothing from the host yet');
  h.connect();
  await h.settle();
  assert.equal(h.relay.sessionLoad('ses_a').fetched, true);
  assert.equal(h.relay.sessionLoad('ses_a').loading, false);
});

test('catching up lasts until the session list is fresh; scopes come from the welcome', async () => {
  const h = await harness();
  h.connect();
  assert.equal(h.connection.state.catchingUp, true);
  assert.equal(h.relay.may('run'), false, 'the welcome says read only');
  assert.equal(h.relay.may('read'), true);
  await h.settle();
  assert.equal(h.connection.state.catchingUp, false);
  const reload = h.resync({ t: 'resync', reason: 'gap', seq: 9, permissions: [] });
  assert.equal(h.connection.state.catchingUp, true, 'a resync is catching up');
  await reload;
  assert.equal(h.connection.state.catchingUp, false);
});

test('a turn cut short: the list and the session read Interrupted alike, Stop says nothing was running, Retry sends the prompt as a new task, and the session runs again', async () => {
  const h = await harness();
  h.connect();
  await h.settle();
  // The list still thinks the task runs (the host went away mid-turn); the host's transcript says otherwise.
  h.emit({ type: 'session.status', sessionId: 'ses_a', status: 'busy' });
  assert.equal(h.relay.statusOf('ses_a'), 'running');
  const cut = { messageId: 'msg_p', replyId: 'msg_r', at: 5, reason: 'host-restarted' };
  h.answers['session.messages'] = {
    sessionId: 'ses_a',
    state: { status: 'idle' },
    todos: [],
    interrupted: cut,
    interruptions: [cut],
    messages: [
      { messageId: 'msg_p', role: 'user', time: { created: 1 }, parts: [{ kind: 'text', partId: 'prt_p', text: 'write a poem', done: true }] },
      { messageId: 'msg_r', role: 'assistant', parentId: 'msg_p', time: { created: 2 }, parts: [{ kind: 'text', partId: 'prt_r', text: 'Roses are', done: false }] },
    ],
  };
  const timeline = h.relay.timeline('ses_a');
  await h.settle();
  assert.equal(timeline.status(), 'interrupted');
  assert.equal(h.relay.statusOf('ses_a'), 'interrupted', 'the list says what the session says');
  assert.equal(h.relay.sessions.get('ses_a')?.status, 'interrupted');

  h.answers['session.abort'] = { running: false };
  assert.deepEqual(await h.relay.stop('ses_a'), { running: false });

  await h.relay.retry('ses_a', 'msg_p');
  await h.settle();
  const submits = h.requests.filter((r): r is Extract<RequestBody, { t: 'task.submit' }> => r.t === 'task.submit');
  assert.deepEqual(
    submits.map((r) => [r.sessionId, r.text]),
    [['ses_a', 'write a poem']],
    'the same text, in the same session',
  );
  assert.match(submits[0]!.taskId, /^tsk_/, 'as a new task');
  assert.equal(h.relay.statusOf('ses_a'), 'running', 'the retried task runs');
  await assert.rejects(h.relay.retry('ses_a', 'msg_unknown'), /not on this phone/);
});

test('what the computer offered the composer, per directory, is kept for a page opened offline, and forgotten with the computer', async (t) => {
  const db = freshDb(t);
  const model = (modelId: string, images: boolean) => ({ providerId: 'fake', modelId, providerName: 'Fake', name: modelId, variants: [], images });
  const workspace = {
    agents: [{ name: 'build' }],
    models: [model('fake-text', false)],
    defaultModel: { providerId: 'fake', modelId: 'fake-text' },
    commands: [{ name: 'review', description: 'Review the diff' }],
  };
  const other = { ...workspace, commands: [{ name: 'deploy' }] };
  const online = await harness(() => db);
  online.answers['sessions.list'] = { sessions: [listed('ses_a', 'First'), { ...listed('ses_o', 'Elsewhere'), directory: '/w/web' }], unavailable: [] };
  online.connect();
  await online.settle();
  online.answers['composer.options'] = workspace;
  assert.deepEqual(await online.relay.composerOptions(), workspace, 'a new task’s: the device’s first workspace');
  online.answers['composer.options'] = other;
  assert.deepEqual(await online.relay.composerOptions('ses_o'), other, 'a session’s: its own directory');
  await new Promise((r) => setTimeout(r, 400)); // the session list is saved shortly after it changed

  // The app opens again with no connection.
  const offline = await harness(() => db);
  await offline.settle();
  assert.equal(offline.connection.state.status === 'connected', false);
  assert.deepEqual(await offline.relay.savedComposerOptions(), workspace);
  assert.deepEqual(await offline.relay.savedComposerOptions('ses_a'), workspace, 'a session in the workspace itself: the same directory');
  assert.deepEqual(await offline.relay.savedComposerOptions('ses_o'), other, 'per directory: a subfolder’s own commands');
  assert.equal(offline.requests.filter((r) => r.t === 'composer.options').length, 0);

  await offline.relay.forgetHost('H1');
  assert.equal(await (await db).count('composerOptions'), 0, 'forgetting the computer forgets what it offered');
});
