import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RelayError } from '../../shared/protocol/errors.ts';
import { DEFAULT_PUSH_SETTINGS, parsePushPayload, type PushSettings } from '../../shared/protocol/push.ts';
import type { RelayRuntimeEvent } from '../../shared/protocol/runtime-events.ts';
import { startPushReceiver, type PushReceiver } from '../../test-support/push-receiver.ts';
import { openDeviceRegistry } from '../devices/registry.ts';
import { silentLogger } from '../log.ts';
import { createMetrics } from '../metrics/metrics.ts';
import { mayReceive } from '../policy/event-access.ts';
import { checkEndpoint, isPublicAddress } from './endpoint.ts';
import type { PushTransport } from './sender.ts';
import { createPushService } from './service.ts';
import { SUBSCRIPTIONS_FILE } from './subscriptions.ts';
import { VAPID_FILE } from './vapid.ts';

const ASKED: RelayRuntimeEvent = {
  type: 'permission.asked',
  requestId: 'per_1',
  sessionId: 'ses_1',
  permission: 'bash',
  patterns: ['rm -rf build'],
  always: ['rm *'],
  metadata: { command: 'rm -rf build' },
};

/** A transport that fails the test if the host ever tries to send. */
const mustNotSend =
  (t: TestContext): PushTransport =>
  async (req) => {
    t.assert.fail(`the host tried to send to ${req.url.href}`);
  };

