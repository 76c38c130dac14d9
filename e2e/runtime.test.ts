/**
 * The bridge against the REAL OpenCode runtime (one for the whole file, serving two workspaces),
 * driven by the fake model: streaming, permissions, abort, file edits, todos, the live status of
 * listed sessions, a session in the second workspace, a workspace whose opencode.json is broken
 * beside working ones, and a restart after SIGKILL.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RelayRuntimeEvent, RelayRuntimeEventType } from '../shared/protocol/runtime-events.ts';
import { createRuntimeBridge, type RuntimeBridge } from '../host/runtime/bridge.ts';
import { createPermissionGrants } from '../host/rpc/permissions.ts';
import type { RuntimeState } from '../host/runtime/supervisor.ts';
import { OVERLOADED_MESSAGE, REASONING_DELTAS, TODO_ITEMS, WRITE_CONTENT, scriptedText } from './fixtures/fake-model.ts';
import { startRuntimeFixture, testLogger, type RuntimeFixture } from './fixtures/runtime.ts';

const WAIT_MS = 30_000;
const TEST = { timeout: 90_000 };

let rt: RuntimeFixture;
let coldStartMs = 0;
const events: RelayRuntimeEvent[] = [];
const waiters = new Set<() => void>();

before(async () => {
  const t0 = Date.now();
  rt = await startRuntimeFixture({ extraWorkspaces: 1 });
  coldStartMs = Date.now() - t0;
  rt.bridge.onEvent((e) => {
    events.push(e);
    for (const w of [...waiters]) w();
  });
  await rt.bridge.subscribed();
});

after(async () => {
  await rt?.stop();
});

type Of<T extends RelayRuntimeEventType> = Extract<RelayRuntimeEvent, { type: T }>;

/** The first event (already seen or still to come) of `type` matching `match`. */
function waitForEvent<T extends RelayRuntimeEventType>(type: T, match: (e: Of<T>) => boolean = () => true, from = 0): Promise<Of<T>> {
  return new Promise((resolve, reject) => {
    const find = () => events.slice(from).find((e): e is Of<T> => e.type === type && match(e as Of<T>));
    const check = () => {
      const hit = find();
      if (!hit) return;
      cleanup();
      resolve(hit);
    };
    const timer = setTimeout(() => {
      cleanup();
      const seen = events
        .slice(from)
        .map((e) => e.type)
        .join(', ');
      reject(new Error(`no ${type} event within ${WAIT_MS} ms; saw: ${seen}`));
    }, WAIT_MS);
    const cleanup = () => {
      clearTimeout(timer);
      waiters.delete(check);
    };
    waiters.add(check);
    check();
  });
}

function sessionEvents<T extends RelayRuntimeEventType>(sessionId: string, type: T): Array<Of<T>> {
  return events.filter((e) => e.type === type && 'sessionId' in e && e.sessionId === sessionId) as Array<Of<T>>;
}

async function newSession(bridge: RuntimeBridge, title: string): Promise<string> {
  const session = await bridge.createSession(title);
  assert.match(session.id, /^ses_/);
  return session.id;
}

const idleOf = (sessionId: string, from = 0) => waitForEvent('session.idle', (e) => e.sessionId === sessionId, from);

test('the runtime starts offline and reports its version', (t) => {
  t.diagnostic(`cold start (spawn → ready): ${coldStartMs} ms`);
  const state = rt.supervisor.state;
  assert.equal(state.status, 'ready');
  assert.equal(state.version, '1.18.33');
  assert.match(state.url ?? '', /^http:\/\/127\.0\.0\.1:\d+$/);
  assert.equal(state.restarts, 0);
});

test('warming a workspace up makes no session, asks no model and writes nothing in the workspace', TEST, async () => {
  const workspace = rt.workspaces[1]!;
  /** Every path under the workspace with its size and modification time. */
  const files = (dir: string): string[] =>
    readdirSync(dir, { withFileTypes: true }).flatMap((d) => {
      const path = join(dir, d.name);
      if (d.isDirectory()) return [path, ...files(path)];
      const st = statSync(path);
      return [`${path} ${st.size} ${st.mtimeMs}`];
    });
  const before = { sessions: (await rt.bridge.listSessions()).sessions.length, files: files(workspace), modelCalls: rt.fakeModel.requests.length };
  await rt.bridge.warmUp(workspace);
  assert.deepEqual({ sessions: (await rt.bridge.listSessions()).sessions.length, files: files(workspace), modelCalls: rt.fakeModel.requests.length }, before);
});

