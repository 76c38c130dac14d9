import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RelayClosedError, type ConnectOptions, type RelayChannel, type SocketLike, type Welcome } from '../../shared/channel/client.ts';
import type { Resync } from '../../shared/protocol/messages.ts';
import { pairedHost, welcomeOf } from '../state/test-records.ts';
import { candidateAddresses } from './addresses.ts';
import { browserEnvironment, createHostLink, type LinkEnvironment, type LinkState } from './host-link.ts';
import { createBackoff, type Backoff } from './backoff.ts';

const host = pairedHost({ addresses: ['http://a.test:1', 'http://b.test:1'], scopes: ['read'] });

function welcome(epoch = 'e1', resumed = true, seq?: number): Welcome {
  return welcomeOf({ host: { hostId: 'H1', name: 'desk', version: '1', addresses: [] }, runtime: { state: 'ready' }, epoch, resumed, ...(seq !== undefined ? { seq } : {}) });
}

interface FakeChannel extends RelayChannel {
  drop(err: RelayClosedError): void;
  /** The code it was closed with by the link, if it was. */
  closeCode: number | undefined;
}

function fakeChannel(w = welcome(), answersPings = true): FakeChannel {
  let resolveClosed!: (e: RelayClosedError) => void;
  const closed = new Promise<RelayClosedError>((r) => (resolveClosed = r));
  const ch: FakeChannel = {
    welcome: w,
    closed,
    closeCode: undefined,
    request: (async (body: { t: string }) => (body.t !== 'ping' ? {} : answersPings ? { at: 1 } : new Promise(() => {}))) as RelayChannel['request'],
    close: (code = 1000, reason = '') => {
      ch.closeCode ??= code;
      resolveClosed(new RelayClosedError(undefined, code, reason));
    },
    drop: (err) => resolveClosed(err),
  };
  return ch;
}

interface FakeSocket {
  url: string;
  closed: boolean;
}

interface HarnessOptions {
  online?: boolean;
  onResync?: (r: Resync) => Promise<void>;
  headStartMs?: number;
  pingEveryMs?: number;
  pingTimeoutMs?: number;
  remembered?: Map<string, string>;
  backoff?: Backoff;
  /** Answers by address instead of by call order. */
  byAddress?: Record<string, Array<(o: ConnectOptions) => Promise<RelayChannel>>>;
}

function harness(plan: Array<(o: ConnectOptions) => Promise<RelayChannel>>, opt: HarnessOptions = {}) {
  let online = opt.online ?? true;
  const states: LinkState[] = [];
  const calls: ConnectOptions[] = [];
  const urls: string[] = [];
  const sockets: FakeSocket[] = [];
  /** Sockets opened and states shown, in the order they happened. */
  const order: string[] = [];
  let wake: () => void = () => {};
  const env: LinkEnvironment = {
    openSocket: (url) => {
      urls.push(url);
      order.push(`socket ${url}`);
      const socket: FakeSocket = { url, closed: false };
      sockets.push(socket);
      return { close: () => void (socket.closed = true), url } as unknown as SocketLike;
    },
    online: () => online,
    onWake: (l) => ((wake = l), () => {}),
    onOffline: () => () => {},
    origin: 'http://b.test:1',
    now: () => performance.now(),
    ...(opt.remembered ? { rememberedAddress: (id: string) => opt.remembered!.get(id), rememberAddress: (id: string, a: string) => void opt.remembered!.set(id, a) } : {}),
  };
  const rtts: number[] = [];
  const onResync = opt.onResync ?? (async () => {});
  const link = createHostLink({
    host,
    device: { name: 'phone', platform: 'test' },
    env,
    backoff: opt.backoff ?? createBackoff({ initialMs: 5, maxMs: 10 }),
    connectTimeoutMs: 200,
    ...(opt.headStartMs !== undefined ? { headStartMs: opt.headStartMs } : {}),
    pingEveryMs: opt.pingEveryMs ?? 60_000,
    ...(opt.pingTimeoutMs !== undefined ? { pingTimeoutMs: opt.pingTimeoutMs } : {}),
    wakePingTimeoutMs: 50,
    connect: (o) => {
      calls.push(o);
      const url = (o.socket as unknown as { url: string }).url;
      const next = opt.byAddress ? opt.byAddress[url]?.shift() : plan.shift();
      return next ? next(o) : new Promise(() => {});
    },
    handlers: {
      onState: (s) => void (states.push(s), order.push(s.phase)),
      onWelcome: () => {},
      onResync: (r) => onResync(r),
      onEvent: () => {},
      onRuntime: () => {},
      onRtt: (ms) => rtts.push(ms),
    },
  });
  return { link, states, calls, urls, sockets, rtts, order, setOnline: (v: boolean) => (online = v), wake: () => wake() };
}

