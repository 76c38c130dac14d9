/**
 * Pairing and the secured channel end to end: the host's real HTTP server and `/relay` socket
 * (uWS), scripted devices on Node `ws` sockets using the real client, and attackers in between.
 *
 * The gatekeeping tests use a recording runtime (they are about who gets through, not about
 * OpenCode); the last test drives the REAL runtime through an approved device.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import WebSocket, { WebSocketServer } from 'ws';
import { generateKeyPair, keyPairFromSecretKey, randomBytes } from '../shared/noise/primitives.ts';
import { verificationCode } from '../shared/noise/sas.ts';
import { createTransport } from '../shared/noise/transport.ts';
import { toBase64url, fromBase64url } from '../shared/encoding.ts';
import { pairingPsk } from '../shared/pairing/keys.ts';
import { parsePairLink, parseTypedCode } from '../shared/pairing/link.ts';
import { MODE, hostHandshake } from '../shared/channel/handshake.ts';
import { RelayClosedError, connect, fetchHostKey, offerFromCode, offerFromLink, pair, type PairOffer, type RelayChannel } from '../shared/channel/client.ts';
import { REQUEST_TYPES, encodeMessage } from '../shared/protocol/messages.ts';
import { runDeviceCommand } from '../host/cli/devices.ts';
import type { PendingApproval } from '../host/pairing/approvals.ts';
import { openSocket, rawConnect, record } from '../test-support/relay-client.ts';
import { recordingRuntime, startRelayHost, type RelayHost, type RecordingRuntime } from './fixtures/relay-host.ts';
import { createRuntimeSandbox, testLogger, type RuntimeSandbox } from './fixtures/runtime.ts';
import { startHost, type Host } from '../host/app.ts';
import { parseConfig } from '../host/config.ts';
import { fileCleanup } from './fixtures/cleanup.ts';
import { nextApproval } from './fixtures/approvals.ts';
import { collectEvents } from './fixtures/event-collector.ts';

const TEST = { timeout: 60_000 };
const { cleanups, tempDir } = fileCleanup('relay-pairing-');

async function host(opts: { dataDir?: string; runtime?: RecordingRuntime; offerTtlMs?: number; handshakeTimeoutMs?: number } = {}) {
  const runtime = opts.runtime ?? recordingRuntime();
  const h = await startRelayHost({ dataDir: opts.dataDir ?? tempDir(), runtime, offerTtlMs: opts.offerTtlMs, handshakeTimeoutMs: opts.handshakeTimeoutMs });
  cleanups.push(() => h.stop());
  return { ...h, runtime };
}

function device(name = 'Test phone') {
  return { deviceKey: generateKeyPair(), name, platform: 'node-test' };
}

/** Scans the QR code: what the phone gets from the link. */
function scan(h: RelayHost): PairOffer {
  return offerFromLink(parsePairLink(h.relay.newOffer().link));
}

async function pairApproved(h: RelayHost, d = device()) {
  const pending = await pair({ socket: await openSocket(h.url), offer: scan(h), ...d });
  const request = await nextApproval(h.relay.approvals);
  assert.equal(request.code, pending.code);
  h.relay.approvals.approve(request.id);
  return { channel: await pending.approved, device: d };
}

const refusedWith = (code: string, closeCode: number) => (err: unknown) => {
  assert.ok(err instanceof RelayClosedError, `expected a RelayClosedError, got ${String(err)}`);
  assert.equal(err.code, code);
  assert.equal(err.closeCode, closeCode);
  return true;
};

test('a device pairs with the QR link and with the typed code, after approval at the host', TEST, async () => {
  const h = await host();
  const { channel } = await pairApproved(h);
  assert.equal(channel.welcome.host.hostId, h.relay.identity.hostId);
  assert.deepEqual(channel.welcome.scopes, ['read', 'run', 'approve']);
  assert.deepEqual(await channel.request({ t: 'ping', at: 5 }), { at: 5 });
  assert.equal(h.relay.devices.list().length, 1);

  // No camera: the code, and the host key fetched in the clear and checked against the code.
  const code = parseTypedCode(h.relay.newOffer().code);
  const offer = offerFromCode(code, await fetchHostKey(await openSocket(h.url)));
  const pending = await pair({ socket: await openSocket(h.url), offer, ...device('Tablet') });
  const request = await nextApproval(h.relay.approvals);
  assert.equal(request.code, pending.code);
  h.relay.approvals.approve(request.id);
  await pending.approved;
  assert.deepEqual(
    h.relay.devices
      .list()
      .map((d) => d.name)
      .sort(),
    ['Tablet', 'Test phone'],
  );
});

