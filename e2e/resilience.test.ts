/**
 * Never lose a task (issues 6 and 14), on the phone's own code: the real host with the real
 * OpenCode runtime and the fake model, the app's state, outbox and connection
 * (fixtures/phone.ts: client/state/relay.ts over client/net/host-link.ts, storing in IndexedDB),
 * and a proxy between them that drops connections (fixtures/flaky-proxy.ts). Every session must
 * be made and every task run exactly once — counted in the runtime's sessions and stored
 * transcript and in the requests the fake model received — and what the phone shows must equal
 * what the runtime stored.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { generateKeyPair } from '../shared/noise/primitives.ts';
import { connect } from '../shared/channel/client.ts';
import { hostIdOf } from '../shared/pairing/keys.ts';
import type { Resync } from '../shared/protocol/messages.ts';
import { startHost, type Host } from '../host/app.ts';
import { parseConfig } from '../host/config.ts';
import { silentLogger } from '../host/log.ts';
import { loadOrCreateIdentity } from '../host/identity.ts';
import { openDeviceRegistry } from '../host/devices/registry.ts';
import { openTaskLedger } from '../host/tasks/ledger.ts';
import { taskMessageId } from '../host/tasks/message-id.ts';
import type { Relay } from '../host/relay.ts';
import { putOutboxItem } from '../client/storage/outbox.ts';
import type { HostRecord } from '../client/storage/db.ts';
import { createRuntimeSandbox, startRuntimeFixture, testLogger, type RuntimeSandbox } from './fixtures/runtime.ts';
import type { FakeModel } from './fixtures/fake-model.ts';
import { startFlakyProxy, type FlakyProxy } from './fixtures/flaky-proxy.ts';
import { openDisk, pairedRecord, replyShown, shownTranscript, startPhone, storedTranscript, type Phone, type PhoneOptions } from './fixtures/phone.ts';
import { openSocket } from '../test-support/relay-client.ts';
import { recordingRuntime, startRelayHost } from './fixtures/relay-host.ts';
import { fileCleanup } from './fixtures/cleanup.ts';
import { freePort, spawnHost as spawnHostChild } from './fixtures/spawn-host.ts';
import { until } from './fixtures/poll.ts';

const { cleanups, tempDir } = fileCleanup('relay-resilience-');

async function sandboxWith(chunkDelayMs: number): Promise<RuntimeSandbox> {
  const sb = await createRuntimeSandbox({ fakeModel: { chunkDelayMs } });
  cleanups.push(() => sb.dispose());
  return sb;
}

let shared: Promise<{ sb: RuntimeSandbox; host: Host }> | undefined;
/** One in-process host with its real runtime for the tests that do not restart the host. */
function sharedHost() {
  shared ??= (async () => {
    const sb = await sandboxWith(10);
    const parsed = parseConfig(['--port', '0', '--bind', '127.0.0.1', '--workspace', sb.workspace, '--data-dir', tempDir()], {});
    if (!parsed.ok) throw new Error(parsed.errors.join('\n'));
    const host = await startHost({ config: parsed.config, log: testLogger(), runtimeEnv: sb.env });
    cleanups.push(() => host.close());
    await host.runtime.ready;
    await host.runtime.bridge.subscribed();
    return { sb, host };
  })();
  return shared;
}

async function phone(opts: PhoneOptions = {}): Promise<Phone> {
  const p = await startPhone(opts);
  cleanups.push(() => p.close());
  return p;
}

/** The first pairing with each host: later phones reopen it (a host limits pairings per minute). */
const pairings = new WeakMap<Relay, HostRecord>();

/**
 * A phone paired with the host (through the app's own pairing code the first time, the person at
 * the computer approving), whose network reaches the host only through `proxy` when one is given.
 */