const until = async (check: () => boolean) => {
  for (let i = 0; i < 400 && !check(); i++) await new Promise((r) => setTimeout(r, 5));
  assert.ok(check(), 'condition not reached');
};

test('the page origin comes first; https pages skip ws:// addresses', () => {
  assert.deepEqual(candidateAddresses(['http://a:1', 'http://b:1', 'http://a:1'], 'http://b:1'), ['http://b:1', 'http://a:1']);
  assert.deepEqual(candidateAddresses(['http://a:1', 'https://c:2'], 'https://x'), ['https://c:2']);
});

test('tries the next address after a failure, then reports connected and a round trip', async () => {
  const ch = fakeChannel();
  const h = harness([async () => Promise.reject(new RelayClosedError(undefined, 1006, '')), async () => ch]);
  await until(() => h.link.state().phase === 'connected');
  assert.deepEqual(h.urls, ['ws://b.test:1/relay', 'ws://a.test:1/relay']);
  await until(() => h.rtts.length === 1);
  h.link.close();
});

test('reconnects after a drop with backoff, resuming after the last event of the same host run', async () => {
  const first = fakeChannel(welcome('e1'));
  const second = fakeChannel(welcome('e1'));
  const h = harness([async (o) => (setTimeout(() => o.onEvent?.(41, { type: 'session.idle', sessionId: 'ses_1' })), first), async () => second]);
  await until(() => h.link.state().phase === 'connected');
  await new Promise((r) => setTimeout(r, 10));
  first.drop(new RelayClosedError('host.shutting-down', 1001, 'host.shutting-down: bye'));
  await until(() => h.calls.length === 2 && h.link.state().phase === 'connected');
  assert.ok(h.states.some((s) => s.phase === 'waiting' && /shutting down; trying again/.test(s.reason)));
  assert.equal(h.calls[1]!.after, 41);
  assert.equal(h.calls[1]!.epoch, 'e1');
  h.link.close();
});

test('an access change reconnects at once (no backoff) to receive the new scopes', async () => {
  const first = fakeChannel();
  const second = fakeChannel();
  // A backoff long enough that a retry through it would not happen within the test.
  const h = harness([async () => first, async () => second], { backoff: createBackoff({ initialMs: 60_000, maxMs: 60_000 }) });
  await until(() => h.link.state().phase === 'connected');
  first.drop(new RelayClosedError('device.access-changed', 4205, 'device.access-changed: scopes changed'));
  await until(() => h.calls.length === 2 && h.link.state().phase === 'connected');
  assert.ok(!h.states.some((s) => s.phase === 'waiting'), 'no wait between the two connections');
  h.link.close();
});

test('stops for good when the host no longer knows this phone', async () => {
  const h = harness([async () => Promise.reject(new RelayClosedError('device.revoked', 4403, 'device.revoked: removed'))]);
  await until(() => h.link.state().phase === 'stopped');
  const state = h.link.state();
  assert.equal(state.phase === 'stopped' && state.code, 'device.revoked');
  await new Promise((r) => setTimeout(r, 40));
  assert.equal(h.calls.length, 1, 'no retry');
  await assert.rejects(h.link.request({ t: 'sessions.list' }), /Not connected/);
  h.link.close();
});