test('pairing is refused for a wrong secret, an expired offer, a used offer, and a "no" at the host', TEST, async () => {
  const h = await host();

  const asked: PendingApproval[] = [];
  h.relay.approvals.onChange((list) => asked.push(...list));
  const wrong = { ...scan(h), secret: randomBytes(32) };
  await assert.rejects(pair({ socket: await openSocket(h.url), offer: wrong, ...device() }), refusedWith('handshake.failed', 4400));
  assert.deepEqual(asked, [], 'a wrong secret never reaches the person at the host');

  const used = scan(h);
  const first = await pair({ socket: await openSocket(h.url), offer: used, ...device() });
  await assert.rejects(pair({ socket: await openSocket(h.url), offer: used, ...device('Second') }), refusedWith('pair.used', 4409));
  h.relay.approvals.decline((await nextApproval(h.relay.approvals)).id);
  await assert.rejects(first.approved, refusedWith('pair.declined', 4410));

  // Offers that expire quickly, on a host of their own so the steps above are never rushed.
  const quick = await host({ offerTtlMs: 2000 });
  const stale = scan(quick);
  await new Promise((r) => setTimeout(r, 2100));
  await assert.rejects(pair({ socket: await openSocket(quick.url), offer: stale, ...device() }), refusedWith('pair.expired', 4408));
  // An offer that expires while its request waits for the person at the host.
  const unanswered = await pair({ socket: await openSocket(quick.url), offer: scan(quick), ...device() });
  await assert.rejects(unanswered.approved, refusedWith('pair.expired', 4408));

  for (const x of [h, quick]) {
    assert.deepEqual(x.relay.devices.list(), [], 'no device was stored');
    assert.deepEqual(x.runtime.calls, []);
  }
});

test('a relay that swaps the keys in message 1 breaks the handshake', TEST, async () => {
  const h = await host();
  const proxy = await startProxy(h.url, (first) => {
    const forged = first.slice();
    forged.set(generateKeyPair().publicKey, 1); // the device's ephemeral key → the attacker's
    return forged;
  });
  await assert.rejects(pair({ socket: await openSocket(proxy.url), offer: scan(h), ...device() }), refusedWith('handshake.failed', 4400));
  assert.deepEqual(h.relay.approvals.list(), []);
  assert.deepEqual(h.relay.devices.list(), []);
});

test('an attacker who knows the secret but substitutes its own host key gets different codes on each side', TEST, async () => {
  const h = await host();
  const real = scan(h);
  const attackerKey = generateKeyPair();
  const attacker = await startImpostor(attackerKey, real, h.url);
  // The forged QR code: the real offer and secret, the attacker's key and address.
  const pending = await pair({ socket: await openSocket(attacker.url), offer: { ...real, hostKey: attackerKey.publicKey }, ...device() });
  const atHost = await nextApproval(h.relay.approvals);
  assert.equal(await attacker.deviceSideCode, pending.code, 'the device completed its handshake with the attacker');
  assert.notEqual(atHost.code, pending.code, 'the person comparing codes sees the mismatch and says no');
  h.relay.approvals.decline(atHost.id);
});