test('a prompt streams its text deltas in order and ends idle', TEST, async () => {
  const sessionId = await newSession(rt.bridge, 'text');
  await rt.bridge.prompt(sessionId, 'please answer [text:200]');
  await idleOf(sessionId);

  const deltas = sessionEvents(sessionId, 'message.text.delta');
  assert.equal(deltas.length, 200);
  assert.equal(deltas.map((d) => d.delta).join(''), scriptedText(200));
  const final = sessionEvents(sessionId, 'message.text.updated').find((e) => e.done && e.partId === deltas[0].partId);
  assert.equal(final?.text, scriptedText(200), 'the closing snapshot carries the same text');
  assert.ok(sessionEvents(sessionId, 'session.status').some((e) => e.status === 'busy'));

  const messages = await rt.bridge.messages(sessionId);
  assert.deepEqual(
    messages.map((m) => m.info.role),
    ['user', 'assistant'],
  );
});

test('reasoning streams as reasoning deltas, separate from the text', TEST, async () => {
  const sessionId = await newSession(rt.bridge, 'reasoning');
  await rt.bridge.prompt(sessionId, 'think first [reasoning]');
  await idleOf(sessionId);
  assert.equal(
    sessionEvents(sessionId, 'message.reasoning.delta')
      .map((d) => d.delta)
      .join(''),
    REASONING_DELTAS.join(''),
  );
  assert.equal(
    sessionEvents(sessionId, 'message.text.delta')
      .map((d) => d.delta)
      .join(''),
    'ok',
  );
});

test('a bash call asks permission; "once" runs it and its output reaches the tool part', TEST, async () => {
  const sessionId = await newSession(rt.bridge, 'bash once');
  await rt.bridge.prompt(sessionId, 'run it [bash:echo relay-ok]');
  const asked = await waitForEvent('permission.asked', (e) => e.sessionId === sessionId);
  assert.equal(asked.permission, 'bash');
  assert.equal(asked.metadata.command, 'echo relay-ok');
  assert.ok(asked.tool?.callId, 'the request names its tool call');
  assert.ok(
    (await rt.bridge.listPermissions()).requests.some((p) => p.id === asked.requestId),
    'listed as pending',
  );

  await rt.bridge.replyPermission(asked.requestId, 'once');
  const done = await waitForEvent('tool.updated', (e) => e.callId === asked.tool?.callId && e.status === 'completed');
  assert.equal(done.tool, 'bash');
  assert.match(done.output ?? '', /relay-ok/);
  await waitForEvent('permission.replied', (e) => e.requestId === asked.requestId && e.reply === 'once');
  await idleOf(sessionId);
});

test('a bash call answered "reject" does not run', TEST, async () => {
  const marker = join(rt.workspace, 'rejected-marker');
  const sessionId = await newSession(rt.bridge, 'bash reject');
  await rt.bridge.prompt(sessionId, `run it [bash:touch ${marker}]`);
  const asked = await waitForEvent('permission.asked', (e) => e.sessionId === sessionId);
  assert.equal(asked.metadata.command, `touch ${marker}`);

  await rt.bridge.replyPermission(asked.requestId, 'reject');
  const failed = await waitForEvent('tool.updated', (e) => e.callId === asked.tool?.callId && e.status === 'error');
  assert.match(failed.error ?? '', /rejected/);
  await idleOf(sessionId);
  assert.equal(existsSync(marker), false, 'the command never ran');
  assert.ok(!(await rt.bridge.listPermissions()).requests.some((p) => p.id === asked.requestId), 'no longer pending');
});

test('"always" is refused by the bridge: the host keeps session grants itself', async () => {
  await assert.rejects(rt.bridge.replyPermission('per_x', 'always' as 'once'), RangeError);
});

test('an approved write reports the edited file; todos arrive as a list', TEST, async () => {
  const sessionId = await newSession(rt.bridge, 'write');
  await rt.bridge.prompt(sessionId, 'write it [write:notes.txt]');
  const asked = await waitForEvent('permission.asked', (e) => e.sessionId === sessionId);
  assert.equal(asked.permission, 'edit');
  assert.match(String(asked.metadata.diff), /\+written by the fake model/);
  await rt.bridge.replyPermission(asked.requestId, 'once');
  const edited = await waitForEvent('file.edited', (e) => e.sessionId === sessionId);
  assert.equal(edited.path, join(rt.workspace, 'notes.txt'));
  await idleOf(sessionId);
  assert.equal(readFileSync(join(rt.workspace, 'notes.txt'), 'utf8'), WRITE_CONTENT);

  await rt.bridge.prompt(sessionId, 'plan it [todo]');
  const todo = await waitForEvent('todo.updated', (e) => e.sessionId === sessionId);
  assert.deepEqual(todo.items, TODO_ITEMS);
});