test('an attempt that hangs times out and is retried; offline waits for the network', async () => {
  const h = harness([], { online: false });
  assert.equal(h.link.state().phase, 'offline');
  assert.equal(h.calls.length, 0);
  h.setOnline(true);
  h.wake();
  await until(() => h.calls.length >= 3); // two addresses timed out, then a retry began
  assert.ok(h.states.some((s) => s.phase === 'waiting' && /did not answer in time/.test(s.reason)));
  h.link.close();
  assert.equal(h.link.state().phase, 'stopped');
});

test('after a resync the resume point moves only once the reload is done', async () => {
  let finishReload!: () => void;
  const reloads: Resync[] = [];
  const first = fakeChannel(welcome('e2', false, 50));
  const second = fakeChannel(welcome('e2', false, 60));
  const third = fakeChannel(welcome('e2', true, 70));
  const resync: Resync = { t: 'resync', reason: 'restart', seq: 50, permissions: [] };
  const h = harness(
    [
      async (o) => (o.onResync?.(resync), setTimeout(() => o.onEvent?.(51, { type: 'session.idle', sessionId: 'ses_1' })), first),
      async (o) => (o.onResync?.({ ...resync, seq: 60 }), second),
      async () => third,
    ],
    {
      onResync: (r) => (
        reloads.push(r), r.seq === 50 ? new Promise<void>((_, reject) => setTimeout(() => reject(new Error('cut')), 30)) : new Promise<void>((res) => (finishReload = res))
      ),
    },
  );
  await until(() => reloads.length === 1);
  await new Promise((r) => setTimeout(r, 40)); // the first reload failed
  first.drop(new RelayClosedError(undefined, 1006, ''));
  await until(() => h.calls.length === 2 && reloads.length === 2);
  assert.equal(h.calls[1]!.after, undefined, 'nothing was reloaded yet: no resume point');
  finishReload();
  await new Promise((r) => setTimeout(r, 5));
  second.drop(new RelayClosedError(undefined, 1006, ''));
  await until(() => h.calls.length === 3);
  assert.deepEqual([h.calls[2]!.after, h.calls[2]!.epoch], [60, 'e2']);
  h.link.close();
});

test('races the addresses: the first handshake wins, the others are closed, and the winner goes first next time', async () => {
  const remembered = new Map<string, string>();
  let late!: (c: RelayChannel) => void;
  const lateChannel = fakeChannel();
  const winner = fakeChannel();
  const again = fakeChannel();
  const h = harness([], {
    remembered,
    headStartMs: 0,
    byAddress: {
      'ws://b.test:1/relay': [() => new Promise((r) => (late = r))],
      'ws://a.test:1/relay': [async () => winner, async () => again],
    },
  });
  await until(() => h.link.state().phase === 'connected');
  assert.deepEqual(h.link.state(), { phase: 'connected', address: 'http://a.test:1' });
  assert.deepEqual(h.urls, ['ws://b.test:1/relay', 'ws://a.test:1/relay'], 'both at once');
  assert.equal(h.sockets[0]!.closed, true, 'the loser still in its handshake was closed');
  assert.equal(remembered.get('H1'), 'http://a.test:1');
  late(lateChannel);
  await until(() => lateChannel.closeCode !== undefined);
  assert.equal(lateChannel.closeCode, 1000, 'a loser that completes later is closed cleanly, not adopted');
  assert.deepEqual(h.link.state(), { phase: 'connected', address: 'http://a.test:1' });

  winner.drop(new RelayClosedError(undefined, 1006, ''));
  await until(() => h.calls.length === 4 && h.link.state().phase === 'connected');
  assert.deepEqual(h.urls.slice(2), ['ws://a.test:1/relay', 'ws://b.test:1/relay'], 'the last winner first, but not only');
  h.link.close();
});