test('a paired device reconnects after the host and the app restart, without pairing again', { timeout: 180_000 }, async () => {
  const sandbox = await sandboxFor();
  const dataDir = tempDir();
  const first = await realHost(sandbox, dataDir);
  const { channel, device: d } = await pairApproved(asRelayHost(first));
  // The app keeps its key and the host's key (IndexedDB in the PWA; a file here).
  const saved = join(tempDir(), 'device.json');
  writeFileSync(saved, JSON.stringify({ secretKey: toBase64url(d.deviceKey.secretKey), hostKey: toBase64url(first.relay.identity.publicKey) }));
  const hostKeyBefore = first.relay.identity.publicKey;
  await first.close();
  const closed = await channel.closed;
  assert.equal(closed.closeCode, 1001);
  assert.equal(closed.code, 'host.shutting-down');

  const second = await realHost(sandbox, dataDir);
  assert.deepEqual(second.relay.identity.publicKey, hostKeyBefore, 'the host kept its key');
  const stored = JSON.parse(readFileSync(saved, 'utf8'));
  const again = await connect({
    socket: await openSocket(asRelayHost(second).url),
    hostKey: fromBase64url(stored.hostKey),
    deviceKey: keyPairFromSecretKey(fromBase64url(stored.secretKey)),
    name: d.name,
    platform: d.platform,
  });
  assert.equal(again.welcome.deviceId, channel.welcome.deviceId);
  assert.deepEqual(second.relay.approvals.list(), [], 'nobody was asked');
  assert.ok(Array.isArray((await again.request({ t: 'sessions.list' })).sessions), 'the real runtime answered');
});

test('a device revoked with the CLI is closed at once and cannot come back', TEST, async () => {
  const dataDir = tempDir();
  const h = await host({ dataDir });
  const { channel, device: d } = await pairApproved(h);
  const out: string[] = [];
  // What `npm start -- revoke <id>` runs, in its own process, on the same data directory.
  assert.equal(runDeviceCommand('revoke', [channel.welcome.deviceId], dataDir, { out: (s) => out.push(s), err: (s) => out.push(s) }), 0);
  const closed = await channel.closed;
  assert.equal(closed.closeCode, 4403);
  assert.equal(closed.reason, 'device.revoked: this device was removed from the host');
  await assert.rejects(connect({ socket: await openSocket(h.url), hostKey: h.relay.identity.publicKey, ...d }), (err: unknown) => {
    refusedWith('device.revoked', 4403)(err);
    assert.equal((err as RelayClosedError).reason, 'device.revoked: this device was removed from the host');
    return true;
  });
});

test('sockets that never complete a handshake are closed in time, however they answer pings; a device waiting for approval stays', TEST, async () => {
  const h = await host({ handshakeTimeoutMs: 500 });
  const began = Date.now();
  const idle = await Promise.all(Array.from({ length: 20 }, () => openSocket(h.url)));
  const closes = idle.map((ws) => record(ws).closed);
  const pings = setInterval(() => {
    for (const ws of idle) if (ws.readyState === WebSocket.OPEN) ws.ping();
  }, 100);
  // One stops after its handshake, before its first frame: it never proved it knew the secret.
  const offer = scan(h);
  const stalled = await rawConnect(await openSocket(h.url), {
    mode: MODE.pair,
    deviceKey: generateKeyPair(),
    hostKey: offer.hostKey,
    psk: pairingPsk(offer.secret),
    hello: { offer: offer.offerId },
  });
  const all = await Promise.all([...closes, stalled.recorder.closed]);
  clearInterval(pings);
  for (const c of all) assert.deepEqual(c, { code: 4400, reason: 'handshake.failed: no handshake within 0.5 s' });
  assert.ok(Date.now() - began < 5000);
  // A device that sent its ping waits for the person at the host well past the limit.
  const waiting = await pair({ socket: await openSocket(h.url), offer: scan(h), ...device() });
  await new Promise((r) => setTimeout(r, 1200));
  const request = await nextApproval(h.relay.approvals);
  assert.equal(request.code, waiting.code);
  h.relay.approvals.approve(request.id);
  await waiting.approved;
});