function setup(t: TestContext, opts: { receiver?: PushReceiver; transport?: PushTransport; timeoutMs?: number } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'owr-push-'));
  const devices = openDeviceRegistry({ dataDir: dir, log: silentLogger, watchIntervalMs: 20 });
  const metrics = createMetrics({ dataDir: dir, enabled: true, log: silentLogger });
  const push = createPushService({
    dataDir: dir,
    hostId: 'HOST1',
    devices,
    metrics,
    log: silentLogger,
    mayReceive: (event, device) => mayReceive(event, device, { allowsEvent: () => true }),
    ...(opts.receiver ? { policy: { localReceiver: true } } : {}),
    sender: { backoffMs: 10, timeoutMs: opts.timeoutMs ?? 2000, ...(opts.transport ? { transport: opts.transport } : {}) },
  });
  t.after(() => {
    push.close();
    metrics.close();
    devices.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const phone = devices.add({ name: 'Phone', platform: 'Android', publicKey: new Uint8Array(32).fill(1) });
  const sends = () => metrics.snapshot().counters.push_sends_total?.series ?? [];
  return { dir, devices, push, phone, sends };
}

async function receiver(t: TestContext) {
  const r = await startPushReceiver();
  t.after(() => r.close());
  return r;
}

const settings = (over: Partial<PushSettings> = {}): PushSettings => ({ ...DEFAULT_PUSH_SETTINGS, ...over });

test("a permission waiting for a device whose app is closed sends one encrypted push, signed with the host's VAPID key", async (t) => {
  const r = await receiver(t);
  const { dir, push, phone, sends } = setup(t, { receiver: r });
  const status = push.subscribe(phone, r.subscription(), settings());
  push.observe({ type: 'session.updated', sessionId: 'ses_1', title: 'Fix the build', directory: '/w', createdAt: 1, updatedAt: 1 } as RelayRuntimeEvent);
  push.observe(ASKED);
  await push.sender.settled();

  assert.deepEqual(r.rejected, []);
  assert.equal(r.received.length, 1, 'exactly one push');
  const [got] = r.received;
  assert.equal(got!.vapidKey, status.publicKey, 'signed by the key the device subscribed with');
  assert.equal(got!.jwt.aud, r.origin);
  assert.match(got!.jwt.sub, /^mailto:/);
  assert.equal(got!.headers.urgency, 'high');
  assert.match(String(got!.headers.topic), /^[A-Za-z0-9_-]{1,32}$/);
  assert.deepEqual(parsePushPayload(got!.payload), {
    v: 1,
    type: 'show',
    kind: 'permission',
    hostId: 'HOST1',
    tag: 'HOST1:ses_1',
    sessionId: 'ses_1',
    requestId: 'per_1',
    title: 'Allow? · Fix the build',
    body: 'rm -rf build',
  });
  assert.deepEqual(sends(), [{ labels: { outcome: 'sent' }, value: 1 }]);
  for (const file of [VAPID_FILE, SUBSCRIPTIONS_FILE]) assert.equal(statSync(join(dir, file)).mode & 0o777, 0o600, file);
});

test("nothing is pushed while one of the device's connections shows the app; once it is hidden or gone, it is", async (t) => {
  const r = await receiver(t);
  const { push, phone } = setup(t, { receiver: r });
  push.subscribe(phone, r.subscription(), settings());
  const tab = {};
  const other = {};
  push.setVisible(tab, phone.id, true);
  push.setVisible(other, phone.id, false);
  push.observe(ASKED);
  await push.sender.settled();
  assert.equal(r.received.length, 0, 'the app is on screen');

  push.disconnected(tab);
  push.observe({ ...ASKED, requestId: 'per_2' });
  await push.sender.settled();
  assert.equal(r.received.length, 1, 'the visible connection closed');
});

test('lock-screen privacy leaves the command out; a kind turned off sends nothing', async (t) => {
  const r = await receiver(t);
  const { push, phone } = setup(t, { receiver: r });
  push.subscribe(phone, r.subscription(), settings({ private: true }));
  push.observe(ASKED);
  await push.sender.settled();
  const payload = parsePushPayload(r.received[0]!.payload);
  assert.equal(payload.body, 'The agent needs you in a session');
  assert.doesNotMatch(JSON.stringify(payload), /rm -rf/);

  push.settings(phone, settings({ kinds: { permission: false, finished: true, failed: true } }));
  push.observe({ ...ASKED, requestId: 'per_2' });
  await push.sender.settled();
  assert.equal(r.received.length, 1);
});

test('an answer given elsewhere replaces the notification, with the same tag; a finished turn notifies once', async (t) => {
  const r = await receiver(t);
  const { push, phone } = setup(t, { receiver: r });
  push.subscribe(phone, r.subscription(), settings());
  push.observe(ASKED);
  push.observe({ type: 'permission.replied', requestId: 'per_1', sessionId: 'ses_1', reply: 'once' });
  push.observe({ type: 'session.status', sessionId: 'ses_1', status: 'busy' });
  push.observe({ type: 'session.idle', sessionId: 'ses_1' });
  push.observe({ type: 'session.idle', sessionId: 'ses_1' });
  await push.sender.settled();
  const payloads = r.received.map((x) => parsePushPayload(x.payload));
  assert.deepEqual(
    payloads.map((p) => [p.type, p.tag, p.body]),
    [
      ['show', 'HOST1:ses_1', 'rm -rf build'],
      ['close', 'HOST1:ses_1', 'Allowed in a session'],
      ['show', 'HOST1:ses_1', 'In a session'],
    ],
  );
  assert.equal(payloads[2]!.type === 'show' && payloads[2]!.kind, 'finished');
});

test('a 410 from the push service removes the subscription; a 429 is retried', async (t) => {
  const r = await receiver(t);
  const { push, phone, sends } = setup(t, { receiver: r });
  push.subscribe(phone, r.subscription(), settings());
  r.answers.push(429, 503);
  push.observe(ASKED);
  await push.sender.settled();
  assert.equal(r.received.length, 1, 'delivered on the third attempt');
  assert.ok(push.status(phone).subscription);

  r.answers.push(410);
  push.observe({ ...ASKED, requestId: 'per_2' });
  await push.sender.settled();
  assert.equal(push.status(phone).subscription, undefined, 'gone');
  assert.deepEqual(
    sends()
      .map((s) => [s.labels.outcome, s.value])
      .sort(),
    [
      ['gone', 1],
      ['retried', 2],
      ['sent', 1],
    ],
  );
});

test('a push service that does not answer times out, is tried again, and holds nothing else up', async (t) => {
  const r = await receiver(t);
  const { push, phone, sends } = setup(t, { receiver: r, timeoutMs: 200 });
  push.subscribe(phone, r.subscription(), settings());
  r.answers.push(0, 0, 0, 0);
  const started = performance.now();
  push.observe(ASKED);
  assert.ok(performance.now() - started < 50, 'observe returns at once');
  await push.sender.settled();
  assert.deepEqual(
    sends()
      .map((s) => [s.labels.outcome, s.value])
      .sort(),
    [
      ['failed', 1],
      ['retried', 3],
    ],
  );
  assert.equal(r.received.length, 0);
  assert.ok(push.status(phone).subscription, 'kept: the service may answer next time');
});

test('removing the device removes its subscription', async (t) => {
  const r = await receiver(t);
  const { push, phone, devices } = setup(t, { receiver: r });
  push.subscribe(phone, r.subscription(), settings());
  assert.equal(devices.revoke(phone.id).ok, true);
  assert.equal(push.status(phone).subscription, undefined);
  push.observe(ASKED);
  await push.sender.settled();
  assert.equal(r.received.length, 0);
});

const REFUSED: Array<[string, string]> = [
  ['loopback', 'https://127.0.0.1/push/x'],
  ['loopback (name)', 'https://localhost/push/x'],
  ['loopback (IPv6)', 'https://[::1]/push/x'],
  ['loopback (hex IPv4)', 'https://0x7f000001/push/x'],
  ['private', 'https://192.168.1.20/push/x'],
  ['private (10/8)', 'https://10.0.0.5:8443/push/x'],
  ['link-local', 'https://169.254.169.254/latest/meta-data'],
  ['link-local (IPv6)', 'https://[fe80::1]/push/x'],
  ['a LAN name', 'https://router.local/push/x'],
  ['a single-label name', 'https://printer/push/x'],
  ['plain http', 'http://fcm.googleapis.com/fcm/send/x'],
  ['another scheme', 'file:///etc/passwd'],
  ['http on loopback without the test switch', 'http://127.0.0.1:9/push/x'],
];

for (const [what, endpoint] of REFUSED) {
  test(`an endpoint on ${what} is refused, and nothing is sent`, async (t) => {
    const { push, phone, sends } = setup(t, { transport: mustNotSend(t) });
    const subscription = { endpoint, keys: (await receiver(t)).subscription().keys };
    assert.throws(
      () => push.subscribe(phone, subscription, settings()),
      (e: unknown) => e instanceof RelayError && e.code === 'push.refused',
    );
    assert.equal(push.status(phone).subscription, undefined);
    push.observe(ASKED);
    await push.sender.settled();
    assert.deepEqual(sends(), []);
  });
}

test('the test switch admits only http://127.0.0.1, nothing else local', () => {
  assert.equal(checkEndpoint('http://127.0.0.1:4000/p', { localReceiver: true }).port, '4000');
  for (const url of ['http://localhost:4000/p', 'http://10.0.0.1/p', 'http://[::1]:4000/p', 'https://127.0.0.1/p']) {
    assert.throws(() => checkEndpoint(url, { localReceiver: url.startsWith('http:') }), /will not send/, url);
  }
  assert.equal(checkEndpoint('https://fcm.googleapis.com/fcm/send/abc').host, 'fcm.googleapis.com');
});

test('addresses a public push host name may resolve to: public ones only', () => {
  for (const a of ['142.250.74.10', '2a00:1450:4001:80b::200a']) assert.equal(isPublicAddress(a), true, a);
  for (const a of [
    '127.0.0.1',
    '10.1.2.3',
    '172.16.0.1',
    '192.168.0.1',
    '169.254.1.1',
    '100.64.0.1',
    '0.0.0.0',
    '::1',
    'fe80::1',
    'fd00::1',
    '::ffff:192.168.0.1',
    '::ffff:7f00:1',
    'not-an-ip',
  ]) {
    assert.equal(isPublicAddress(a), false, a);
  }
});