async function pairedPhone(relay: Relay, port: number, proxy?: FlakyProxy, opts: PhoneOptions = {}): Promise<Phone> {
  const through = proxy ? `http://127.0.0.1:${proxy.port}` : `http://127.0.0.1:${port}`;
  const p = await phone({ ...opts, ...(proxy ? { reachable: (url) => url.startsWith(`ws://127.0.0.1:${proxy.port}/`) } : {}) });
  const known = pairings.get(relay);
  if (known) {
    await p.adopt({ ...known, addresses: [through] });
  } else {
    // The link lists the addresses to try; the phone reaches the host at `through`.
    pairings.set(
      relay,
      await p.pair(
        relay.newOffer().link,
        async () => {
          const request = await until('the pairing request at the host', () => relay.approvals.list()[0]);
          relay.approvals.approve(request.id);
        },
        through,
      ),
    );
  }
  await p.until('the phone to be connected and caught up', () => p.caughtUp());
  return p;
}

const userMessagesOf = (messages: unknown, marker: string) =>
  (messages as Array<{ info: { role: string }; parts: Array<{ type: string; text?: string }> }>).filter(
    (m) => m.info.role === 'user' && m.parts.some((p) => p.type === 'text' && p.text?.includes(marker)),
  );

/** The fake model's requests that answer `marker`'s task (not title generation). */
/** Turns the model ran for the task marked `marker` (its text starts with it: `lane-1` must not count for `e-1`). */
const modelRunsOf = (model: FakeModel, marker: string) => model.requests.filter((r) => r.kind !== 'title' && r.lastUserText.startsWith(`${marker} `)).length;

/** The session the phone made for a new task, once its outbox created it. */
const sessionOf = (p: Phone, marker: string) =>
  p.until(
    `the session of ${marker}`,
    () => [...p.accepted.values()].find((a) => a.text.startsWith(`${marker} `))?.sessionId ?? p.app.outbox.items().find((i) => i.text.startsWith(`${marker} `))?.sessionId,
  );

/** The phone shows the same conversation as the runtime stored (a timeout shows the difference). */
async function assertSameTranscript(p: Phone, host: Host, sessionId: string) {
  await until(
    `session ${sessionId} on the phone to equal the runtime's`,
    async () => JSON.stringify(shownTranscript(p.app, sessionId)) === JSON.stringify(storedTranscript(await host.runtime.bridge.messages(sessionId))),
  ).catch(() => {});
  assert.deepEqual(shownTranscript(p.app, sessionId), storedTranscript(await host.runtime.bridge.messages(sessionId)), 'the phone shows exactly what the runtime stored');
}

/** Long enough to tell a task's submission from a heartbeat ping or a busy check on the wire. */
const PADDING = ' (padding that makes this submission bigger than any ping or status request)'.repeat(3);
const SUBMIT_BYTES = 250;

test('connections dropped at random, also between a request and its answer: every session is made once, every task runs once, the phone shows what the runtime stored', {
  timeout: 120_000,
}, async () => {
  const { sb, host } = await sharedHost();
  const proxy = await startFlakyProxy(host.port);
  cleanups.push(() => proxy.close());
  // No heartbeat while the test decides which request is cut off.
  const p = await pairedPhone(host.relay, host.port, proxy, { link: { pingEveryMs: 60_000 } });
  // Each new task's session creation reaches the host and its answer is lost; the outbox asks again with its key.
  const before = (await host.runtime.bridge.listSessions()).sessions.length;
  const sessions: string[] = [];
  for (let i = 0; i < 3; i++) {
    await p.until('caught up', () => p.caughtUp());
    const drops = proxy.drops;
    proxy.dropAfterNextRequest();
    await p.app.newTask(`lane-${i} [text:5]`);
    const sessionId = await sessionOf(p, `lane-${i}`);
    assert.ok(proxy.drops > drops, 'the creation was cut off');
    sessions.push(sessionId);
    await p.until(`lane-${i} to finish`, () => replyShown(p.app, sessionId, 'lane-'));
  }
  assert.equal((await host.runtime.bridge.listSessions()).sessions.length, before + 3, 'one session per key, none for the resends');

  const stopChaos = proxy.chaos({ minMs: 100, maxMs: 450 });
  let armed = 0;
  await Promise.all(
    sessions.map(async (sessionId, lane) => {
      for (let k = 0; k < 5; k++) {
        const marker = `a${lane}-${k}`;
        if (k % 2 === 0) {
          proxy.dropAfterNextRequest(SUBMIT_BYTES);
          armed++;
        }
        await p.app.sendTask(sessionId, `${marker} [text:30]${PADDING}`);
        await p.until(`task ${marker} to finish`, () => replyShown(p.app, sessionId, `${marker} `));
      }
    }),
  );
  stopChaos();
  await p.until('caught up', () => p.caughtUp());

  for (const sessionId of sessions) {
    await assertSameTranscript(p, host, sessionId);
    const messages = await host.runtime.bridge.messages(sessionId);
    for (let k = 0; k < 5; k++) {
      const marker = `a${sessions.indexOf(sessionId)}-${k}`;
      assert.equal(userMessagesOf(messages, `${marker} `).length, 1, `${marker} has one user message`);
      assert.equal(modelRunsOf(sb.fakeModel, marker), 1, `${marker} reached the model once`);
    }
  }
  assert.equal(p.accepted.size, 18, 'every task was accepted');
  assert.ok(proxy.drops >= 10, `the proxy dropped ${proxy.drops} connections (${armed} right after a request)`);
  assert.ok(
    [...p.stats.submits.values()].some((n) => n > 1),
    'some submissions were cut off and sent again',
  );
  assert.ok(p.stats.resumed > 0, 'reconnects resumed from the journal');
});

