/**
 * The bridge against a stand-in runtime that serves `/event` and the REST routes it uses, so
 * malformed frames, dropped streams and retargeting can be provoked at will. The real runtime
 * is covered by e2e/runtime.test.ts.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createLogger } from '../log.ts';
import type { RelayRuntimeEvent } from '../../shared/protocol/runtime-events.ts';
import { RelayError } from '../../shared/protocol/errors.ts';
import { createRuntimeBridge, cursorBefore, ignoredBefore, mergeSessions, type RuntimeBridgeOptions } from './bridge.ts';

const PASSWORD = 'bridge-secret';
const AUTH = `Basic ${Buffer.from(`opencode:${PASSWORD}`).toString('base64')}`;

interface FakeRuntime {
  url: string;
  /** Open `/event` responses, newest last, with the directory each asked about ('' for none). */
  streams: Array<ServerResponse & { directory: string }>;
  requests: Array<{ method: string; url: string; body: unknown; auth?: string }>;
  /** What `GET /session`, `/session/status` and `/permission` answer, per directory ('' for none). */
  sessions: Map<string, unknown[]>;
  statuses: Map<string, Record<string, unknown>>;
  permissions: Map<string, Array<{ id: string; sessionID: string }>>;
  /** Directories whose `/event` answers 500. */
  refuseEvents: Set<string>;
  /** Directories whose `/event` is never answered (a runtime that accepts but does not serve). */
  holdEvents: Set<string>;
  /** Directories whose `GET /session` answers 500 with this body (an instance that cannot boot). */
  failSessions: Map<string, unknown>;
  /** Directories whose `GET /session` is never answered. */
  holdSessions: Set<string>;
  /** Directories whose `GET /permission` answers 500 with this body. */
  failPermissions: Map<string, unknown>;
  /**
   * Session ses_1's messages, served like a runtime from before paging by cursor: `limit` keeps
   * the newest, `before` is ignored; `refuseBefore`: a runtime that reads its cursor otherwise (400).
   */
  transcript: Array<{ info: { id: string; time: { created: number } }; parts: unknown[] }>;
  refuseBefore: boolean;
  /** Writes to the newest stream of `directory` (default: the newest stream). */
  send(frame: unknown, directory?: string): void;
  waitForStream(count: number): Promise<void>;
  close(): Promise<void>;
}

