/**
 * The bridge against a stand-in runtime that serves `/event` and the REST routes it uses, so
 * malformed frames, dropped streams and retargeting can be provoked at will. The real runtime
 * is covered by e2e/runtime.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createLogger } from '../log.ts';
import type { RelayRuntimeEvent } from '../../shared/protocol/runtime-events.ts';
import { createRuntimeBridge } from './bridge.ts';

const PASSWORD = 'bridge-secret';
const AUTH = `Basic ${Buffer.from(`opencode:${PASSWORD}`).toString('base64')}`;

interface FakeRuntime {
  url: string;
  /** Open `/event` responses, newest last. */
  streams: ServerResponse[];
  requests: Array<{ method: string; url: string; body: unknown; auth?: string }>;
  send(frame: unknown): void;
  waitForStream(count: number): Promise<void>;
  close(): Promise<void>;
}

async function fakeRuntime(): Promise<FakeRuntime> {
  const streams: ServerResponse[] = [];
  const requests: FakeRuntime['requests'] = [];
  const streamWaiters: Array<() => void> = [];
  const server = createServer(async (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    requests.push({ method: req.method!, url: req.url!, body: text ? JSON.parse(text) : undefined, auth: req.headers.authorization });
    if (req.headers.authorization !== AUTH) return void res.writeHead(401).end();
    const path = new URL(req.url!, 'http://x').pathname;
    if (path === '/event') {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(`data: ${JSON.stringify({ type: 'server.connected', properties: {} })}\n\n`);
      streams.push(res);
      for (const w of streamWaiters.splice(0)) w();
      return;
    }
    if (req.method === 'POST' && /^\/session\/ses_1\/prompt_async$/.test(path)) return void res.writeHead(204).end();
    if (req.method === 'POST' && /^\/permission\/per_1\/reply$/.test(path)) return json(res, true);
    if (req.method === 'POST' && path === '/session') return json(res, { id: 'ses_1', title: (JSON.parse(text) as { title: string }).title });
    if (req.method === 'GET' && path === '/permission') return json(res, [{ id: 'per_1', sessionID: 'ses_1', permission: 'bash', patterns: ['ls'], metadata: {}, always: [] }]);
    res.writeHead(404, { 'content-type': 'application/json' }).end('{"name":"NotFoundError","data":{"message":"no such session"}}');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    streams,
    requests,
    send: (frame) => streams.at(-1)!.write(`data: ${typeof frame === 'string' ? frame : JSON.stringify(frame)}\n\n`),
    waitForStream: (count) => (streams.length >= count ? Promise.resolve() : new Promise<void>((r) => streamWaiters.push(() => streams.length >= count && r()))),
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
  assert.ok(lines.some((l) => l.includes('sessionID must be a string')), 'the warning names the field');
  assert.ok(lines.some((l) => l.includes('runtime event listener failed')), 'a throwing listener is logged, not fatal');
  assert.equal(rt.requests[0].auth, AUTH);
});

test('resubscribes when the stream ends and says events may have been missed', async (t) => {
  const rt = await fakeRuntime();
  const bridge = createRuntimeBridge({ url: rt.url, password: PASSWORD, log: createLogger({ write: () => {} }), resubscribeInitialMs: 10 });
  t.after(async () => {
    await bridge.close();
    await rt.close();
  });
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
  const rt = await fakeRuntime();
  const bridge = createRuntimeBridge({ url: rt.url, password: PASSWORD, log: createLogger({ write: () => {} }), directory: '/work/space' });
  t.after(async () => {
    await bridge.close();
    await rt.close();
  });

  await bridge.prompt('ses_1', 'hello', { messageId: 'msg_abc' });
  const prompt = rt.requests.find((r) => r.url.includes('/prompt_async'))!;
  assert.deepEqual(prompt.body, { parts: [{ type: 'text', text: 'hello' }], messageID: 'msg_abc' });
  assert.match(prompt.url, /directory=%2Fwork%2Fspace/);

  assert.equal((await bridge.listPermissions())[0].id, 'per_1');
  await bridge.replyPermission('per_1', 'reject', 'not now');
  assert.deepEqual(rt.requests.find((r) => r.url.startsWith('/permission/per_1/reply'))!.body, { reply: 'reject', message: 'not now' });
  await assert.rejects(bridge.replyPermission('per_1', 'always' as 'once'), RangeError);

  await assert.rejects(bridge.getSession('ses_missing'), (err: Error) => err.message.startsWith('get session failed') && err.message.includes('no such session'));
  await bridge.close();
  await assert.rejects(bridge.listSessions(), /closed/);
});