test('abort stops a running turn', TEST, async () => {
  const sessionId = await newSession(rt.bridge, 'abort');
  await rt.bridge.prompt(sessionId, 'take your time [slow]');
  await waitForEvent('message.text.delta', (e) => e.sessionId === sessionId);
  const from = events.length;
  assert.equal(await rt.bridge.abort(sessionId), true);

  const error = await waitForEvent('session.error', (e) => e.sessionId === sessionId, from);
  assert.equal(error.name, 'MessageAbortedError');
  await idleOf(sessionId, from);
  const message = await waitForEvent('message.updated', (e) => e.sessionId === sessionId && e.role === 'assistant' && e.error !== undefined, from);
  assert.equal(message.error?.name, 'MessageAbortedError');
  assert.ok(sessionEvents(sessionId, 'message.text.delta').length < 600, 'the reply did not run to its end');
});

async function listedStatus(sessionId: string) {
  return (await rt.bridge.listSessions()).sessions.find((s) => s.id === sessionId)?.relayStatus;
}

test('the session list carries live status: busy while a task runs, idle otherwise', TEST, async () => {
  const quiet = await newSession(rt.bridge, 'listed idle');
  await rt.bridge.prompt(quiet, 'short [text:3]');
  await idleOf(quiet);
  const running = await newSession(rt.bridge, 'listed busy');
  await rt.bridge.prompt(running, 'take your time [slow]');
  await waitForEvent('message.text.delta', (e) => e.sessionId === running);

  const { sessions: listed } = await rt.bridge.listSessions();
  assert.deepEqual(listed.find((s) => s.id === running)?.relayStatus, { type: 'busy' });
  assert.deepEqual(listed.find((s) => s.id === quiet)?.relayStatus, { type: 'idle' });

  const from = events.length;
  assert.equal(await rt.bridge.abort(running), true);
  await idleOf(running, from);
  assert.deepEqual(await listedStatus(running), { type: 'idle' });
});

test('a task whose model keeps failing is listed as retrying, with the attempt and the reason', TEST, async () => {
  const sessionId = await newSession(rt.bridge, 'listed retry');
  await rt.bridge.prompt(sessionId, 'try hard [overloaded]');
  const event = await waitForEvent('session.status', (e) => e.sessionId === sessionId && e.status === 'retry');
  assert.match(event.status === 'retry' ? event.message : '', new RegExp(OVERLOADED_MESSAGE));
  // The runtime is busy for the moment of each new attempt, and retrying in between.
  const listed = async () => (await rt.bridge.listSessions()).sessions.find((s) => s.id === sessionId);
  let row = await listed();
  while (row?.relayStatus.type === 'busy') row = await listed();
  const status = row?.relayStatus;
  assert.ok(status?.type === 'retry', `listed as retrying, not ${JSON.stringify(status)}`);
  assert.ok(status.attempt >= 1);
  assert.match(status.message, new RegExp(OVERLOADED_MESSAGE));
  assert.ok(status.next > row!.time.created, 'next is a time (ms since the epoch), not a delay');

  const from = events.length;
  assert.equal(await rt.bridge.abort(sessionId), true);
  await idleOf(sessionId, from);
  assert.deepEqual(await listedStatus(sessionId), { type: 'idle' });
});

test('a session in the second workspace is listed, its events arrive and its permission reply reaches it', TEST, async () => {
  const second = rt.workspaces[1]!;
  const session = await rt.bridge.createSession('in the second workspace', second);
  assert.equal(session.directory, second);

  const { sessions: listed, unavailable } = await rt.bridge.listSessions();
  assert.deepEqual(unavailable, []);
  assert.equal(listed.find((s) => s.id === session.id)?.directory, second);
  assert.ok(
    listed.some((s) => s.directory === rt.workspace),
    'the first workspace is listed too',
  );
  assert.equal(new Set(listed.map((s) => s.id)).size, listed.length, 'each session once');
  const updated = listed.map((s) => s.time.updated);
  assert.deepEqual(
    updated,
    [...updated].sort((a, b) => b - a),
    'most recently updated first',
  );

  await rt.bridge.prompt(session.id, 'where am I [bash:pwd]');
  const asked = await waitForEvent('permission.asked', (e) => e.sessionId === session.id);
  assert.ok(
    (await rt.bridge.listPermissions()).requests.some((p) => p.id === asked.requestId),
    'listed as pending',
  );
  await rt.bridge.replyPermission(asked.requestId, 'once');
  const done = await waitForEvent('tool.updated', (e) => e.callId === asked.tool?.callId && e.status === 'completed');
  assert.equal(done.output?.trim(), second, 'the command ran in the second workspace');
  await idleOf(session.id);
  assert.ok(sessionEvents(session.id, 'session.status').some((e) => e.status === 'busy'));
});

