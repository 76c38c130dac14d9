/**
 * The connection state machine over an in-memory socket pair, with the real client on the other
 * end. The router is a recorder: these tests are about who gets through, not about the runtime.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '../log.ts';
import { loadOrCreateIdentity } from '../identity.ts';
import { createApprovals } from '../pairing/approvals.ts';
import { createOfferStore } from '../pairing/offers.ts';
import { openDeviceRegistry } from '../devices/registry.ts';
import { generateKeyPair } from '../../shared/noise/primitives.ts';
import { pairingPsk } from '../../shared/pairing/keys.ts';
import { RelayClosedError, RequestError, connect, pair, type SocketLike } from '../../shared/channel/client.ts';
import { MODE } from '../../shared/channel/handshake.ts';
import { REQUEST_TYPES, decodeJson, type DeviceHello, type Resync } from '../../shared/protocol/messages.ts';
import type { PermissionAskedEvent } from '../../shared/protocol/runtime-events.ts';
import type { QuestionAskedEvent } from '../../shared/protocol/questions.ts';
import { rawConnect } from '../../test-support/relay-client.ts';
import { createConnection, type Connection, type Peer } from './connection.ts';
import type { RoutedRequest } from '../rpc/request.ts';
import { createEventHub } from '../events/hub.ts';
import { createMetrics } from '../metrics/metrics.ts';
import { createWorkspaceGate } from '../policy/workspaces.ts';
import { createRuntimeFacts } from '../runtime/facts.ts';

type TestContext = { after(fn: () => void): void };

function setup(t: TestContext, opts: { ttlMs?: number; perAddress?: number } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'owr-conn-'));
  const identity = loadOrCreateIdentity(dir, silentLogger);
  const offers = createOfferStore({ hostKey: identity.publicKey, ttlMs: opts.ttlMs, perAddress: opts.perAddress ?? 100 });
  const approvals = createApprovals();
  const devices = openDeviceRegistry({ dataDir: dir, log: silentLogger, watchIntervalMs: 20 });
  const hub = createEventHub();
  const metrics = createMetrics({ dataDir: dir, enabled: true, log: silentLogger });
  const gate = createWorkspaceGate({
    workspaces: () => ['/w'],
    facts: createRuntimeFacts(),
    runtime: {
      getSession: async () => ({ directory: '/w' }),
      listPermissions: async () => ({ requests: [], unavailable: [], unseen: [] }),
      listQuestions: async () => ({ requests: [], unavailable: [], unseen: [] }),
    },
  });
  const routed: RoutedRequest[] = [];
  const pending: PermissionAskedEvent[] = [];
  const questions: QuestionAskedEvent[] = [];
  const conns: Connection[] = [];
  /** Devices the test says had their access changed. */
  const accessChanged = new Set<string>();
  devices.onRemoved((d) => hub.closeDevice(d.id, { code: 4403, reason: 'device.revoked: this device was removed from the host' }));
  t.after(() => {
    for (const c of conns) c.close({ code: 1001, reason: 'test over' });
    approvals.close();
    offers.close();
    devices.close();
    metrics.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const ctx = {
    identity,
    offers,
    approvals,
    devices,
    hub,
    gate,
    metrics,
    log: silentLogger,
    router: { handle: async (r: RoutedRequest) => (routed.push(r), r.t === 'sessions.list' ? { sessions: [], unavailable: [] } : { routed: r.t }) },
    pendingPermissions: () => pending,
    pendingQuestions: () => questions,
    takeAccessChange: (deviceId: string) => accessChanged.delete(deviceId),
    welcomeInfo: () => ({ host: { hostId: identity.hostId, name: 'test host', version: '0', addresses: ['http://127.0.0.1:1'] }, runtime: { state: 'ready' as const } }),
  };
  /** A socket whose other end is a fresh host connection; delivery is asynchronous and ordered. */
  const socket = (remoteAddress = '10.0.0.5') => {
    let readyState = 1;
    let conn!: Connection;
    let frames = 0;
    const client: SocketLike & { send(data: Uint8Array | string): void } = {
      binaryType: 'arraybuffer',
      get readyState() {
        return readyState;
      },
      send(data) {
        if (readyState !== 1) return;
        const binary = typeof data !== 'string';
        const bytes = binary ? (data as Uint8Array).slice() : new TextEncoder().encode(data as string);
        setImmediate(() => conn.receive(bytes, binary));
      },
      close(code = 1005, reason = '') {
        if (readyState !== 1) return;
        readyState = 3;
        setImmediate(() => {
          conn.closed();
          client.onclose?.({ code, reason });
        });
      },
      onopen: null,
      onmessage: null,
      onclose: null,
      onerror: null,
    };
    const peer: Peer = {
      remoteAddress,
      send(bytes) {
        frames++;
        const copy = bytes.slice();
        setImmediate(() => readyState === 1 && client.onmessage?.({ data: copy.buffer }));
      },
      close(code, reason) {
        setImmediate(() => {
          if (readyState !== 1) return;
          readyState = 3;
          client.onclose?.({ code, reason });
        });
      },
    };
    conn = createConnection(peer, ctx);
    conns.push(conn);
    /** WebSocket messages the host sent on this socket so far. */
    return { client, conn, frames: () => frames };
  };
  const device = { deviceKey: generateKeyPair(), name: 'Pixel', platform: 'Android' };
  const linkOffer = (offer = offers.create()) => ({ hostKey: identity.publicKey, offerId: offer.id, secret: offer.secret.slice() });
  /** A pairing handshake of the test's device on a new socket, its hello's fields beside the offer's. */
  const rawPair = (offer = linkOffer(), hello: Record<string, unknown> = {}) =>
    rawConnect(socket().client, { mode: MODE.pair, deviceKey: device.deviceKey, hostKey: offer.hostKey, psk: pairingPsk(offer.secret), hello: { offer: offer.offerId, ...hello } });
  return { identity, offers, approvals, devices, hub, metrics, routed, pending, questions, accessChanged, socket, device, linkOffer, rawPair };
}

const nextApproval = (approvals: ReturnType<typeof createApprovals>) =>
  new Promise<ReturnType<typeof approvals.list>[number]>((resolve) => {
    const now = approvals.list();
    if (now.length) return resolve(now[0]!);
    const off = approvals.onChange((l) => {
      if (!l.length) return;
      off();
      resolve(l[0]!);
    });
  });

const closedWith = (code: string, closeCode: number) => (err: unknown) => err instanceof RelayClosedError && err.code === code && err.closeCode === closeCode;

test('pairing: same code on both sides, approval stores the device, then requests are routed', async (t) => {
  const s = setup(t);
  const pending = await pair({ socket: s.socket().client, offer: s.linkOffer(), ...s.device });
  assert.match(pending.code, /^\d{6}$/);
  const request = await nextApproval(s.approvals);
  assert.equal(request.code, pending.code, 'the host shows the code the device shows');
  assert.deepEqual([request.name, request.platform, request.remoteAddress], ['Pixel', 'Android', '10.0.0.5']);
  s.approvals.approve(request.id, ['read']);
  const channel = await pending.approved;
  const stored = s.devices.byKey(s.device.deviceKey.publicKey)!;
  assert.equal(channel.deviceId, stored.id);
  assert.deepEqual(channel.welcome.scopes, ['read']);
  assert.equal(channel.welcome.resumed, false);
  assert.equal(s.offers.counters.outcomes.approved, 1);
  assert.deepEqual(await channel.request({ t: 'ping', at: 7 }), { at: 7 });
  assert.deepEqual(await channel.request({ t: 'sessions.list' }), { sessions: [], unavailable: [] });
  await assert.rejects(channel.request({ t: 'session.create' }), (e: unknown) => e instanceof RequestError && e.code === 'scope.denied');
  assert.deepEqual(
    s.routed.map((r) => r.t),
    ['sessions.list'],
    'the refused request never reached the router',
  );
  // An answer the device cannot read fails that request, named, and the connection goes on.
  await assert.rejects(
    channel.request({ t: 'metrics.get' }),
    (e: unknown) => e instanceof RequestError && e.code === 'protocol.invalid' && /could not be read: metrics\./.test(e.message),
  );
  assert.deepEqual(await channel.request({ t: 'ping', at: 8 }), { at: 8 });
});

test('a paired device reconnects with IK, gets events, and missed ones on resume', async (t) => {
  const s = setup(t);
  const pending = await pair({ socket: s.socket().client, offer: s.linkOffer(), ...s.device });
  s.approvals.approve((await nextApproval(s.approvals)).id);
  const first = await pending.approved;
  const seen: number[] = [];
  s.hub.publishEvent({ type: 'session.idle', sessionId: 'a' });
  first.close();
  s.hub.publishEvent({ type: 'session.idle', sessionId: 'b' });
  const resyncs: Resync[] = [];
  const again = await connect({
    socket: s.socket().client,
    hostKey: s.identity.publicKey,
    ...s.device,
    after: 1,
    epoch: first.welcome.epoch,
    onEvent: (seq) => seen.push(seq),
    onResync: (r) => resyncs.push(r),
  });
  assert.equal(again.welcome.resumed, true);
  assert.equal(again.welcome.seq, 2, 'caught up once event 2 is applied');
  s.hub.publishEvent({ type: 'session.idle', sessionId: 'c' });
  await again.request({ t: 'ping', at: 1 });
  assert.deepEqual(seen, [2, 3]);
  assert.deepEqual(resyncs, [], 'a resumed device reloads nothing');
});

test('events of one turn reach a device whose hello says batch as one frame, in order', async (t) => {
  const s = setup(t);
  const pending = await pair({ socket: s.socket().client, offer: s.linkOffer(), ...s.device });
  s.approvals.approve((await nextApproval(s.approvals)).id);
  (await pending.approved).close();
  const seen: string[] = [];
  const socket = s.socket();
  const channel = await connect({
    socket: socket.client,
    hostKey: s.identity.publicKey,
    ...s.device,
    onEvent: (seq, e) => seen.push(`${seq}:${e?.type === 'session.idle' && e.sessionId}`),
  });
  await channel.request({ t: 'ping', at: 1 });
  const before = socket.frames();
  for (const id of ['a', 'b', 'c', 'd', 'e']) s.hub.publishEvent({ type: 'session.idle', sessionId: id });
  await channel.request({ t: 'ping', at: 2 });
  assert.equal(socket.frames() - before, 2, "one frame for the five events, one for the ping's answer");
  assert.deepEqual(seen, ['1:a', '2:b', '3:c', '4:d', '5:e']);
});

test('a batch never exceeds what one message may carry: two 3 MiB events of one turn go as two messages', async (t) => {
  const s = setup(t);
  const pending = await pair({ socket: s.socket().client, offer: s.linkOffer(), ...s.device });
  s.approvals.approve((await nextApproval(s.approvals)).id);
  (await pending.approved).close();
  const sizes: number[] = [];
  const channel = await connect({
    socket: s.socket().client,
    hostKey: s.identity.publicKey,
    ...s.device,
    onEvent: (_seq, e) => void (e?.type === 'message.text.delta' && sizes.push(e.delta.length)),
  });
  const delta = 'x'.repeat(3 * 1024 * 1024);
  for (const partId of ['p1', 'p2']) s.hub.publishEvent({ type: 'message.text.delta', sessionId: 'a', messageId: 'm', partId, delta });
  assert.deepEqual(await channel.request({ t: 'ping', at: 1 }), { at: 1 }, 'the connection is still open');
  assert.deepEqual(sizes, [delta.length, delta.length]);
});

test('a device whose hello does not say batch (an older app) gets one frame per event', async (t) => {
  const s = setup(t);
  const pending = await pair({ socket: s.socket().client, offer: s.linkOffer(), ...s.device });
  s.approvals.approve((await nextApproval(s.approvals)).id);
  (await pending.approved).close();
  const socket = s.socket();
  const raw = await rawConnect(socket.client, { mode: MODE.reconnect, deviceKey: s.device.deviceKey, hostKey: s.identity.publicKey });
  assert.equal((await raw.next()).t, 'welcome');
  assert.equal((await raw.next()).t, 'resync');
  const before = socket.frames();
  for (const id of ['a', 'b', 'c']) s.hub.publishEvent({ type: 'session.idle', sessionId: id });
  assert.equal(socket.frames() - before, 3);
  for (const seq of [1, 2, 3]) assert.deepEqual(await raw.next(), { t: 'event', seq, event: { type: 'session.idle', sessionId: ['a', 'b', 'c'][seq - 1] } });
});

test("compactDeltas: a delta leaves out the ids equal to the previous delta's on its connection; an older app gets them whole; a reconnect starts over", async (t) => {
  const s = setup(t);
  const pending = await pair({ socket: s.socket().client, offer: s.linkOffer(), ...s.device });
  s.approvals.approve((await nextApproval(s.approvals)).id);
  (await pending.approved).close();
  /** A device speaking the protocol by hand, so the test sees each event as it went over the wire. */
  const rawDevice = async (hello: Partial<DeviceHello>) => {
    const raw = await rawConnect(s.socket().client, { mode: MODE.reconnect, deviceKey: s.device.deviceKey, hostKey: s.identity.publicKey, hello });
    assert.equal((await raw.next()).t, 'welcome');
    return {
      raw,
      /** The next event message's `event`, as sent. */
      async event(): Promise<unknown> {
        for (;;) {
          const plaintext = raw.transport.open(await raw.recorder.next());
          const m = plaintext && (decodeJson(plaintext, 'message') as { t: string; event?: unknown });
          if (m && m.t === 'event') return m.event;
        }
      },
    };
  };
  const compact = await rawDevice({ compactDeltas: true });
  const older = await rawDevice({});
  const applied: unknown[] = [];
  const app = await connect({ socket: s.socket().client, hostKey: s.identity.publicKey, ...s.device, onEvent: (_seq, e) => applied.push(e) });
  const text = (messageId: string, partId: string, delta: string) => ({ type: 'message.text.delta' as const, sessionId: 'ses_1', messageId, partId, delta });
  const events = [
    text('msg_1', 'prt_1', 'a'),
    text('msg_1', 'prt_1', 'b'),
    { type: 'session.idle' as const, sessionId: 'ses_1' },
    { ...text('msg_1', 'prt_2', 'c'), type: 'message.reasoning.delta' as const },
    text('msg_2', 'prt_3', 'd'),
    { ...text('msg_2', 'prt_3', 'e'), sessionId: 'ses_2' },
  ];
  for (const e of events) s.hub.publishEvent(e);
  const sent = [];
  for (const _ of events) sent.push(await compact.event());
  assert.deepEqual(sent, [
    events[0],
    { type: 'message.text.delta', delta: 'b' },
    events[2],
    { type: 'message.reasoning.delta', partId: 'prt_2', delta: 'c' },
    { type: 'message.text.delta', messageId: 'msg_2', partId: 'prt_3', delta: 'd' },
    { type: 'message.text.delta', sessionId: 'ses_2', delta: 'e' },
  ]);
  for (const e of events) assert.deepEqual(await older.event(), e, 'an app whose hello has no compactDeltas gets every event whole');
  await app.request({ t: 'ping', at: 1 });
  assert.deepEqual(applied, events, 'the app puts the left-out ids back: it applies the events as published');

  // The previous delta is per connection: a new connection's first delta is whole again.
  const again = await rawDevice({ compactDeltas: true });
  const next = [text('msg_2', 'prt_3', 'f'), text('msg_2', 'prt_3', 'g')];
  for (const e of next) s.hub.publishEvent(e);
  assert.deepEqual(await again.event(), next[0]);
  assert.deepEqual(await again.event(), { type: 'message.text.delta', delta: 'g' });
});

test('a device that cannot resume gets a resync: why, from which seq, what to reload, and the pending permissions and questions', async (t) => {
  const s = setup(t);
  const pending = await pair({ socket: s.socket().client, offer: s.linkOffer(), ...s.device });
  s.approvals.approve((await nextApproval(s.approvals)).id);
  await pending.approved;
  const asked: PermissionAskedEvent = {
    type: 'permission.asked',
    requestId: 'per_1',
    sessionId: 'ses_a',
    permission: 'bash',
    patterns: ['ls'],
    always: ['ls *'],
    metadata: { command: 'ls' },
  };
  s.pending.push(asked);
  const question: QuestionAskedEvent = {
    type: 'question.asked',
    requestId: 'que_1',
    sessionId: 'ses_a',
    questions: [{ question: 'Which?', header: 'Pick', options: [{ label: 'A', description: 'the first' }] }],
    deadline: 5,
  };
  s.questions.push(question);
  s.hub.publishEvent({ type: 'session.idle', sessionId: 'ses_a' });
  const cases: Array<[{ after?: number; epoch?: string }, Resync['reason']]> = [
    [{}, 'new'],
    [{ after: 1, epoch: 'an-earlier-run' }, 'restart'],
  ];
  for (const [hello, reason] of cases) {
    const seen: Array<Resync | number> = [];
    const seq = s.hub.seq;
    const channel = await connect({
      socket: s.socket().client,
      hostKey: s.identity.publicKey,
      ...s.device,
      ...hello,
      onResync: (r) => seen.push(r),
      onEvent: (seq) => seen.push(seq),
    });
    assert.equal(channel.welcome.resumed, false);
    s.hub.publishEvent({ type: 'session.idle', sessionId: 'ses_b' });
    await channel.request({ t: 'ping', at: 1 });
    assert.deepEqual(seen, [{ t: 'resync', reason, seq, permissions: [asked], questions: [question] }, seq + 1], JSON.stringify(hello));
    channel.close();
  }
});

test('wrong secret: the handshake fails on the device, nobody is asked, the offer is gone', async (t) => {
  const s = setup(t);
  const offer = s.offers.create();
  const good = s.linkOffer(offer);
  const bad = { ...good, secret: new Uint8Array(32).fill(7) };
  const asked: unknown[] = [];
  s.approvals.onChange((l) => asked.push(...l));
  await assert.rejects(pair({ socket: s.socket().client, offer: bad, ...s.device }), closedWith('handshake.failed', 4400));
  await new Promise((r) => setTimeout(r, 20));
  assert.deepEqual(asked, [], 'the person at the host was never asked');
  assert.equal(s.offers.counters.outcomes['handshake-failed'], 1);
  await assert.rejects(pair({ socket: s.socket().client, offer: good, ...s.device }), closedWith('pair.used', 4409));
});

test('declined, expired, unknown and rate-limited pairings close with their codes', async (t) => {
  const s = setup(t, { perAddress: 2 });
  const declined = await pair({ socket: s.socket().client, offer: s.linkOffer(), ...s.device });
  s.approvals.decline((await nextApproval(s.approvals)).id);
  await assert.rejects(declined.approved, closedWith('pair.declined', 4410));
  const quick = setup(t, { ttlMs: 1000 });
  const late = await pair({ socket: quick.socket().client, offer: quick.linkOffer(), ...quick.device });
  await assert.rejects(late.approved, closedWith('pair.expired', 4408));
  await assert.rejects(pair({ socket: s.socket().client, offer: { ...s.linkOffer(), offerId: 'nothing-here' }, ...s.device }), closedWith('pair.unknown', 4409));
  await assert.rejects(pair({ socket: s.socket().client, offer: { ...s.linkOffer(), offerId: 'nor-here' }, ...s.device }), closedWith('pair.unknown', 4409));
  await assert.rejects(pair({ socket: s.socket().client, offer: s.linkOffer(), ...s.device }), closedWith('pair.rate-limited', 4429), 'after two failures from one address');
  assert.equal(s.devices.list().length, 0);
});

test('six pairings within a minute from one address, each with its fresh offer, all succeed; wrong codes are still limited', async (t) => {
  const s = setup(t, { perAddress: 5 });
  for (let i = 0; i < 6; i++) {
    const pending = await pair({ socket: s.socket('198.51.100.7').client, offer: s.linkOffer(), ...s.device, deviceKey: generateKeyPair(), name: `Phone ${i}` });
    s.approvals.approve((await nextApproval(s.approvals)).id);
    await pending.approved;
  }
  assert.equal(s.devices.list().length, 6);
  // Five guesses at offers that do not exist (typed codes name their offer by the secret) from one address…
  for (let i = 0; i < 5; i++) {
    await assert.rejects(pair({ socket: s.socket('203.0.113.9').client, offer: { ...s.linkOffer(), offerId: `guess-${i}` }, ...s.device }), closedWith('pair.unknown', 4409));
  }
  // …and that address is refused before its next handshake is read, while another is not.
  await assert.rejects(pair({ socket: s.socket('203.0.113.9').client, offer: s.linkOffer(), ...s.device }), closedWith('pair.rate-limited', 4429));
  const other = await pair({ socket: s.socket('198.51.100.8').client, offer: s.linkOffer(), ...s.device, deviceKey: generateKeyPair() });
  s.approvals.approve((await nextApproval(s.approvals)).id);
  await other.approved;
});

test("a pairing device's name and platform are made safe once, as they come in: the request and the stored device", async (t) => {
  const s = setup(t);
  const evil = 'Pixel\r\x1b[2KVerification code: 111 111\x1b[8m\u202e';
  const pending = await pair({ socket: s.socket().client, offer: s.linkOffer(), ...s.device, name: evil, platform: evil });
  const request = await nextApproval(s.approvals);
  const safe = 'Pixel\\r\\x1b[2KVerification code: 111 111\\x1b[8m\\u202e';
  assert.deepEqual([request.name, request.platform], [safe, safe]);
  s.approvals.approve(request.id);
  await pending.approved;
  assert.deepEqual([s.devices.list()[0]!.name, s.devices.list()[0]!.platform], [safe, safe]);
});

test('while waiting for approval only ping is answered; nothing reaches the router or the events', async (t) => {
  const s = setup(t);
  const raw = await s.rawPair();
  assert.deepEqual(await raw.next(), { t: 'pair.pending', code: raw.code });
  for (const [i, t] of REQUEST_TYPES.entries()) {
    raw.send({ t, id: `r${i}`, at: 1, sessionId: 's', taskId: 'k', text: 'x', requestId: 'p', reply: 'once' });
    const answer = await raw.nextOf('result');
    assert.equal(answer.id, `r${i}`);
    if (t === 'ping') assert.equal(answer.ok, true);
    else assert.deepEqual([answer.ok, !answer.ok && answer.error.code], [false, 'protocol.invalid'], t);
  }
  s.hub.publishEvent({ type: 'session.idle', sessionId: 'x' });
  raw.send({ t: 'ping', id: 'last', at: 1 });
  assert.equal((await raw.next()).t, 'result', 'no event was delivered before the result');
  assert.deepEqual(s.routed, []);
});

test('a pairing hello in another protocol version closes with protocol.version and still uses up the offer', async (t) => {
  const s = setup(t);
  const offer = s.linkOffer();
  await assert.rejects(s.rawPair(offer, { protocol: 99 }), /closed 4400 protocol\.version: /);
  await assert.rejects(pair({ socket: s.socket().client, offer, ...s.device }), closedWith('pair.used', 4409));
  assert.equal(s.offers.counters.outcomes.invalid, 1);
});

test('a first message other than ping after a pairing handshake is refused and asks nobody; the ping then does', async (t) => {
  const s = setup(t);
  const raw = await s.rawPair();
  assert.deepEqual(await raw.next(), { t: 'pair.pending', code: raw.code });
  raw.send({ t: 'sessions.list', id: 'first' });
  const refused = await raw.nextOf('result');
  assert.deepEqual([refused.id, refused.ok, !refused.ok && refused.error.code], ['first', false, 'protocol.invalid']);
  assert.deepEqual(s.approvals.list(), [], 'the person at the host was not asked');
  raw.send({ t: 'ping', id: 'then', at: 1 });
  assert.equal((await raw.nextOf('result')).ok, true);
  assert.equal((await nextApproval(s.approvals)).code, raw.code);
});

test('frames that were tampered with, replayed, reordered or truncated close with frame.auth', async (t) => {
  const s = setup(t);
  const pending = await pair({ socket: s.socket().client, offer: s.linkOffer(), ...s.device });
  s.approvals.approve((await nextApproval(s.approvals)).id);
  await pending.approved;
  const attacks: Record<string, (frames: Uint8Array[]) => Uint8Array[]> = {
    tampered: ([a, b]) => [a!, b!.map((x, i) => (i === 3 ? x ^ 1 : x))],
    replayed: ([a]) => [a!, a!],
    reordered: ([a, b]) => [b!, a!],
    truncated: ([a, b]) => [a!, b!.subarray(0, b!.length - 1)],
    'cut to 7 bytes': ([a]) => [a!.subarray(0, 7)],
    empty: () => [new Uint8Array(0)],
  };
  for (const [name, attack] of Object.entries(attacks)) {
    const raw = await rawConnect(s.socket().client, { mode: MODE.reconnect, deviceKey: s.device.deviceKey, hostKey: s.identity.publicKey });
    await raw.nextOf('welcome');
    const frames = [...raw.seal({ t: 'ping', id: '1', at: 1 }), ...raw.seal({ t: 'ping', id: '2', at: 2 })];
    for (const f of attack(frames)) raw.sendRaw(f);
    const closed = await raw.recorder.closed;
    assert.equal(closed.code, 4400, name);
    assert.match(closed.reason, /^frame\.auth: /, name);
  }
  assert.deepEqual(s.routed, []);
});

test('text messages, unknown modes and garbage close with 4400', async (t) => {
  const s = setup(t);
  const cases: Array<[string | Uint8Array, RegExp]> = [
    ['{"t":"sessions.list","id":"1"}', /^protocol\.invalid: text messages/],
    [new TextEncoder().encode('{"t":"sessions.list","id":"1"}'), /^protocol\.invalid: unknown mode byte 123/],
    [Uint8Array.of(MODE.pair, 1, 2, 3), /^handshake\.failed: /],
    [Uint8Array.of(MODE.reconnect, ...new Uint8Array(96)), /^handshake\.failed: /],
    [Uint8Array.of(MODE.hostKey, 0), /^protocol\.invalid: a host key request/],
  ];
  for (const [data, reason] of cases) {
    const { client } = s.socket();
    const closed = new Promise<{ code: number; reason: string }>((r) => (client.onclose = r));
    client.send(data);
    const c = await closed;
    assert.equal(c.code, 4400, String(reason));
    assert.match(c.reason, reason);
  }
  assert.deepEqual(s.routed, []);
});

test('unknown keys are told to pair, removed ones that they were removed; removal closes at once', async (t) => {
  const s = setup(t);
  await assert.rejects(connect({ socket: s.socket().client, hostKey: s.identity.publicKey, ...s.device }), closedWith('device.unknown', 4401));
  const pending = await pair({ socket: s.socket().client, offer: s.linkOffer(), ...s.device });
  s.approvals.approve((await nextApproval(s.approvals)).id);
  const channel = await pending.approved;
  s.devices.revoke(channel.deviceId);
  assert.ok(closedWith('device.revoked', 4403)(await channel.closed));
  await assert.rejects(connect({ socket: s.socket().client, hostKey: s.identity.publicKey, ...s.device }), closedWith('device.revoked', 4403));
});

test('the host key request answers the key in the clear and closes', async (t) => {
  const s = setup(t);
  const { client } = s.socket();
  const got = new Promise<Uint8Array>((r) => (client.onmessage = (e: { data: ArrayBuffer }) => r(new Uint8Array(e.data))));
  client.send(Uint8Array.of(MODE.hostKey));
  assert.deepEqual(await got, s.identity.publicKey);
});

test('metrics: every connection, each reconnect, each resume that reloads and each failure kind are counted', async (t) => {
  const s = setup(t);
  const counters = () => s.metrics.snapshot().counters;
  const failures = () => Object.fromEntries(counters().connection_failures_total.series.map((x) => [x.labels.reason, x.value]));
  const pending = await pair({ socket: s.socket().client, offer: s.linkOffer(), ...s.device });
  s.approvals.approve((await nextApproval(s.approvals)).id);
  const first = await pending.approved;
  s.hub.publishEvent({ type: 'session.idle', sessionId: 'a' });
  first.close();
  assert.equal(counters().connections_opened_total.total, 1);
  assert.equal(counters().reconnects_total.total, 0, 'pairing is not a reconnect');

  const resumed = await connect({ socket: s.socket().client, hostKey: s.identity.publicKey, ...s.device, after: 0, epoch: first.welcome.epoch });
  resumed.close();
  const restarted = await connect({ socket: s.socket().client, hostKey: s.identity.publicKey, ...s.device, after: 1, epoch: 'an-earlier-run' });
  restarted.close();
  assert.equal(counters().connections_opened_total.total, 3);
  assert.equal(counters().reconnects_total.total, 2);
  assert.deepEqual(counters().resume_gaps_total.series, [{ labels: { reason: 'restart' }, value: 1 }], 'the replay was no gap');
  assert.deepEqual(failures(), {}, 'closing a connection normally is no failure');

  // A device that vanished: the socket ended without a close frame.
  const lost = s.socket();
  await connect({ socket: lost.client, hostKey: s.identity.publicKey, ...s.device });
  lost.conn.closed(1006);
  await assert.rejects(connect({ socket: s.socket().client, hostKey: s.identity.publicKey, ...s.device, deviceKey: generateKeyPair() }), closedWith('device.unknown', 4401));
  const { client } = s.socket();
  const closed = new Promise((r) => (client.onclose = r));
  client.send('text');
  await closed;
  await assert.rejects(pair({ socket: s.socket().client, offer: { ...s.linkOffer(), secret: new Uint8Array(32).fill(7) }, ...s.device }), closedWith('handshake.failed', 4400));
  await assert.rejects(pair({ socket: s.socket().client, offer: { ...s.linkOffer(), offerId: 'nothing-here' }, ...s.device }), closedWith('pair.unknown', 4409));
  s.devices.revoke(first.deviceId);
  await assert.rejects(connect({ socket: s.socket().client, hostKey: s.identity.publicKey, ...s.device }), closedWith('device.revoked', 4403));
  assert.deepEqual(
    failures(),
    {
      'connection.lost': 1,
      'device.unknown': 1,
      'protocol.invalid': 1,
      'handshake.failed': 1,
      'device.revoked': 1,
    },
    'a refused pairing is a pairing outcome, not a connection failure',
  );
  assert.equal(counters().connections_opened_total.total, 9);
});

test('events, replays and resyncs carry only what the device may see now: permission requests need approve, sessions read', async (t) => {
  const s = setup(t);
  const pending = await pair({ socket: s.socket().client, offer: s.linkOffer(), ...s.device });
  s.approvals.approve((await nextApproval(s.approvals)).id, ['read']);
  const first = await pending.approved;
  const asked: PermissionAskedEvent = { type: 'permission.asked', requestId: 'per_1', sessionId: 'ses_a', permission: 'bash', patterns: ['ls'], always: [], metadata: {} };
  s.pending.push(asked);
  const types: string[] = [];
  const live = await connect({ socket: s.socket().client, hostKey: s.identity.publicKey, ...s.device, onEvent: (_seq, e) => types.push(e!.type) });
  s.hub.publishEvent({ ...asked });
  s.hub.publishEvent({ type: 'session.idle', sessionId: 'ses_a' });
  await live.request({ t: 'ping', at: 1 });
  assert.deepEqual(types, ['session.idle'], 'no permission request without approve');
  live.close();

  const replayed: string[] = [];
  const again = await connect({
    socket: s.socket().client,
    hostKey: s.identity.publicKey,
    ...s.device,
    after: 0,
    epoch: first.welcome.epoch,
    onEvent: (_seq, e) => replayed.push(e!.type),
  });
  await again.request({ t: 'ping', at: 1 });
  assert.deepEqual(replayed, ['session.idle']);
  again.close();
  const resyncs: Resync[] = [];
  const fresh = await connect({ socket: s.socket().client, hostKey: s.identity.publicKey, ...s.device, onResync: (r) => resyncs.push(r) });
  await fresh.request({ t: 'ping', at: 1 });
  assert.deepEqual(
    resyncs.map((r) => r.permissions),
    [[]],
  );
  fresh.close();

  // The scopes change in the device file while connected: the next event follows them.
  const now: string[] = [];
  const open = await connect({ socket: s.socket().client, hostKey: s.identity.publicKey, ...s.device, onEvent: (_seq, e) => now.push(e!.type) });
  s.devices.setAccess(first.deviceId, { scopes: ['approve'] });
  s.hub.publishEvent({ ...asked });
  s.hub.publishEvent({ type: 'session.idle', sessionId: 'ses_a' });
  await open.request({ t: 'ping', at: 1 });
  assert.deepEqual(now, ['permission.asked'], 'approve without read: the request, not what the session shows');
  open.close();
  const approver = await connect({ socket: s.socket().client, hostKey: s.identity.publicKey, ...s.device, onResync: (r) => resyncs.push(r) });
  await approver.request({ t: 'ping', at: 1 });
  assert.deepEqual(resyncs.at(-1)!.permissions, [asked]);
});

test('after an access change the next connection reloads everything (resync "access"), once, and it is no resume gap', async (t) => {
  const s = setup(t);
  const pending = await pair({ socket: s.socket().client, offer: s.linkOffer(), ...s.device });
  s.approvals.approve((await nextApproval(s.approvals)).id);
  const first = await pending.approved;
  s.hub.publishEvent({ type: 'session.idle', sessionId: 'a' });
  first.close();
  s.accessChanged.add(first.deviceId);
  const from = { after: 1, epoch: first.welcome.epoch };
  const resyncs: Resync[] = [];
  const changed = await connect({ socket: s.socket().client, hostKey: s.identity.publicKey, ...s.device, ...from, onResync: (r) => resyncs.push(r) });
  await changed.request({ t: 'ping', at: 1 });
  assert.equal(changed.welcome.resumed, false);
  assert.deepEqual(
    resyncs.map((r) => [r.reason, r.sessions]),
    [['access', undefined]],
  );
  changed.close();
  const next = await connect({ socket: s.socket().client, hostKey: s.identity.publicKey, ...s.device, ...from });
  assert.equal(next.welcome.resumed, true, 'the mark is used up');
  assert.equal(s.metrics.snapshot().counters.resume_gaps_total.total, 0);
});