test('an unpaired client gets no route to the runtime', TEST, async () => {
  const h = await host();
  const requests = REQUEST_TYPES.map((t, i) => ({ t, id: `r${i}`, at: 1, sessionId: 'ses_x', taskId: 't1', text: 'rm -rf /', requestId: 'per_x', reply: 'once' }));

  for (const request of requests) {
    const plain = encodeMessage(request as never);
    // As the first message (binary and text), as garbage, and as a "frame" after a real pairing handshake.
    for (const send of [(ws: WebSocket) => ws.send(plain), (ws: WebSocket) => ws.send(JSON.stringify(request)), (ws: WebSocket) => ws.send(randomBytes(200))]) {
      const ws = await openSocket(h.url);
      const rec = record(ws);
      send(ws);
      const c = await rec.closed;
      assert.equal(c.code, 4400, `${request.t}: ${c.reason}`);
      assert.equal(rec.messages.length, 0, 'nothing was answered');
    }
  }

  // A pairing channel still waiting for approval: every request but ping is refused.
  const offer = scan(h);
  const raw = await rawConnect(await openSocket(h.url), {
    mode: MODE.pair,
    deviceKey: generateKeyPair(),
    hostKey: offer.hostKey,
    psk: pairingPsk(offer.secret),
    hello: { offer: offer.offerId },
  });
  assert.equal((await raw.next()).t, 'pair.pending');
  for (const request of requests) {
    raw.send(request);
    const answer = await raw.nextOf('result');
    if (request.t === 'ping') assert.equal(answer.ok, true);
    else assert.equal(!answer.ok && answer.error.code, 'protocol.invalid', request.t);
  }
  h.runtime.emit({ type: 'session.idle', sessionId: 'ses_x' });
  raw.send({ t: 'ping', id: 'after-event', at: 1 });
  assert.equal((await raw.next()).t, 'result', 'no runtime event reached the waiting device');
  raw.sendRaw(encodeMessage(requests[1] as never)); // plaintext inside the channel
  assert.deepEqual(await raw.recorder.closed.then((c) => c.code), 4400);

  assert.deepEqual(h.runtime.calls, [], 'the runtime saw no call');
  // The same requests from an approved device do reach it, so the assertion above means something.
  const { channel } = await pairApproved(h);
  await channel.request({ t: 'sessions.list' });
  assert.deepEqual(h.runtime.calls, ['listSessions']);
});

test('an approved device drives the real runtime; a "session" answer is a host grant, never "always"', { timeout: 180_000 }, async () => {
  const h = asRelayHost(await realHost(await sandboxFor(), tempDir()));
  const { events, onEvent, waitFor } = collectEvents();
  const d = device();
  const pending = await pair({ socket: await openSocket(h.url), offer: scan(h), ...d, onEvent });
  h.relay.approvals.approve((await nextApproval(h.relay.approvals)).id);
  const channel: RelayChannel = await pending.approved;

  const session = { id: (await channel.request({ t: 'session.create', title: 'from the phone' })).sessionId };
  assert.match(session.id, /^ses_/);
  const { sessions } = await channel.request({ t: 'sessions.list' });
  assert.ok(sessions.some((s) => s.sessionId === session.id));

  const accepted = await channel.request({ t: 'task.submit', taskId: 'task-1', sessionId: session.id, text: 'run it [bash:echo first-run]' });
  assert.deepEqual([accepted.taskId, accepted.sessionId], ['task-1', session.id]);
  const asked = await waitFor('permission.asked', (e) => e.sessionId === session.id);
  assert.equal(asked.permission, 'bash');
  await channel.request({ t: 'permission.reply', requestId: asked.requestId, reply: 'session' });
  const replied = await waitFor('permission.replied', (e) => e.requestId === asked.requestId);
  assert.equal(replied.reply, 'once', 'the runtime never hears "always"');
  await waitFor('tool.updated', (e) => e.callId === asked.tool?.callId && e.status === 'completed');
  await waitFor('session.idle', (e) => e.sessionId === session.id);

  // A second command the grant covers runs without asking the device.
  const before = events.length;
  await channel.request({ t: 'task.submit', taskId: 'task-2', sessionId: session.id, text: 'again [bash:echo second-run]' });
  const second = await waitFor('tool.updated', (e) => e.sessionId === session.id && e.status === 'completed' && /second-run/.test(e.output ?? ''));
  assert.equal(events.slice(before).filter((e) => e.type === 'permission.asked').length, 0, 'the device was not asked again');
  assert.equal(second.tool, 'bash');
  await waitFor('session.idle', (e) => e.sessionId === session.id && events.indexOf(e) > events.indexOf(second));
  const { messages, state } = await channel.request({ t: 'session.messages', sessionId: session.id });
  assert.ok(messages.length >= 4);
  assert.equal(state.status, 'idle', 'the turn is over, as the runtime says');
  assert.ok(
    messages.some((m) => m.parts.some((p) => p.kind === 'tool' && p.tool === 'bash' && /second-run/.test(p.output ?? ''))),
    'the transcript carries the tool call',
  );
});