test('a permission request raised while the phone is away is waiting when it comes back; answered, the task completes', { timeout: 60_000 }, async () => {
  const { host } = await sharedHost();
  const proxy = await startFlakyProxy(host.port);
  cleanups.push(() => proxy.close());
  // A slow heartbeat: the next request through the proxy must be the task, not a ping.
  const p = await pairedPhone(host.relay, host.port, proxy, { link: { pingEveryMs: 60_000 } });
  await p.app.newTask('c-0 [text:3]');
  const sessionId = await sessionOf(p, 'c-0');
  await p.until('c-0 to finish', () => replyShown(p.app, sessionId, 'c-0 '));

  // The submission gets through, the connection dies right after, and the phone stays away.
  await proxy.refuse();
  proxy.dropAfterNextRequest(SUBMIT_BYTES);
  await p.app.sendTask(sessionId, `c-1 [bash:echo asked-while-away]${PADDING}`);
  const asked = await until('the runtime to ask', async () => host.relay.permissions.pending().find((x) => x.sessionId === sessionId));
  assert.deepEqual(p.app.permissions(), [], 'the phone has not seen it yet');

  await proxy.restore();
  const shown = await p.until('the request to reach the phone', () => p.app.permissions().find((x) => x.requestId === asked.requestId));
  // A page that starts afresh (same pairing, nothing else kept) gets it in its resync.
  const fresh = await phone();
  await fresh.adopt(p.app.activeHost()!);
  await fresh.until('the fresh page to show the request', () => fresh.app.permissions().some((x) => x.requestId === asked.requestId));
  assert.deepEqual(
    fresh.app.permissions().map((x) => x.requestId),
    [asked.requestId],
  );

  await p.app.replyPermission(shown, 'once');
  await p.until('the task to complete', () => replyShown(p.app, sessionId, 'c-1 '));
  const messages = await host.runtime.bridge.messages(sessionId);
  assert.equal(userMessagesOf(messages, 'c-1 ').length, 1);
  assert.match(JSON.stringify(messages), /asked-while-away/);
});

