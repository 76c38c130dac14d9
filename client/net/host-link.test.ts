import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RelayClosedError, type ConnectOptions, type RelayChannel, type SocketLike, type Welcome } from '../../shared/channel/client.ts';
import type { Resync } from '../../shared/protocol/messages.ts';
import type { HostRecord } from '../storage/db.ts';
import { candidateAddresses } from './addresses.ts';
import { createHostLink, type LinkEnvironment, type LinkState } from './host-link.ts';
import { createBackoff } from './backoff.ts';

const key = () => new Uint8Array(32).fill(7);
const host: HostRecord = {
  hostId: 'H1', label: 'Desk', name: 'desk', pairedAt: 1, hostKey: key(), deviceKey: { publicKey: key(), secretKey: key() },
  deviceId: 'd1', addresses: ['http://a.test:1', 'http://b.test:1'], scopes: ['read'], workspaces: ['/w'],
};

function welcome(epoch = 'e1', resumed = true, seq?: number): Welcome {
  return {
    t: 'welcome', host: { hostId: 'H1', name: 'desk', version: '1', addresses: [] }, deviceId: 'd1', scopes: ['read'],
    workspaces: ['/w'], runtime: { state: 'ready' }, protocol: 1, epoch, resumed, ...(seq !== undefined ? { seq } : {}),
  };
}

interface FakeChannel extends RelayChannel {
  drop(err: RelayClosedError): void;
}

function fakeChannel(w = welcome()): FakeChannel {
  let resolveClosed!: (e: RelayClosedError) => void;
  const closed = new Promise<RelayClosedError>((r) => (resolveClosed = r));
  return {
    welcome: w,
    closed,
    request: (async (body: { t: string }) => (body.t === 'ping' ? { at: 1 } : {})) as RelayChannel['request'],
    close: (code = 1000, reason = '') => resolveClosed(new RelayClosedError(undefined, code, reason)),
    drop: (err) => resolveClosed(err),
  };
}

function harness(plan: Array<(o: ConnectOptions) => Promise<RelayChannel>>, online = true, onResync: (r: Resync) => Promise<void> = async () => {}) {
  const states: LinkState[] = [];
  const calls: ConnectOptions[] = [];
  const urls: string[] = [];
  let wake: () => void = () => {};
  const env: LinkEnvironment = {
    openSocket: (url) => {
      urls.push(url);
      return { close() {} } as unknown as SocketLike;
    },
    online: () => online,
    onWake: (l) => ((wake = l), () => {}),
    onOffline: () => () => {},
    origin: 'http://b.test:1',
    now: () => performance.now(),
  };
  const rtts: number[] = [];
  const link = createHostLink({
    host, device: { name: 'phone', platform: 'test' }, env,
    backoff: createBackoff({ initialMs: 5, maxMs: 10 }),
    connectTimeoutMs: 200,
    pingEveryMs: 60_000,
    connect: (o) => {
      calls.push(o);
      const next = plan.shift();
      return next ? next(o) : new Promise(() => {});
    },
    handlers: { onState: (s) => states.push(s), onWelcome: () => {}, onResync: (r) => onResync(r), onEvent: () => {}, onRuntime: () => {}, onRtt: (ms) => rtts.push(ms) },
  });
  return { link, states, calls, urls, rtts, setOnline: (v: boolean) => (online = v), wake: () => wake() };
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
  const h = harness([async (o) => (setTimeout(() => o.onEvent?.(41, { type: 'session.idle' })), first), async () => second]);
  await until(() => h.link.state().phase === 'connected');
  await new Promise((r) => setTimeout(r, 10));
  first.drop(new RelayClosedError('host.shutting-down', 1001, 'host.shutting-down: bye'));
  await until(() => h.calls.length === 2 && h.link.state().phase === 'connected');
  assert.ok(h.states.some((s) => s.phase === 'waiting' && /shutting down; trying again/.test(s.reason)));
  assert.equal(h.calls[1]!.after, 41);
  assert.equal(h.calls[1]!.epoch, 'e1');
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
  const h = harness([], false);
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
      async (o) => (o.onResync?.(resync), setTimeout(() => o.onEvent?.(51, { type: 'session.idle' })), first),
      async (o) => (o.onResync?.({ ...resync, seq: 60 }), second),
      async () => third,
    ],
    true,
    (r) => (reloads.push(r), r.seq === 50 ? new Promise<void>((_, reject) => setTimeout(() => reject(new Error('cut')), 30)) : new Promise<void>((res) => (finishReload = res))),
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