test('a remembered winner from an earlier run gets a head start over the page’s own origin', async () => {
  const remembered = new Map([['H1', 'http://a.test:1']]);
  const h = harness([], { remembered, headStartMs: 60_000, byAddress: { 'ws://a.test:1/relay': [async () => fakeChannel()] } });
  await until(() => h.link.state().phase === 'connected');
  assert.deepEqual(h.urls, ['ws://a.test:1/relay'], 'one socket: the favourite answered within its head start');
  h.link.close();
});

test('the winner is written to storage only when it changed (storage writes block the page)', async (t) => {
  const remembered = new Map([['H1', 'http://a.test:1']]);
  const writes: string[] = [];
  const set = remembered.set.bind(remembered);
  remembered.set = (id, address) => (writes.push(address), set(id, address));
  const first = fakeChannel();
  const second = fakeChannel();
  const refused = async () => Promise.reject(new RelayClosedError(undefined, 1006, ''));
  const h = harness([], {
    remembered,
    headStartMs: 60_000,
    byAddress: { 'ws://a.test:1/relay': [async () => first, refused], 'ws://b.test:1/relay': [async () => second] },
  });
  t.after(() => h.link.close());
  await until(() => h.link.state().phase === 'connected');
  assert.deepEqual(writes, [], 'the remembered address won again');
  first.drop(new RelayClosedError(undefined, 1006, ''));
  await until(() => h.calls.length === 3 && h.link.state().phase === 'connected');
  assert.deepEqual(h.link.state(), { phase: 'connected', address: 'http://b.test:1' });
  assert.deepEqual(writes, ['http://b.test:1']);
});

test('a reconnect opens its socket before it updates the screen', async (t) => {
  const first = fakeChannel();
  const h = harness([async () => first, async () => fakeChannel()]);
  t.after(() => h.link.close());
  await until(() => h.link.state().phase === 'connected');
  h.order.length = 0;
  first.drop(new RelayClosedError(undefined, 1006, ''));
  h.setOnline(false);
  await until(() => h.link.state().phase === 'offline');
  h.setOnline(true);
  h.wake();
  assert.deepEqual(h.order.slice(-2), ['socket ws://b.test:1/relay', 'connecting'], 'the socket first, at once on waking');
  await until(() => h.link.state().phase === 'connected');
});

test('addresses a welcome announces join the next race', async () => {
  const first = fakeChannel({ ...welcome(), host: { hostId: 'H1', name: 'desk', version: '1', addresses: ['http://desk.local:1'] } });
  const h = harness([], { headStartMs: 0, byAddress: { 'ws://b.test:1/relay': [async () => first] } });
  await until(() => h.link.state().phase === 'connected');
  first.drop(new RelayClosedError(undefined, 1006, ''));
  await until(() => h.urls.includes('ws://desk.local:1/relay'));
  h.link.close();
});

test('back in the foreground: a connection that does not answer a ping at once is closed and replaced', async () => {
  const silent = fakeChannel(welcome(), false);
  const fresh = fakeChannel();
  const h = harness([async () => silent, async () => fresh]);
  await until(() => h.link.state().phase === 'connected');
  h.wake();
  await until(() => h.calls.length === 2 && h.link.state().phase === 'connected');
  assert.equal(silent.closeCode, 4000, 'the old socket was closed, not left behind');
  assert.equal(fresh.closeCode, undefined);
  assert.ok(!h.states.some((s) => s.phase === 'waiting'), 'no backoff wait');
  h.link.close();
});

test('back in the foreground with a live connection: it is kept', async () => {
  const live = fakeChannel();
  const h = harness([async () => live]);
  await until(() => h.link.state().phase === 'connected' && h.rtts.length === 1);
  h.wake();
  await until(() => h.rtts.length === 2);
  assert.equal(h.calls.length, 1);
  assert.equal(live.closeCode, undefined);
  h.link.close();
});