test('the page is reloaded while a task is being sent: the new page sends it again from storage, and it runs once', { timeout: 60_000 }, async () => {
  const { sb, host } = await sharedHost();
  const proxy = await startFlakyProxy(host.port);
  cleanups.push(() => proxy.close());
  let p = await pairedPhone(host.relay, host.port, proxy, { link: { pingEveryMs: 60_000 } });
  await p.app.newTask('e-0 [text:3]');
  const sessionId = await sessionOf(p, 'e-0');
  await p.until('e-0 to finish', () => replyShown(p.app, sessionId, 'e-0 '));

  // The submission reaches the host, its answer is lost, and the page goes before it hears again.
  await proxy.refuse();
  proxy.dropAfterNextRequest(SUBMIT_BYTES);
  await p.app.sendTask(sessionId, `e-1 [text:3]${PADDING}`);
  await until('the host to run it', async () => userMessagesOf(await host.runtime.bridge.messages(sessionId), 'e-1 ').length === 1);
  const [item] = p.app.outbox.items();
  assert.ok(item?.submitted, 'the outbox knows it may have reached the host');
  p = await p.reload();
  const reloaded = p;
  cleanups.push(() => reloaded.close()); // its link would keep the run alive after a failure
  assert.deepEqual(
    p.app.outbox.items().map((i) => [i.key, i.submitted]),
    [[item.key, true]],
    'the new page has it from storage',
  );
  await proxy.restore();

  await p.until('the outbox to hand it over', () => p.app.outbox.items().length === 0);
  assert.ok(p.stats.submits.get(item.key)! >= 1, 'the new page sent it again, with its id');
  assert.equal(p.accepted.get(item.key)?.sessionId, sessionId);
  // Its reply is on screen. (Not its status: the app marks the session running on every acceptance,
  // also when the host answers a resend of a turn that ended long ago; issue 14's interrupted work
  // settles the status from the host's transcript.)
  await p.until('the reply to be shown', () => {
    const shown = shownTranscript(p.app, sessionId);
    const asked = shown.findIndex((x) => x.role === 'user' && x.text.startsWith('e-1 '));
    return asked >= 0 && shown.slice(asked + 1).some((x) => x.role === 'assistant' && x.text !== '');
  });
  assert.deepEqual(p.app.outbox.items(), []);
  assert.equal(userMessagesOf(await host.runtime.bridge.messages(sessionId), 'e-1 ').length, 1, 'it ran once');
  assert.equal(
    modelRunsOf(sb.fakeModel, 'e-1'),
    1,
    `reached the model once: ${JSON.stringify(sb.fakeModel.requests.filter((r) => r.lastUserText.startsWith('e-1 ')).map((r) => [r.kind, (r.body.messages as unknown[]).length]))}`,
  );
});

test("the phone's storage is evicted: the app starts clean and says it is not paired; paired again, it shows what ran meanwhile", { timeout: 60_000 }, async () => {
  const { host } = await sharedHost();
  let p = await pairedPhone(host.relay, host.port);
  await p.app.newTask('f-1 [text:40]');
  const sessionId = await sessionOf(p, 'f-1');
  // Accepted by the host: from here on it runs there whatever happens to the phone.
  await p.until('the task to be accepted', () => p.app.outbox.items().length === 0);
  p = await p.evict();
  const evicted = p;
  cleanups.push(() => evicted.close());
  assert.deepEqual(p.app.hosts(), [], 'no computer is known');
  assert.deepEqual(p.app.outbox.items(), []);
  assert.deepEqual(p.app.sessions.list(), []);
  assert.equal(p.app.health.phase, 'unpaired');
  assert.match(p.connection.state.reason, /^Not paired with a computer yet$/, 'the status pill says why');
  assert.ok(!['connecting', 'connected', 'reconnecting'].includes(p.connection.state.status), `status ${p.connection.state.status}`);

  const disk = p.disk;
  await p.close();
  const again = await pairedPhone(host.relay, host.port, undefined, { disk });
  await again.until('the task that ran meanwhile to be shown', () => replyShown(again.app, sessionId, 'f-1 '));
  assert.ok(again.app.sessions.get(sessionId), 'its session is listed again');
});