async function fakeRuntime(): Promise<FakeRuntime> {
  const streams: FakeRuntime['streams'] = [];
  const requests: FakeRuntime['requests'] = [];
  const sessions = new Map<string, unknown[]>();
  const statuses = new Map<string, Record<string, unknown>>();
  const permissions = new Map<string, Array<{ id: string; sessionID: string }>>();
  const refuseEvents = new Set<string>();
  const holdEvents = new Set<string>();
  const failSessions = new Map<string, unknown>();
  const holdSessions = new Set<string>();
  const failPermissions = new Map<string, unknown>();
  const state = { transcript: [] as FakeRuntime['transcript'], refuseBefore: false };
  /** Each says whether it is done waiting. */
  let streamWaiters: Array<() => boolean> = [];
  const server = createServer(async (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    requests.push({ method: req.method!, url: req.url!, body: text ? JSON.parse(text) : undefined, auth: req.headers.authorization });
    if (req.headers.authorization !== AUTH) return void res.writeHead(401).end();
    const url = new URL(req.url!, 'http://x');
    const path = url.pathname;
    const directory = url.searchParams.get('directory') ?? '';
    if (path === '/event' && refuseEvents.has(directory)) return void res.writeHead(500).end();
    if (path === '/event' && holdEvents.has(directory)) return;
    if (path === '/event') {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(`data: ${JSON.stringify({ type: 'server.connected', properties: {} })}\n\n`);
      streams.push(Object.assign(res, { directory }));
      streamWaiters = streamWaiters.filter((done) => !done());
      return;
    }
    if (req.method === 'POST' && /^\/session\/ses_1\/prompt_async$/.test(path)) return void res.writeHead(204).end();
    const reply = /^\/permission\/([^/]+)\/reply$/.exec(path);
    if (req.method === 'POST' && reply && (permissions.get(directory) ?? []).some((p) => p.id === reply[1])) return json(res, true);
    if (req.method === 'POST' && path === '/session') return json(res, { id: 'ses_1', title: (JSON.parse(text) as { title: string }).title });
    if (req.method === 'GET' && path === '/session' && failSessions.has(directory)) {
      return void res.writeHead(500, { 'content-type': 'application/json' }).end(JSON.stringify(failSessions.get(directory)));
    }
    if (req.method === 'GET' && path === '/session' && holdSessions.has(directory)) return;
    if (req.method === 'GET' && path === '/session') return json(res, sessions.get(directory) ?? []);
    if (req.method === 'GET' && path === '/session/status') return json(res, statuses.get(directory) ?? {});
    if (req.method === 'GET' && path === '/permission' && failPermissions.has(directory)) {
      return void res.writeHead(500, { 'content-type': 'application/json' }).end(JSON.stringify(failPermissions.get(directory)));
    }
    if (req.method === 'GET' && path === '/permission') return json(res, permissions.get(directory) ?? []);
    if (req.method === 'GET' && path === '/session/ses_1/message') {
      if (state.refuseBefore && url.searchParams.has('before')) return void res.writeHead(400, { 'content-type': 'application/json' }).end('{"_tag":"BadRequest"}');
      const limit = Number(url.searchParams.get('limit') ?? 0);
      return json(res, limit ? state.transcript.slice(-limit) : state.transcript);
    }
    const one = /^\/session\/ses_1\/message\/([^/]+)$/.exec(path);
    const message = one && state.transcript.find((m) => m.info.id === one[1]);
    if (req.method === 'GET' && message) return json(res, message);
    res.writeHead(404, { 'content-type': 'application/json' }).end('{"name":"NotFoundError","data":{"message":"no such session"}}');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    streams,
    requests,
    sessions,
    statuses,
    permissions,
    refuseEvents,
    holdEvents,
    failSessions,
    holdSessions,
    failPermissions,
    get transcript() {
      return state.transcript;
    },
    set transcript(v) {
      state.transcript = v;
    },
    get refuseBefore() {
      return state.refuseBefore;
    },
    set refuseBefore(v) {
      state.refuseBefore = v;
    },
    send: (frame, directory) =>
      streams
        .filter((s) => directory === undefined || s.directory === directory)
        .at(-1)!
        .write(`data: ${typeof frame === 'string' ? frame : JSON.stringify(frame)}\n\n`),
    waitForStream: (count) => (streams.length >= count ? Promise.resolve() : new Promise<void>((r) => streamWaiters.push(() => streams.length >= count && (r(), true)))),
    close: () =>
      new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
}

function json(res: ServerResponse, body: unknown): void {
  res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

function collector() {
  const events: RelayRuntimeEvent[] = [];
  let wake: (() => void) | undefined;
  return {
    events,
    push(e: RelayRuntimeEvent) {
      events.push(e);
      wake?.();
    },
    async until(n: number) {
      while (events.length < n) await new Promise<void>((r) => (wake = r));
    },
  };
}

const idle = (sessionID: string) => ({ type: 'session.idle', properties: { sessionID } });

/** A bridge attached to a fake runtime (`prepare` runs before it subscribes); both are closed after the test. */
async function bridgeOnFake(t: TestContext, opts: Partial<RuntimeBridgeOptions> = {}, prepare?: (rt: FakeRuntime) => void) {
  const rt = await fakeRuntime();
  prepare?.(rt);
  const bridge = createRuntimeBridge({ url: rt.url, password: PASSWORD, log: createLogger({ write: () => {} }), ...opts });
  t.after(async () => {
    await bridge.close();
    await rt.close();
  });
  return { rt, bridge };
}

test('relays valid events, drops malformed ones with a warning, ignores unknown ones', async (t) => {
  const rt = await fakeRuntime();
  const lines: string[] = [];
  const bridge = createRuntimeBridge({ url: rt.url, password: PASSWORD, log: createLogger({ level: 'debug', write: (l) => lines.push(l) }) });
  t.after(async () => {
    await bridge.close();
    await rt.close();
  });
  const got = collector();
  bridge.onEvent((e) => got.push(e));
  bridge.onEvent(() => {
    throw new Error('a broken listener');
  });
  await bridge.subscribed();

  rt.send({ type: 'session.idle', properties: { sessionID: 42 } });
  rt.send('not json at all');
  rt.send({ type: 'server.heartbeat', properties: {} });
  rt.send({ type: 'something.new', properties: { x: 1 } });
  rt.send(idle('ses_1'));
  await got.until(1);
  assert.deepEqual(got.events, [{ type: 'session.idle', sessionId: 'ses_1' }]);
  assert.equal(lines.filter((l) => l.includes('dropped a malformed runtime event')).length, 2);
  assert.ok(
    lines.some((l) => l.includes('sessionID: expected a string')),
    'the warning names the field',
  );
  assert.ok(
    lines.some((l) => l.includes('runtime event listener failed')),
    'a throwing listener is logged, not fatal',
  );
  assert.equal(rt.requests[0].auth, AUTH);
});

test('resubscribes when the stream ends and says events may have been missed', async (t) => {
  const { rt, bridge } = await bridgeOnFake(t, { resubscribeInitialMs: 10 });
  const got = collector();
  bridge.onEvent((e) => got.push(e));
  await bridge.subscribed();

  rt.streams[0].end();
  await rt.waitForStream(2);
  await got.until(1);
  assert.deepEqual(got.events, [{ type: 'runtime.reconnected' }]);
  rt.send(idle('ses_2'));
  await got.until(2);
  assert.deepEqual(got.events[1], { type: 'session.idle', sessionId: 'ses_2' });
});

test('follows a new target and keeps retrying while the runtime is away', async (t) => {
  const first = await fakeRuntime();
  const bridge = createRuntimeBridge({ url: first.url, password: PASSWORD, log: createLogger({ write: () => {} }), resubscribeInitialMs: 10, resubscribeMaxMs: 50 });
  const got = collector();
  bridge.onEvent((e) => got.push(e));
  await bridge.subscribed();
  await first.close();

  const second = await fakeRuntime();
  t.after(async () => {
    await bridge.close();
    await second.close();
  });
  bridge.setTarget({ url: second.url, password: PASSWORD });
  await second.waitForStream(1);
  await got.until(1);
  assert.deepEqual(got.events, [{ type: 'runtime.reconnected' }]);
  assert.equal(bridge.target?.url, second.url);
  assert.equal((await bridge.createSession('moved')).title, 'moved', 'REST calls go to the new target too');
});

const eventRequests = (rt: FakeRuntime) => rt.requests.filter((r) => r.url.startsWith('/event')).length;

test('a subscription the runtime never confirms is given up and retried', { timeout: 60_000 }, async (t) => {
  // Silence alone would take ten minutes to notice here: only the opening timeout can save it.
  const { rt, bridge } = await bridgeOnFake(t, { streamConnectTimeoutMs: 100, streamIdleTimeoutMs: 600_000, resubscribeInitialMs: 10 }, (fake) => void fake.holdEvents.add(''));
  while (eventRequests(rt) < 2) await new Promise((r) => setTimeout(r, 20));
  rt.holdEvents.clear();
  await bridge.subscribed();
  await rt.waitForStream(1);
});

test('a runtime ready again at the same address gets waiting streams back at once, not after their backoff', { timeout: 60_000 }, async (t) => {
  const { rt, bridge } = await bridgeOnFake(t, { resubscribeInitialMs: 600_000, resubscribeMaxMs: 600_000 }, (fake) => void fake.refuseEvents.add(''));
  while (eventRequests(rt) < 1) await new Promise((r) => setTimeout(r, 20));
  rt.refuseEvents.clear();
  bridge.setTarget({ url: rt.url, password: PASSWORD });
  await bridge.subscribed();
  assert.equal(eventRequests(rt), 2);
});

test('a bridge made before the runtime has an address refuses calls, then connects when given one', async (t) => {
  const bridge = createRuntimeBridge({ password: PASSWORD, log: createLogger({ write: () => {} }) });
  const rt = await fakeRuntime();
  t.after(async () => {
    await bridge.close();
    await rt.close();
  });
  assert.equal(bridge.target, undefined);
  await assert.rejects(bridge.listSessions(), /has not started yet/);
  bridge.setTarget({ url: rt.url, password: PASSWORD });
  await bridge.subscribed();
  await rt.waitForStream(1);
  assert.equal((await bridge.createSession('late')).title, 'late');
});

test('REST calls: prompt is async, replies are once or reject, errors are readable', async (t) => {
  const { rt, bridge } = await bridgeOnFake(t, { directories: ['/work/space'] });

  await bridge.prompt('ses_1', 'hello', { messageId: 'msg_abc' });
  const prompt = rt.requests.find((r) => r.url.includes('/prompt_async'))!;
  assert.deepEqual(prompt.body, { parts: [{ type: 'text', text: 'hello' }], messageID: 'msg_abc' });
  assert.match(prompt.url, /directory=%2Fwork%2Fspace/);

  rt.permissions.set('/work/space', [{ id: 'per_1', sessionID: 'ses_1' }]);
  assert.equal((await bridge.listPermissions()).requests[0]!.id, 'per_1');
  await bridge.replyPermission('per_1', 'reject', 'not now');
  assert.deepEqual(rt.requests.find((r) => r.url.startsWith('/permission/per_1/reply'))!.body, { reply: 'reject', message: 'not now' });
  await assert.rejects(bridge.replyPermission('per_1', 'always' as 'once'), RangeError);

  await assert.rejects(bridge.getSession('ses_missing'), (err: Error) => err.message.startsWith('get session failed') && err.message.includes('no such session'));
  await bridge.close();
  await assert.rejects(bridge.listSessions(), /closed/);
});

const session = (id: string, directory: string, updated: number) => ({ id, slug: id, projectID: 'p', directory, title: id, version: '1.18.33', time: { created: 1, updated } });

test('sessions of every workspace are listed once, most recently updated first, each with its live status', async (t) => {
  const { rt, bridge } = await bridgeOnFake(t, { directories: ['/w/a', '/w/b'] });
  rt.sessions.set('/w/a', [session('ses_a1', '/w/a', 30), session('ses_a2', '/w/a', 10)]);
  // The runtime's status map is per directory and holds only sessions that are not idle.
  rt.statuses.set('/w/a', { ses_a2: { type: 'busy' }, ses_b1: { type: 'busy' } });
  rt.sessions.set('/w/b', [session('ses_b1', '/w/b', 20), session('ses_a1', '/w/a', 30)]);
  rt.statuses.set('/w/b', { ses_b1: { type: 'retry', attempt: 2, message: 'rate limited', next: 99 } });
  rt.sessions.set('', [session('ses_elsewhere', '/w/c', 40)]);

  const listed = await bridge.listSessions();
  assert.deepEqual(
    listed.sessions.map((s) => [s.id, s.relayStatus]),
    [
      ['ses_a1', { type: 'idle' }],
      ['ses_b1', { type: 'retry', attempt: 2, message: 'rate limited', next: 99 }],
      ['ses_a2', { type: 'busy' }],
    ],
  );
  assert.deepEqual(listed.unavailable, []);
  const asked = rt.requests
    .filter((r) => r.method === 'GET' && /^\/session(\/status)?\?/.test(r.url))
    .map((r) => r.url)
    .sort();
  assert.deepEqual(asked, ['/session/status?directory=%2Fw%2Fa', '/session/status?directory=%2Fw%2Fb', '/session?directory=%2Fw%2Fa', '/session?directory=%2Fw%2Fb']);
});

test('a workspace that cannot answer is named with why, and the others are listed', async (t) => {
  const lines: string[] = [];
  const log = createLogger({ write: (l) => lines.push(l) });
  const { rt, bridge } = await bridgeOnFake(t, { directories: ['/w/a', '/w/b', '/w/c'], log });
  rt.sessions.set('/w/b', [session('ses_b1', '/w/b', 20)]);
  rt.failSessions.set('/w/a', { name: 'UnknownError', data: { message: 'Unexpected server error. Check server logs for details.' } });
  rt.failSessions.set('/w/c', { name: 'ConfigJsonError', data: { path: '/w/c/opencode.json', message: '\n--- JSONC Input ---\n{ not json\n--- End ---' } });

  const listed = await bridge.listSessions();
  assert.deepEqual(
    listed.sessions.map((s) => s.id),
    ['ses_b1'],
  );
  assert.deepEqual(listed.unavailable, [
    { workspace: '/w/a', reason: 'Unexpected server error. Check server logs for details.' },
    { workspace: '/w/c', reason: '/w/c/opencode.json is not valid JSON; fix it, then restart the host' },
  ]);
  await bridge.listSessions();
  const warnings = lines.filter((l) => l.includes('could not list the sessions of a workspace'));
  assert.equal(warnings.length, 2, 'one warning per workspace that failed, not one per call');
  assert.ok(warnings[0]!.includes('/w/a') && warnings[1]!.includes('/w/c'));

  rt.failSessions.set('/w/b', { name: 'UnknownError', data: { message: 'broken too' } });
  await assert.rejects(bridge.listSessions(), /^Error: list sessions in \/w\/a failed: Unexpected server error/, 'none answered: the first reason');
});

test('a workspace that does not answer in time is named, and the others are listed', async (t) => {
  const { rt, bridge } = await bridgeOnFake(t, { directories: ['/w/a', '/w/b'], requestTimeoutMs: 300 });
  rt.sessions.set('/w/a', [session('ses_a1', '/w/a', 20)]);
  rt.holdSessions.add('/w/b');
  const listed = await bridge.listSessions();
  assert.deepEqual(
    listed.sessions.map((s) => s.id),
    ['ses_a1'],
  );
  assert.deepEqual(listed.unavailable, [{ workspace: '/w/b', reason: 'the coding runtime did not answer in time' }]);
});

test('a lone workspace that cannot answer fails the list, naming the call', async (t) => {
  const { rt, bridge } = await bridgeOnFake(t, { directories: ['/w/a'] });
  rt.failSessions.set('/w/a', { name: 'UnknownError', data: { message: 'no instance' } });
  await assert.rejects(bridge.listSessions(), /^Error: list sessions failed: no instance$/);
  await rt.close();
  await assert.rejects(bridge.listSessions(), /list sessions failed/);
});

test('events of every workspace arrive; one lost stream is said once it is back', async (t) => {
  const { rt, bridge } = await bridgeOnFake(t, { directories: ['/w/a', '/w/b'], resubscribeInitialMs: 10 });
  const got = collector();
  bridge.onEvent((e) => got.push(e));
  await bridge.subscribed();
  assert.deepEqual(rt.streams.map((s) => s.directory).sort(), ['/w/a', '/w/b']);

  rt.send(idle('ses_a'), '/w/a');
  await got.until(1);
  rt.send(idle('ses_b'), '/w/b');
  await got.until(2);
  assert.deepEqual(got.events, [
    { type: 'session.idle', sessionId: 'ses_a' },
    { type: 'session.idle', sessionId: 'ses_b' },
  ]);

  rt.streams.find((s) => s.directory === '/w/b')!.end();
  await rt.waitForStream(3);
  await bridge.subscribed();
  await got.until(3);
  rt.send(idle('ses_b2'), '/w/b');
  await got.until(4);
  assert.deepEqual(got.events.slice(2), [{ type: 'runtime.reconnected' }, { type: 'session.idle', sessionId: 'ses_b2' }]);

  // A restarted runtime drops every stream: said once, when all are back.
  for (const s of rt.streams.filter((s) => !s.writableEnded)) s.end();
  await rt.waitForStream(5);
  await bridge.subscribed();
  rt.send(idle('ses_a3'), '/w/a');
  await got.until(6);
  assert.deepEqual(got.events.slice(4), [{ type: 'runtime.reconnected' }, { type: 'session.idle', sessionId: 'ses_a3' }]);
});

test('a workspace whose stream cannot connect does not hold back the others', async (t) => {
  const { rt, bridge } = await bridgeOnFake(
    t,
    { directories: ['/w/a', '/w/gone'], resubscribeInitialMs: 10, resubscribeMaxMs: 20 },
    (fake) => void fake.refuseEvents.add('/w/gone'),
  );
  const got = collector();
  bridge.onEvent((e) => got.push(e));
  await rt.waitForStream(1);
  rt.send(idle('ses_a'), '/w/a');
  await got.until(1);
  rt.streams[0]!.end();
  await rt.waitForStream(2);
  rt.send(idle('ses_a2'), '/w/a');
  await got.until(3);
  assert.deepEqual(got.events, [{ type: 'session.idle', sessionId: 'ses_a' }, { type: 'runtime.reconnected' }, { type: 'session.idle', sessionId: 'ses_a2' }]);
  const goneAttempts = () => rt.requests.filter((r) => r.url === '/event?directory=%2Fw%2Fgone').length;
  for (const until = Date.now() + 20_000; goneAttempts() < 2 && Date.now() < until; ) await new Promise((r) => setTimeout(r, 20));
  assert.ok(goneAttempts() >= 2, 'the broken one is retried');
});

test('a permission reply goes to the workspace of its request', async (t) => {
  const { rt, bridge } = await bridgeOnFake(t, { directories: ['/w/a', '/w/b'] });
  const got = collector();
  bridge.onEvent((e) => got.push(e));
  await bridge.subscribed();
  const replies = () => rt.requests.filter((r) => r.url.includes('/reply')).map((r) => r.url);

  // Learned from the event stream it came on.
  rt.permissions.set('/w/b', [{ id: 'per_b', sessionID: 'ses_b' }]);
  rt.send({ type: 'permission.asked', properties: { id: 'per_b', sessionID: 'ses_b', permission: 'bash', patterns: ['ls'], metadata: {}, always: [] } }, '/w/b');
  await got.until(1);
  await bridge.replyPermission('per_b', 'once');
  assert.deepEqual(replies(), ['/permission/per_b/reply?directory=%2Fw%2Fb']);

  // Never seen as an event (asked before the host started): looked up in every workspace.
  rt.permissions.set('/w/b', [{ id: 'per_c', sessionID: 'ses_b' }]);
  assert.deepEqual(
    (await bridge.listPermissions()).requests.map((p) => p.id),
    ['per_c'],
  );
  rt.permissions.set('/w/b', [{ id: 'per_d', sessionID: 'ses_b' }]);
  await bridge.replyPermission('per_d', 'reject');
  assert.equal(replies().at(-1), '/permission/per_d/reply?directory=%2Fw%2Fb');
});

test("a workspace whose permission list fails: the others' requests are listed and answered, its own are unseen, not gone", async (t) => {
  const lines: string[] = [];
  const log = createLogger({ write: (l) => lines.push(l) });
  const { rt, bridge } = await bridgeOnFake(t, { directories: ['/w/a', '/w/b'], log });
  const got = collector();
  bridge.onEvent((e) => got.push(e));
  await bridge.subscribed();
  const replies = () => rt.requests.filter((r) => r.url.includes('/reply')).map((r) => r.url);
  rt.send({ type: 'permission.asked', properties: { id: 'per_b', sessionID: 'ses_b', permission: 'bash', patterns: ['ls'], metadata: {}, always: [] } }, '/w/b');
  await got.until(1);
  rt.permissions.set('/w/a', [{ id: 'per_a', sessionID: 'ses_a' }]);
  rt.failPermissions.set('/w/b', { name: 'UnknownError', data: { message: 'instance down' } });

  for (let i = 0; i < 3; i++) {
    assert.deepEqual(await bridge.listPermissions(), {
      requests: [{ id: 'per_a', sessionID: 'ses_a' }],
      unavailable: [{ workspace: '/w/b', reason: 'instance down' }],
      unseen: ['per_b'],
    });
  }
  assert.equal(lines.filter((l) => l.includes('could not list the permission requests of a workspace')).length, 1, 'warned once, not per call');

  // A request never seen as an event is looked up in the workspaces that answer.
  rt.permissions.set('/w/a', [{ id: 'per_c', sessionID: 'ses_a' }]);
  await bridge.replyPermission('per_c', 'once');
  assert.deepEqual(replies(), ['/permission/per_c/reply?directory=%2Fw%2Fa']);

  rt.failPermissions.delete('/w/b');
  rt.permissions.set('/w/b', [{ id: 'per_b', sessionID: 'ses_b' }]);
  assert.deepEqual(await bridge.listPermissions(), {
    requests: [
      { id: 'per_c', sessionID: 'ses_a' },
      { id: 'per_b', sessionID: 'ses_b' },
    ],
    unavailable: [],
    unseen: [],
  });
  assert.equal(lines.filter((l) => l.includes('a workspace answers again')).length, 1);

  rt.failPermissions.set('/w/a', { name: 'UnknownError', data: { message: 'down too' } });
  rt.failPermissions.set('/w/b', { name: 'UnknownError', data: { message: 'still down' } });
  await assert.rejects(bridge.listPermissions(), /^Error: list permissions in \/w\/a failed: down too/, 'none answered: the first reason');
});

test('mergeSessions keeps the first of duplicates and orders by last update', () => {
  const a = session('ses_1', '/a', 5);
  const merged = mergeSessions([
    [a, session('ses_2', '/a', 1)],
    [{ ...a, title: 'again' }, session('ses_3', '/b', 9)],
  ]);
  assert.deepEqual(
    merged.map((s) => [s.id, s.title]),
    [
      ['ses_3', 'ses_3'],
      ['ses_1', 'ses_1'],
      ['ses_2', 'ses_2'],
    ],
  );
});

/** A message as the runtime stores it, created at `created` ms. */
const stored = (id: string, created: number) => ({ info: { id, time: { created } }, parts: [] });

test('ignoredBefore: an answer holding the message itself or a later one was not paged before it', () => {
  const at = stored('msg_3', 30).info;
  assert.equal(ignoredBefore([stored('msg_1', 10), stored('msg_2', 20)], at), false);
  assert.equal(ignoredBefore([], at), false);
  assert.equal(ignoredBefore([stored('msg_2', 20), stored('msg_3', 30)], at), true, 'the message itself');
  assert.equal(ignoredBefore([stored('msg_4', 40)], at), true, 'a later message');
  // The runtime orders by creation time, then id: the same millisecond is told apart by the id.
  assert.equal(ignoredBefore([stored('msg_2z', 30)], at), false);
  assert.equal(ignoredBefore([stored('msg_4', 30)], at), true);
  assert.equal(ignoredBefore([stored('msg_9', 29)], at), false, 'an earlier time, whatever its id');
  assert.deepEqual(JSON.parse(Buffer.from(cursorBefore(at), 'base64url').toString()), { id: 'msg_3', time: 30 });
});

test('messages before one: a runtime that ignores or refuses its cursor still gets the right page, from the whole session', async (t) => {
  const lines: string[] = [];
  const { rt, bridge } = await bridgeOnFake(t, { log: createLogger({ write: (l) => lines.push(l) }) });
  rt.transcript = [1, 2, 3, 4, 5].map((n) => stored(`msg_${n}`, n * 10));
  const ids = (messages: readonly { info: { id: string } }[]) => messages.map((m) => m.info.id);
  assert.deepEqual(ids(await bridge.messages('ses_1', 2, 'msg_4')), ['msg_1', 'msg_2', 'msg_3'], 'every message before it; the router keeps the last ones');
  const asked = rt.requests.filter((r) => r.url.startsWith('/session/ses_1/message?'));
  assert.ok(
    asked.some((r) => new URL(r.url, 'http://x').searchParams.get('before') === cursorBefore(stored('msg_4', 40).info)),
    'the runtime was asked for the page first',
  );
  assert.equal(lines.filter((l) => l.includes('does not page a session before a message')).length, 1);
  rt.refuseBefore = true;
  assert.deepEqual(ids(await bridge.messages('ses_1', 2, 'msg_2')), ['msg_1']);
  assert.equal(lines.filter((l) => l.includes('does not page a session before a message')).length, 1, 'said once');
  await assert.rejects(bridge.messages('ses_1', 2, 'msg_9'), (e: unknown) => e instanceof RelayError && e.code === 'request.unknown' && /msg_9/.test(e.message));
});
