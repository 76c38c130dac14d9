/**
 * The reconnect schedule as the real link runs it (host-link.ts with retry-schedule.ts), on fake
 * timers: what it does second by second while the host is away, visible or hidden, after minutes
 * of failure, and when the person taps the status.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { RelayClosedError, type ConnectOptions, type RelayChannel, type SocketLike } from '../../shared/channel/client.ts';
import type { HostRecord } from '../storage/db.ts';
import { createBackoff } from './backoff.ts';
import { createHostLink, type LinkEnvironment, type LinkState } from './host-link.ts';
import { createRetrySchedule } from './retry-schedule.ts';

const key = () => new Uint8Array(32).fill(7);
const host: HostRecord = {
  hostId: 'H1',
  label: 'vm',
  name: 'vm',
  pairedAt: 1,
  hostKey: key(),
  deviceKey: { publicKey: key(), secretKey: key() },
  deviceId: 'd1',
  addresses: ['http://vm.test:1'],
  scopes: ['read'],
  workspaces: ['/w'],
};

function channel(): RelayChannel & { drop(): void } {
  let drop!: (e: RelayClosedError) => void;
  const closed = new Promise<RelayClosedError>((r) => (drop = r));
  return {
    welcome: {
      t: 'welcome',
      host: { hostId: 'H1', name: 'vm', version: '1', addresses: [] },
      deviceId: 'd1',
      scopes: ['read'],
      workspaces: ['/w'],
      runtime: { state: 'ready' },
      protocol: 1,
      epoch: 'e',
      resumed: false,
      seq: 0,
    },
    closed,
    request: (async () => ({ at: 1 })) as RelayChannel['request'],
    close: (code = 1000, reason = '') => drop(new RelayClosedError(undefined, code, reason)),
    drop: () => drop(new RelayClosedError(undefined, 1006, '')),
  };
}

/** A host that is up or down, a page that is visible or hidden; what the link did, in fake time. */
function world(t: TestContext, opts: { probe?: boolean; handshakeFails?: boolean } = {}) {
  t.mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 0 });
  let up = true;
  let visible = true;
  let wake = () => {};
  const log: string[] = [];
  const states: LinkState[] = [];
  const env: LinkEnvironment = {
    openSocket: (url) => ({ url, close: () => {} }) as unknown as SocketLike,
    online: () => true,
    onWake: (l) => ((wake = l), () => {}),
    onOffline: () => () => {},
    origin: 'http://elsewhere.test',
    now: () => Date.now(),
    visible: () => visible,
    ...(opts.probe === false
      ? {}
      : {
          probe: async () => {
            log.push(`probe@${Date.now()}`);
            return up;
          },
        }),
  };
  const backoff = createBackoff({ random: () => 0 });
  const link = createHostLink({
    host,
    device: { name: 'phone', platform: 'test' },
    env,
    backoff,
    schedule: createRetrySchedule(backoff, { random: () => 0.5 }), // probes every 1.5 s
    headStartMs: 0,
    pingEveryMs: 3_600_000,
    connect: async (_o: ConnectOptions) => {
      log.push(`handshake@${Date.now()}`);
      if (!up || opts.handshakeFails) throw new RelayClosedError(undefined, 1006, '');
      return channel();
    },
    handlers: { onState: (s) => void states.push(s), onWelcome: () => {}, onResync: async () => {}, onEvent: () => {}, onRuntime: () => {}, onRtt: () => {} },
  });
  const settle = async () => {
    for (let i = 0; i < 20; i++) await Promise.resolve();
  };
  /** Moves fake time on in 50 ms steps (every delay here is a multiple of 50), letting promises settle in between. */
  const advance = async (ms: number) => {
    for (let left = ms; left > 0; left -= 50) {
      t.mock.timers.tick(Math.min(50, left));
      await settle();
    }
  };
  const take = () => log.splice(0);
  t.after(() => link.close());
  return {
    link,
    states,
    take,
    advance,
    settle,
    setUp: (v: boolean) => (up = v),
    setVisible: (v: boolean) => (visible = v),
    wake: () => wake(),
    /** Connected, then the host goes away; starts the log afresh. */
    async dropped() {
      await settle();
      assert.equal(link.state().phase, 'connected');
      up = false;
      link.reconnectNow(); // stands for the socket dying: the next attempt fails
      await settle();
      take();
    },
  };
}