test('the runtime dies while a permission request waits: the phone is told it expired and why, and answering is refused', { timeout: 90_000 }, async () => {
  const { host } = await sharedHost();
  const p = await pairedPhone(host.relay, host.port);
  await p.app.newTask('d-1 [bash:echo never-runs]');
  const sessionId = await sessionOf(p, 'd-1');
  const asked = await p.until('the permission request', () => p.app.permissions().find((x) => x.sessionId === sessionId));

  const pid = host.runtime.supervisor.state.pid!;
  process.kill(-pid, 'SIGKILL');
  const expired = await p.until('the request to expire', () => p.app.expiredPermissions().find((e) => e.request.requestId === asked.requestId), 60_000);
  assert.match(expired.reason, /restarted/);
  assert.match(expired.reason, /SIGKILL/, 'the reason says what happened to the runtime');
  assert.deepEqual(
    p.app.permissions().filter((x) => x.requestId === asked.requestId),
    [],
  );
  await assert.rejects(p.app.replyPermission(asked, 'once'), (err: unknown) => {
    assert.equal((err as { code?: string }).code, 'permission.expired');
    return true;
  });
  // The host refuses it too, for a page that did not hear of the expiry.
  await assert.rejects(p.app.request({ t: 'permission.reply', requestId: asked.requestId, reply: 'once' }), /not delivered/);
  assert.doesNotMatch(JSON.stringify(await host.runtime.bridge.messages(sessionId)), /"output":"never-runs/, 'the command never ran');
});

test('SIGKILL of the host during a task, and a page reloaded while a task was being sent: the phone comes back by itself, and nothing runs twice', {
  timeout: 150_000,
}, async () => {
  // The runtime outlives the host here (attach mode), as a task should: the host is what dies.
  const runtime = await startRuntimeFixture({ fakeModel: { chunkDelayMs: 25 } });
  cleanups.push(() => runtime.stop());
  const dataDir = join(runtime.root, 'relay-data');
  // Paired before the host starts: the device's key stored as the host stores it on approval.
  const identity = loadOrCreateIdentity(dataDir, silentLogger);
  const deviceKey = generateKeyPair();
  const registry = openDeviceRegistry({ dataDir, log: silentLogger });
  registry.add({ name: 'phone', platform: 'node-test', publicKey: deviceKey.publicKey, scopes: ['read', 'run', 'approve'] });
  registry.close();
  const port = await freePort();
  const start = () => spawnHostChild(runtime, dataDir, port, cleanups);
  let host = await start();
  let p = await phone();
  await p.adopt(pairedRecord({ hostId: hostIdOf(identity.publicKey), hostKey: identity.publicKey, deviceKey, address: `http://127.0.0.1:${port}` }));
  await p.app.newTask('b-1 [text:80]');
  const sessionId = await sessionOf(p, 'b-1');
  await p.until('the reply to be streaming', () => shownTranscript(p.app, sessionId).some((x) => x.role === 'assistant' && x.text));

  host.process.kill('SIGKILL');
  await host.exited;
  // While the host is down: a task it recorded but never sent, as if it died between the two; and
  // the phone's page closed right after handing that task over (its outbox item says submitted).
  const ledger = openTaskLedger({ dir: join(dataDir, 'tasks'), log: silentLogger });
  const crashedAt = Date.now();
  ledger.accept({ taskId: 'tsk_b2', sessionId, text: 'b-2 [text:3]', acceptedAt: crashedAt, messageId: taskMessageId('tsk_b2', crashedAt) });
  ledger.close();
  const hostId = p.app.activeHost()!.hostId;
  const disk = p.disk;
  await p.close();
  const db = await openDisk(disk);
  await putOutboxItem(db, { key: 'tsk_b2', hostId, order: crashedAt, sessionId, text: 'b-2 [text:3]', createdAt: crashedAt, submitted: true });
  db.close();
  p = await phone({ disk });
  assert.deepEqual(
    p.app.outbox.items().map((i) => i.key),
    ['tsk_b2'],
    'the reloaded page still has the task it was sending',
  );
  host = await start();

  await p.until('the outbox to hand over what it was sending', () => p.app.outbox.items().length === 0, 60_000);
  await p.until("the first task's outcome", () => replyShown(p.app, sessionId, 'b-1 '), 60_000);
  await p.until('the recorded task to run', () => replyShown(p.app, sessionId, 'b-2 '), 60_000);
  assert.deepEqual(
    p.accepted.get('tsk_b2'),
    { taskId: 'tsk_b2', sessionId, messageId: taskMessageId('tsk_b2', crashedAt), acceptedAt: crashedAt, text: 'b-2 [text:3]' },
    'the resend got the first answer',
  );

  const messages = await runtime.bridge.messages(sessionId);
  assert.equal(userMessagesOf(messages, 'b-1 ').length, 1, 'b-1 ran once');
  assert.equal(userMessagesOf(messages, 'b-2 ').length, 1, 'b-2 ran once');
  assert.equal(modelRunsOf(runtime.fakeModel, 'b-1'), 1);
  assert.equal(modelRunsOf(runtime.fakeModel, 'b-2'), 1);
  await until(
    'the phone to show what the runtime stored',
    async () => JSON.stringify(shownTranscript(p.app, sessionId)) === JSON.stringify(storedTranscript(await runtime.bridge.messages(sessionId))),
  ).catch(() => {});
  assert.deepEqual(shownTranscript(p.app, sessionId), storedTranscript(await runtime.bridge.messages(sessionId)));
});

test('a slow device closed with connection.slow resumes: it reloads just the session it missed', { timeout: 60_000 }, async () => {
  const runtime = recordingRuntime();
  const h = await startRelayHost({ dataDir: tempDir(), runtime });
  cleanups.push(() => h.stop());
  // Paired by the app; the rest of this test is the channel itself, below the app.
  const paired = await pairedPhone(h.relay, Number(new URL(h.origin).port));
  const { deviceKey, hostKey } = paired.app.activeHost()!;
  await paired.close();
  await until('the paired page to be gone', async () => h.relay.connectionCount() === 0);
  const keys = { deviceKey, hostKey };
  runtime.emit({ type: 'session.idle', sessionId: 'ses_before' });
  let last = 0;
  const socket = await openSocket(h.url);
  const first = await connect({ socket, ...keys, name: 'phone', platform: 'node-test', onEvent: (seq) => (last = seq) });
  // The phone stops reading; the host keeps producing.
  (socket as unknown as { _socket: { pause(): void; resume(): void } })._socket.pause();
  const text = 'x'.repeat(256 * 1024);
  for (let i = 0; i < 200; i++) runtime.emit({ type: 'message.text.updated', sessionId: 'ses_slow', messageId: 'msg_1', partId: `prt_${i}`, text, done: true });
  (socket as unknown as { _socket: { resume(): void } })._socket.resume();
  const closed = await first.closed;
  // The host closes with 4008 connection.slow; the close frame queues behind megabytes the phone
  // has not read, and uWS sometimes gives up on it (1006). Either way the device must resume.
  assert.ok(closed.closeCode === 4008 || closed.closeCode === 1006, `closed with ${closed.closeCode} ${closed.reason}`);
  if (closed.closeCode === 4008) assert.equal(closed.code, 'connection.slow');
  assert.equal(h.relay.connectionCount(), 0, 'the host closed it');

  const resyncs: Resync[] = [];
  const again = await connect({
    socket: await openSocket(h.url),
    ...keys,
    name: 'phone',
    platform: 'node-test',
    after: last,
    epoch: first.welcome.epoch,
    onResync: (r) => resyncs.push(r),
  });
  await again.request({ t: 'ping', at: 1 });
  assert.equal(again.welcome.resumed, false);
  assert.deepEqual(
    resyncs.map((r) => [r.reason, r.sessions]),
    [['gap', ['ses_slow']]],
    'only the session that changed is reloaded',
  );
  again.close();
});

test('a connection that dies silently is noticed: the host drops it within seconds, the phone replaces it', { timeout: 60_000 }, async () => {
  const h = await startRelayHost({ dataDir: tempDir(), runtime: recordingRuntime() });
  cleanups.push(() => h.stop());
  const port = Number(new URL(h.origin).port);
  const proxy = await startFlakyProxy(port);
  cleanups.push(() => proxy.close());
  const p = await pairedPhone(h.relay, port, proxy, { link: { pingEveryMs: 1000, pingTimeoutMs: 2000 } });
  const connects = p.stats.connects;
  proxy.stall();
  await p.until('the phone to connect again', () => p.stats.connects === connects + 1 && p.caughtUp(), 20_000);
  // uWS pings after 4 s of silence and gives up 4 s later (checked every 4 s): well within 20 s.
  await until('the host to drop the dead connection', async () => h.relay.connectionCount() === 1, 20_000);
});