test('the heartbeat notices a dead connection and replaces it', async () => {
  let pings = 0;
  const dying = fakeChannel();
  const request = dying.request;
  dying.request = ((body: { t: string }) => (body.t === 'ping' && ++pings > 1 ? new Promise(() => {}) : request(body as never))) as RelayChannel['request'];
  const h = harness([async () => dying, async () => fakeChannel()], { pingEveryMs: 20, pingTimeoutMs: 30 });
  await until(() => h.calls.length === 2 && h.link.state().phase === 'connected');
  assert.equal(dying.closeCode, 4000);
  h.link.close();
});

test('waking (online, visible, another network) while waiting to retry tries at once, not after the backoff', async () => {
  const refused = async () => Promise.reject(new RelayClosedError(undefined, 1006, ''));
  const h = harness([refused, refused], { headStartMs: 0, backoff: createBackoff({ initialMs: 60_000, maxMs: 60_000 }) });
  await until(() => h.link.state().phase === 'waiting');
  const before = h.calls.length;
  h.wake();
  await until(() => h.calls.length > before);
  h.link.close();
});

test('the browser environment wakes the link on online, on becoming visible and on a network change, and remembers the winner', () => {
  const doc = Object.assign(new EventTarget(), { visibilityState: 'hidden' });
  const connection = new EventTarget();
  const store = new Map<string, string>();
  const win = Object.assign(new EventTarget(), {
    document: doc,
    navigator: { onLine: true, connection },
    location: { origin: 'http://b.test:1' },
    localStorage: { getItem: (k: string) => store.get(k) ?? null, setItem: (k: string, v: string) => void store.set(k, v) },
  });
  const env = browserEnvironment(win as unknown as Window);
  let wakes = 0;
  const off = env.onWake(() => wakes++);
  win.dispatchEvent(new Event('online'));
  doc.dispatchEvent(new Event('visibilitychange')); // hidden: not a wake
  doc.visibilityState = 'visible';
  doc.dispatchEvent(new Event('visibilitychange'));
  connection.dispatchEvent(new Event('change'));
  assert.equal(wakes, 3);
  off();
  connection.dispatchEvent(new Event('change'));
  win.dispatchEvent(new Event('online'));
  assert.equal(wakes, 3, 'unsubscribed');
  assert.equal(env.rememberedAddress!('H1'), undefined);
  env.rememberAddress!('H1', 'http://a.test:1');
  assert.equal(env.rememberedAddress!('H1'), 'http://a.test:1');
});

test('the browser environment probes GET /healthz without CORS or cache, and knows whether the page is visible', async () => {
  const doc = { visibilityState: 'visible' };
  const fetched: Array<[string, RequestInit]> = [];
  let up = true;
  const win = Object.assign(new EventTarget(), {
    document: doc,
    navigator: { onLine: true },
    location: { origin: 'http://b.test:1' },
    fetch: async (url: URL, init: RequestInit) => {
      fetched.push([url.href, init]);
      if (!up) throw new TypeError('Failed to fetch');
      return new Response(null, { status: 200 });
    },
  });
  const env = browserEnvironment(win as unknown as Window);
  assert.equal(await env.probe!('http://a.test:1', 1000), true);
  up = false;
  assert.equal(await env.probe!('http://a.test:1', 1000), false);
  assert.deepEqual(
    fetched.map(([u, i]) => [u, i.mode, i.cache, i.signal instanceof AbortSignal]),
    [
      ['http://a.test:1/healthz', 'no-cors', 'no-store', true],
      ['http://a.test:1/healthz', 'no-cors', 'no-store', true],
    ],
  );
  assert.equal(env.visible!(), true);
  doc.visibilityState = 'hidden';
  assert.equal(env.visible!(), false);
});