test('visible: while the host is away the link only probes, every 1.5 s, and shakes hands as soon as a probe is answered', async (t) => {
  const w = world(t);
  await w.dropped();
  assert.equal(w.link.state().phase, 'waiting');
  const last = w.states.at(-1)!;
  assert.equal(last.phase === 'waiting' && last.reason, 'Cannot reach vm, trying again…');
  await w.advance(6_000);
  assert.deepEqual(w.take(), ['probe@1500', 'probe@3000', 'probe@4500', 'probe@6000']);
  w.setUp(true); // the host listens again at 6.0 s
  await w.advance(1_500);
  assert.deepEqual(w.take(), ['probe@7500', 'handshake@7500']);
  assert.equal(w.link.state().phase, 'connected');
});

test('visible for minutes without the host: after 5 minutes it backs off to handshakes 15–30 s apart', async (t) => {
  const w = world(t);
  await w.dropped();
  await w.advance(5 * 60_000);
  const fast = w.take();
  assert.equal(fast.filter((e) => e.startsWith('probe')).length, 200);
  assert.ok(!fast.some((e) => e.startsWith('handshake')));
  await w.advance(120_000);
  const slow = w.take();
  assert.ok(!slow.some((e) => e.startsWith('probe')), slow.join());
  // Backoff with random 0 (half of each ceiling): 0.25, 0.5, 1, 2, 4, 8, 15, 15, … s after the 5-minute mark.
  const times = slow.map((e) => Number(e.split('@')[1]));
  assert.equal(times[0], 300_250);
  const gaps = times.slice(1).map((at, i) => at - times[i]!);
  assert.deepEqual(gaps.slice(0, 7), [500, 1000, 2000, 4000, 8000, 15000, 15000]);
  // Coming back to the front starts the short schedule again.
  const at = Date.now();
  w.wake();
  await w.settle();
  assert.deepEqual(w.take(), [`handshake@${at}`]);
  await w.advance(3_000);
  assert.deepEqual(w.take(), [`probe@${at + 1500}`, `probe@${at + 3000}`]);
});

test('hidden: no probes, handshakes with growing delays; becoming visible tries at once and probes again', async (t) => {
  const w = world(t);
  w.setVisible(false);
  await w.dropped();
  await w.advance(40_000);
  const hidden = w.take();
  assert.ok(!hidden.some((e) => e.startsWith('probe')));
  assert.deepEqual(hidden, ['handshake@250', 'handshake@750', 'handshake@1750', 'handshake@3750', 'handshake@7750', 'handshake@15750', 'handshake@30750']);
  w.setVisible(true);
  w.wake();
  await w.settle();
  assert.deepEqual(w.take(), ['handshake@40000']);
  await w.advance(3_000);
  assert.deepEqual(w.take(), ['probe@41500', 'probe@43000']);
});

test('a tap on the status retries at once, whatever the schedule', async (t) => {
  const w = world(t);
  w.setVisible(false);
  await w.dropped();
  await w.advance(20_000); // well into the backoff
  w.take();
  w.setUp(true);
  w.link.reconnectNow();
  await w.settle();
  assert.deepEqual(w.take(), ['handshake@20000']);
  assert.equal(w.link.state().phase, 'connected');
});

test('a host that answers probes but fails the handshake is not hammered: the link backs off', async (t) => {
  const w = world(t, { handshakeFails: true });
  await w.settle();
  w.take();
  await w.advance(10_000);
  const log = w.take();
  // The first failure probes; the answered probe's handshake fails, so from then on it backs off.
  assert.deepEqual(log, ['probe@1500', 'handshake@1500', 'handshake@1750', 'handshake@2250', 'handshake@3250', 'handshake@5250', 'handshake@9250']);
});

test('without a probe (an environment that has none) every retry is a backed-off handshake', async (t) => {
  const w = world(t, { probe: false });
  await w.dropped();
  await w.advance(4_000);
  assert.deepEqual(w.take(), ['handshake@250', 'handshake@750', 'handshake@1750', 'handshake@3750']);
});