// ---- the real host (host/app.ts) with the real runtime -------------------------------------

let sandbox: Promise<RuntimeSandbox> | undefined;
/** One fake model and HOME/XDG tree for the file's real runtimes. */
function sandboxFor(): Promise<RuntimeSandbox> {
  sandbox ??= createRuntimeSandbox().then((sb) => (cleanups.push(() => sb.dispose()), sb));
  return sandbox;
}

async function realHost(sb: RuntimeSandbox, dataDir: string): Promise<Host> {
  const parsed = parseConfig(['--port', '0', '--bind', '127.0.0.1', '--workspace', sb.workspace, '--data-dir', dataDir], {});
  if (!parsed.ok) throw new Error(parsed.errors.join('\n'));
  const h = await startHost({ config: parsed.config, log: testLogger(), runtimeEnv: sb.env });
  cleanups.push(() => h.close());
  await h.runtime.ready;
  await h.runtime.bridge.subscribed();
  return h;
}

function asRelayHost(h: Host): RelayHost {
  const origin = `http://127.0.0.1:${h.port}`;
  return { relay: h.relay, origin, url: `${origin.replace('http', 'ws')}/relay`, stop: () => h.close() };
}

// ---- attackers ---------------------------------------------------------------------------

async function listen(server: WebSocketServer): Promise<string> {
  await new Promise<void>((r) => server.once('listening', () => r()));
  cleanups.push(
    () =>
      new Promise<void>((r) => {
        for (const c of server.clients) c.terminate();
        server.close(() => r());
      }),
  );
  const { port } = server.address() as { port: number };
  return `ws://127.0.0.1:${port}/relay`;
}

/** A relay in the middle that forwards everything, rewriting the device's first message. */
async function startProxy(upstreamUrl: string, rewriteFirst: (msg: Uint8Array) => Uint8Array) {
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  server.on('connection', (down) => {
    const up = new WebSocket(upstreamUrl);
    const early: Uint8Array[] = [];
    let first = true;
    down.on('message', (data: Buffer) => {
      const bytes = first ? rewriteFirst(new Uint8Array(data)) : new Uint8Array(data);
      first = false;
      if (up.readyState === WebSocket.OPEN) up.send(bytes);
      else early.push(bytes);
    });
    up.on('open', () => early.splice(0).forEach((m) => void up.send(m)));
    up.on('message', (data: Buffer) => down.send(data));
    const relayClose = (to: WebSocket) => (code: number, reason: Buffer) => {
      if (to.readyState === WebSocket.OPEN) to.close(code >= 3000 ? code : 1000, reason.toString());
    };
    up.on('close', relayClose(down));
    down.on('close', relayClose(up));
  });
  return { url: await listen(server) };
}

/**
 * Plays the host toward the device with its own key, and the device toward the real host, using
 * the offer's real secret on both sides.
 */
async function startImpostor(attackerKey: ReturnType<typeof generateKeyPair>, offer: PairOffer, hostUrl: string) {
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  let resolveCode!: (code: string) => void;
  const deviceSideCode = new Promise<string>((r) => (resolveCode = r));
  server.on('connection', (down) => {
    down.once('message', async (data: Buffer) => {
      const bytes = new Uint8Array(data);
      const hs = hostHandshake(MODE.pair, attackerKey, pairingPsk(offer.secret));
      const hello = JSON.parse(new TextDecoder().decode(hs.readMessage(bytes.subarray(1))));
      down.send(hs.writeMessage());
      const result = hs.result();
      const toDevice = createTransport(result);
      const code = verificationCode(result.handshakeHash);
      for (const f of toDevice.seal(encodeMessage({ t: 'pair.pending', code }))) down.send(f);
      resolveCode(code);
      // Upstream, as a device of its own, naming the offer the victim named.
      const up = await rawConnect(await openSocket(hostUrl), {
        mode: MODE.pair,
        deviceKey: generateKeyPair(),
        hostKey: offer.hostKey,
        psk: pairingPsk(offer.secret),
        hello: { offer: hello.offer, name: hello.name },
      });
      up.send({ t: 'ping', id: 'confirm', at: 1 });
    });
  });
  return { url: await listen(server), deviceSideCode };
}