test('a workspace whose opencode.json is broken is named with why; the others are listed', TEST, async (t) => {
  // OpenCode 1.18 cannot boot that workspace's instance and answers its calls with ConfigJsonError.
  const broken = join(rt.root, 'broken-workspace');
  mkdirSync(broken);
  writeFileSync(join(broken, 'opencode.json'), '{ not json');
  const bridge = createRuntimeBridge({ ...rt.bridge.target!, log: testLogger(), directories: [rt.workspace, broken] });
  t.after(() => bridge.close());
  const known = await newSession(rt.bridge, 'listed beside a broken workspace');

  const listed = await bridge.listSessions();
  assert.ok(
    listed.sessions.some((s) => s.id === known),
    'the working workspace is listed',
  );
  assert.deepEqual(listed.unavailable, [{ workspace: broken, reason: `${join(broken, 'opencode.json')} is not valid JSON; fix it, then restart the host` }]);

  const alone = createRuntimeBridge({ ...rt.bridge.target!, log: testLogger(), directories: [broken] });
  t.after(() => alone.close());
  await assert.rejects(alone.listSessions(), /list sessions failed/, 'no workspace answered: the list fails');
});

test('beside a broken workspace, a permission request of a working one is answered through the host and the command runs', TEST, async (t) => {
  const broken = join(rt.root, 'broken-beside-permission');
  mkdirSync(broken);
  writeFileSync(join(broken, 'opencode.json'), '{ not json');
  const bridge = createRuntimeBridge({ ...rt.bridge.target!, log: testLogger(), directories: [rt.workspace, broken] });
  t.after(() => bridge.close());
  // The host's own path for a device's answer: it checks the runtime's list, then passes the answer on.
  const grants = createPermissionGrants(bridge, testLogger());
  bridge.onEvent((e) => grants.observe(e));

  const sessionId = await newSession(rt.bridge, 'bash beside a broken workspace');
  await rt.bridge.prompt(sessionId, 'run it [bash:echo beside-broken]');
  const asked = await waitForEvent('permission.asked', (e) => e.sessionId === sessionId);
  const listed = await bridge.listPermissions();
  assert.ok(
    listed.requests.some((p) => p.id === asked.requestId),
    "the working workspace's request is listed",
  );
  assert.deepEqual(listed.unavailable, [{ workspace: broken, reason: `${join(broken, 'opencode.json')} is not valid JSON; fix it, then restart the host` }]);
  assert.deepEqual(listed.unseen, []);

  await grants.reply(asked.requestId, 'once');
  const done = await waitForEvent('tool.updated', (e) => e.callId === asked.tool?.callId && e.status === 'completed');
  assert.match(done.output ?? '', /beside-broken/);
  await waitForEvent('permission.replied', (e) => e.requestId === asked.requestId && e.reply === 'once');
  await idleOf(sessionId);
  assert.ok(!(await bridge.listPermissions()).requests.some((p) => p.id === asked.requestId), 'no longer pending');
});

test('a runtime killed with SIGKILL is restarted and the bridge works again', TEST, async (t) => {
  const before = rt.supervisor.state;
  const seen: RuntimeState[] = [];
  const back = new Promise<RuntimeState>((resolve) => {
    const off = rt.supervisor.onState((s) => {
      seen.push(s);
      if (s.status === 'ready') resolve(s);
    });
    t.after(off);
  });
  const from = events.length;

  const t0 = Date.now();
  process.kill(before.pid!, 'SIGKILL');
  const ready = await back;
  t.diagnostic(`restart (kill → ready): ${Date.now() - t0} ms`);

  assert.ok(
    seen.some((s) => s.status === 'restarting'),
    'went through restarting',
  );
  assert.notEqual(ready.pid, before.pid);
  assert.equal(ready.restarts, before.restarts + 1);
  assert.equal(ready.lastError, undefined, 'lastError is cleared once ready');
  assert.match(seen.find((s) => s.status === 'restarting')?.lastError ?? '', /SIGKILL/);

  // Waited for only now: a loaded machine may take most of WAIT_MS to restart the runtime.
  await waitForEvent('runtime.reconnected', () => true, from);
  const sessionId = await newSession(rt.bridge, 'after restart');
  await rt.bridge.prompt(sessionId, 'again [text:3]');
  await idleOf(sessionId);
  assert.equal(
    sessionEvents(sessionId, 'message.text.delta')
      .map((d) => d.delta)
      .join(''),
    scriptedText(3),
  );
});
