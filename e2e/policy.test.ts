/**
 * What a paired device may make the host do, end to end:
 *
 * - Only the runtime calls docs/protocol.md implies reach the runtime, whatever a device with
 *   every scope sends: a recording proxy in front of the REAL runtime (the host attaches to it
 *   with --opencode-url) sees every request the host makes.
 * - Scopes are enforced per request, and a change made with the CLI applies to an open connection.
 * - The host's permission policy (config.json) beats the workspace's opencode.json, per
 *   workspace; an unanswered question is denied after the configured time and the task says why;
 *   a "session" answer lasts for its session only.
 */
import { pairDevice as pairPaired } from './fixtures/paired-device.ts';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateKeyPair, type KeyPair } from '../shared/noise/primitives.ts';
import { parsePairLink } from '../shared/pairing/link.ts';
import { connect, offerFromLink, pair, type RelayChannel } from '../shared/channel/client.ts';
import { REQUEST_SCOPE, REQUEST_TYPES, SCOPES, type Resync, type Scope } from '../shared/protocol/messages.ts';
import type { RelayRuntimeEvent } from '../shared/protocol/runtime-events.ts';
import { startHost, type Host } from '../host/app.ts';
import type { Relay } from '../host/relay.ts';
import { runDeviceCommand } from '../host/cli/devices.ts';
import { parseConfig } from '../host/config.ts';
import { startRuntime, type Runtime } from '../host/runtime/start.ts';
import WebSocket from 'ws';
import { openSocket, rawConnect, record, MODE } from '../test-support/relay-client.ts';
import { recordingRuntime, startRelayHost } from './fixtures/relay-host.ts';
import { createRuntimeSandbox, testLogger, type RuntimeSandbox } from './fixtures/runtime.ts';
import { pairingPsk } from '../shared/pairing/keys.ts';
import { fileCleanup } from './fixtures/cleanup.ts';
import { recordingProxy } from './fixtures/recording-proxy.ts';
import { collectEvents } from './fixtures/event-collector.ts';

/** SHA-256 of the one byte `x` (base64url `eA`), for attachment chunks. */
const ONE_BYTE_SHA256 = '2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881';
const REAL = { timeout: 180_000 };
const { cleanups, tempDir } = fileCleanup('relay-policy-');

async function sandbox(): Promise<RuntimeSandbox> {
  const sb = await createRuntimeSandbox();
  cleanups.push(() => sb.dispose());
  return sb;
}

/** A device paired with `scopes`, collecting the events it receives (closed after the file). */
const pairDevice = (relay: Relay, url: string, scopes: readonly Scope[] = SCOPES) => pairPaired(relay, url, cleanups, scopes);

/** The same device connecting again (from `after` in `epoch` when given), with its own collector and the resync it gets. */
async function reconnect(relay: Relay, url: string, deviceKey: KeyPair, from: { after?: number; epoch?: string } = {}) {
  const collected = collectEvents();
  const resyncs: Resync[] = [];
  const channel = await connect({
    socket: await openSocket(url),
    hostKey: relay.identity.publicKey,
    deviceKey,
    name: 'again',
    platform: 'node-test',
    ...from,
    onEvent: collected.onEvent,
    onResync: (r) => resyncs.push(r),
  });
  cleanups.push(() => channel.close());
  return { channel, resyncs, ...collected };
}

/** The error code of a refused request (fails the test when it was answered). */
async function refusal(channel: RelayChannel, request: Record<string, unknown>): Promise<string> {
  let data: unknown;
  try {
    data = await channel.request(request as never);
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    assert.equal(typeof code, 'string', `a coded refusal for ${JSON.stringify(request)}: ${String(err)}`);
    return code as string;
  }
  assert.fail(`${JSON.stringify(request)} was answered: ${JSON.stringify(data).slice(0, 200)}`);
}

// ---- only the listed routes ---------------------------------------------------------------

const ID = '[A-Za-z0-9_-]+';
/** Every runtime request the host may make, method and path; nothing else may appear. */
const ALLOWED = [
  ['GET', '/global/health'],
  ['GET', '/event'],
  ['GET', '/session'],
  ['GET', '/session/status'],
  ['POST', '/session'],
  ['GET', `/session/${ID}`],
  ['PATCH', `/session/${ID}`],
  ['GET', `/session/${ID}/message`],
  // A page before a message: the runtime's cursor needs that message's creation time.
  ['GET', `/session/${ID}/message/${ID}`],
  ['POST', `/session/${ID}/prompt_async`],
  ['POST', `/session/${ID}/abort`],
  ['POST', `/session/${ID}/revert`],
  ['POST', `/session/${ID}/unrevert`],
  ['POST', `/session/${ID}/fork`],
  ['POST', `/session/${ID}/summarize`],
  ['DELETE', `/session/${ID}`],
  // session.usage (the model's context window) and workspace.vcs: read-only.
  ['GET', '/config/providers'],
  ['GET', '/vcs'],
  ['GET', '/vcs/status'],
  ['GET', '/permission'],
  ['POST', `/permission/${ID}/reply`],
  ['GET', '/question'],
  ['POST', `/question/${ID}/reply`],
  ['POST', `/question/${ID}/reject`],
].map(([method, path]) => ({ method, path: new RegExp(`^${path}$`) }));

/** Requests that name nothing a device could aim elsewhere; their extra fields are ignored. */
const HARMLESS = new Set<string>(['ping', 'sessions.list', 'metrics.get']);

const SMUGGLED_IDS = [
  '..',
  '.',
  '../pty',
  '../../pty',
  'x/shell',
  'ses_1/shell',
  '../config',
  '../provider',
  '../auth/x',
  'ses_1?directory=/',
  'ses_1#x',
  '%2e%2e',
  '%2e%2e%2fpty',
  'ses_1%2fshell',
  '..\\pty',
  ' ses_1',
  'ses_1\n',
  '/pty',
  'ses_1;shell',
];

test('a device with every scope reaches no runtime route docs/protocol.md does not list, by any message', REAL, async () => {
  const sb = await sandbox();
  // The runtime someone else runs; the host attaches to it through the recording proxy.
  const runtime: Runtime = startRuntime({ log: testLogger(), workspaces: [sb.workspace], env: sb.env });
  cleanups.push(() => runtime.stop());
  const { url: runtimeUrl } = await runtime.ready;
  const proxy = await recordingProxy(runtimeUrl!, runtime.supervisor.password, cleanups);
  const parsed = parseConfig(['--port', '0', '--bind', '127.0.0.1', '--workspace', sb.workspace, '--data-dir', tempDir(), '--opencode-url', proxy.url], {});
  if (!parsed.ok) throw new Error(parsed.errors.join('\n'));
  const host = await startHost({ config: parsed.config, log: testLogger() });
  cleanups.push(() => host.close());
  await host.runtime.ready;
  await host.runtime.bridge.subscribed();
  const { channel, events } = await pairDevice(host.relay, `ws://127.0.0.1:${host.port}/relay`);
  const session = { id: (await channel.request({ t: 'session.create', title: 'target' })).sessionId };
  const start = proxy.seen.length;

  const attempts: Array<Record<string, unknown>> = [];
  for (const t of REQUEST_TYPES) {
    for (const id of SMUGGLED_IDS) {
      const extras = { directory: '/', path: '/pty', url: '/session/x/shell', command: 'id', provider: 'x' };
      if (HARMLESS.has(t)) {
        attempts.push({ t, at: 1, sessionId: id, ...extras });
        continue;
      }
      switch (t) {
        case 'session.create':
          attempts.push({ t, title: id, workspace: id }, { t, workspace: `${sb.workspace}/${id}` }, { t, workspace: '/', ...extras });
          break;
        case 'session.messages':
          attempts.push({ t, sessionId: id, ...extras }, { t, sessionId: `${session.id}/${id}` }, { t, sessionId: session.id, limit: 2, before: id });
          break;
        case 'session.abort':
        case 'session.unrevert':
        case 'session.delete':
        case 'session.compact':
        case 'session.usage':
          attempts.push({ t, sessionId: id, ...extras }, { t, sessionId: `${session.id}/${id}` });
          break;
        case 'workspace.vcs':
          attempts.push(
            { t, sessionId: id, ...extras },
            { t, sessionId: `${session.id}/${id}` },
            { t, workspace: id },
            { t, workspace: `${sb.workspace}/${id}` },
            { t, workspace: '/' },
          );
          break;
        case 'session.diff':
        case 'session.revert':
        case 'session.fork':
          attempts.push(
            { t, sessionId: id, messageId: 'msg_1', ...extras },
            { t, sessionId: session.id, messageId: id },
            { t, sessionId: `${session.id}/${id}`, messageId: 'msg_1' },
          );
          break;
        case 'session.rename':
          attempts.push({ t, sessionId: id, title: id, ...extras }, { t, sessionId: `${session.id}/${id}`, title: 'x' });
          break;
        case 'file.read':
          // Read by the host itself, never through the runtime: every way out of the workspace is refused.
          attempts.push({ t, ...extras, path: id === '.' ? '..' : `../${id}` }, { t, path: '/etc/passwd' }, { t, path: 'x', workspace: id });
          break;
        case 'task.submit':
          attempts.push(
            { t, taskId: id, sessionId: id, text: 'x', ...extras },
            { t, taskId: `t-${attempts.length}`, sessionId: `${session.id}/../${id}`, text: 'x' },
            { t, taskId: `t-${attempts.length}`, sessionId: session.id, text: 'x', attachments: [id] },
          );
          break;
        case 'attachment.put': {
          // Kept by the host in its own folder, never through the runtime: a name that looks like a
          // path is only a name (the chunk is taken), an id that looks like one is refused.
          const one = { mime: 'text/plain', size: 1, sha256: ONE_BYTE_SHA256, offset: 0, data: 'eA' };
          await channel.request({ t, attachmentId: `a-${attempts.length}-${SMUGGLED_IDS.indexOf(id)}`, name: id, ...one, ...extras } as never);
          attempts.push({ t, attachmentId: id, name: 'x.txt', ...one });
          break;
        }
        case 'attachment.get':
          // Read from the session's stored messages: only the session id reaches a runtime URL.
          attempts.push(
            { t, sessionId: id, messageId: 'msg_1', partId: 'prt_1', offset: 0, ...extras },
            { t, sessionId: session.id, messageId: id, partId: 'prt_1', offset: 0 },
            { t, sessionId: session.id, messageId: 'msg_1', partId: id, offset: 0 },
            { t, sessionId: `${session.id}/${id}`, messageId: 'msg_1', partId: 'prt_1', offset: 0 },
          );
          break;
        case 'permission.reply':
          attempts.push({ t, requestId: id, reply: 'once', message: id, ...extras }, { t, requestId: `per_1/${id}`, reply: 'reject' });
          break;
        case 'question.reply':
          attempts.push({ t, requestId: id, answers: [[id]], ...extras }, { t, requestId: `que_1/${id}`, answers: [['x']] });
          break;
        case 'question.reject':
          attempts.push({ t, requestId: id, ...extras }, { t, requestId: `que_1/${id}` });
          break;
        case 'composer.options':
          // Only smuggled ids: a real one would (rightly) read the runtime's agents, commands and providers.
          attempts.push({ t, sessionId: id, ...extras }, { t, sessionId: `${session.id}/${id}` });
          break;
        case 'push.subscribe':
          // The host never sends to a push address on this computer or the LAN.
          attempts.push(
            {
              t,
              subscription: { endpoint: `http://127.0.0.1/${id}`, keys: { p256dh: 'x', auth: 'y' } },
              kinds: { permission: true, finished: true, failed: true },
              private: false,
              ...extras,
            },
            {
              t,
              subscription: { endpoint: `https://192.168.1.1/${id}`, keys: { p256dh: 'x', auth: 'y' } },
              kinds: { permission: true, finished: true, failed: true },
              private: false,
            },
          );
          break;
        case 'push.settings':
          attempts.push({ t, kinds: { permission: true, finished: true, failed: true }, private: false, ...extras });
          break;
        case 'push.status':
        case 'push.unsubscribe':
        case 'app.visibility':
          // The host's own records, never the runtime: answered, extra fields ignored (checked below by the proxy's log).
          await channel.request({ t, visible: false, sessionId: id, ...extras } as never);
          break;
        default:
          assert.fail(`a new request type ${t}: add its smuggling attempts here`);
      }
    }
  }
  // Request types that do not exist, named after the routes they would want.
  for (const t of ['session.shell', 'shell', 'pty.create', 'pty', 'config.update', 'config.get', 'provider.auth', 'auth.set', 'session.command', 'mcp.add']) {
    attempts.push({ t, sessionId: session.id, command: 'id' });
  }

  let refused = 0;
  for (const attempt of attempts) {
    if (HARMLESS.has(attempt.t as string)) {
      await channel.request(attempt as never); // harmless, and their extra fields are ignored
      continue;
    }
    const code = await refusal(channel, attempt);
    assert.ok(['request.unknown', 'protocol.invalid', 'runtime.error', 'file.refused', 'push.refused', 'attachment.refused'].includes(code), `${JSON.stringify(attempt)}: ${code}`);
    refused++;
  }
  assert.ok(refused > 200, `${refused} attempts were refused`);

  // ---- a session read in pages from its newest messages back: each page is the runtime's own ----
  for (let turn = 1; turn <= 3; turn++) {
    await channel.request({ t: 'task.submit', taskId: `page-${turn}`, sessionId: session.id, text: `turn ${turn} [text:1]` });
    await until('the turn ended', () => events.filter((e) => e.type === 'session.idle' && e.sessionId === session.id).length >= turn);
  }
  const whole = (await channel.request({ t: 'session.messages', sessionId: session.id })).messages;
  assert.equal(whole.length, 6, 'three turns: a prompt and a reply each');
  const paging = proxy.seen.length;
  const pages = [];
  let page = await channel.request({ t: 'session.messages', sessionId: session.id, limit: 2 });
  pages.unshift(page.messages);
  while (page.more) {
    page = await channel.request({ t: 'session.messages', sessionId: session.id, limit: 2, before: page.messages[0]!.messageId });
    pages.unshift(page.messages);
    // A host that ignored `before` would answer the same page for ever.
    if (pages.length > whole.length) break;
  }
  assert.deepEqual(pages, [whole.slice(0, 2), whole.slice(2, 4), whole.slice(4)], 'the pages are the whole transcript cut before each page');
  const reads = proxy.seen.slice(paging).filter((r) => r.method === 'GET' && /^\/session\/[^/]+\/message$/.test(r.path));
  assert.deepEqual(
    reads.map((r) => [r.query.get('limit'), r.query.has('before')]),
    [
      ['3', false],
      ['3', true],
      ['3', true],
    ],
    'each page asked the runtime for that page (and one more message), never the whole session',
  );
  assert.equal(await refusal(channel, { t: 'session.messages', sessionId: session.id, limit: 2, before: 'msg_0000000000001NotInSession' }), 'request.unknown');

  const during = proxy.seen.slice(start);
  const offList = during.filter((r) => !ALLOWED.some((a) => a.method === r.method && a.path.test(r.path)));
  assert.deepEqual(
    offList.map((r) => `${r.method} ${r.path}`),
    [],
    'every runtime request is on the list',
  );
  for (const r of during) {
    // Listing sessions also pages (`limit`) and searches titles (`search`); a session's messages
    // are read newest first in pages (`limit`, and the runtime's cursor `before`).
    const allowedQuery =
      r.method === 'GET' && r.path === '/session'
        ? ['directory', 'limit', 'search']
        : r.method === 'GET' && /^\/session\/[^/]+\/message$/.test(r.path)
          ? ['directory', 'limit', 'before']
          : ['directory'];
    assert.deepEqual(
      [...r.query.keys()].filter((k) => !allowedQuery.includes(k)),
      [],
      `${r.method} ${r.path}: only the ${allowedQuery.join(', ')} query`,
    );
    const directory = r.query.get('directory');
    if (directory !== null) assert.equal(directory, sb.workspace, `${r.method} ${r.path}: only the configured workspace`);
    assert.doesNotMatch(r.path, /shell|pty|config|provider|auth|mcp|tui|\.\.|%/, `${r.method} ${r.path}`);
  }
  // The only session ids that reached the runtime are real ones.
  const sessionPaths = during.filter((r) => r.path.startsWith('/session/') && r.path !== '/session/status').map((r) => r.path.split('/')[2]);
  assert.deepEqual(
    [...new Set(sessionPaths)].filter((id) => id !== session.id),
    [],
  );
});

// ---- scopes --------------------------------------------------------------------------------

const SAMPLE: Record<string, Record<string, unknown>> = {
  ping: { t: 'ping', at: 1 },
  'sessions.list': { t: 'sessions.list' },
  'metrics.get': { t: 'metrics.get' },
  'session.messages': { t: 'session.messages', sessionId: 'ses_1' },
  'session.create': { t: 'session.create' },
  'session.abort': { t: 'session.abort', sessionId: 'ses_1' },
  'session.diff': { t: 'session.diff', sessionId: 'ses_1' },
  'file.read': { t: 'file.read', path: 'README.md' },
  'session.revert': { t: 'session.revert', sessionId: 'ses_1', messageId: 'msg_1' },
  'session.unrevert': { t: 'session.unrevert', sessionId: 'ses_1' },
  'session.rename': { t: 'session.rename', sessionId: 'ses_1', title: 'x' },
  'session.delete': { t: 'session.delete', sessionId: 'ses_1' },
  'session.fork': { t: 'session.fork', sessionId: 'ses_1' },
  'session.compact': { t: 'session.compact', sessionId: 'ses_1' },
  'task.submit': { t: 'task.submit', taskId: 'task-1', sessionId: 'ses_1', text: 'hello' },
  'attachment.put': { t: 'attachment.put', attachmentId: 'att_1', name: 'x.txt', mime: 'text/plain', size: 1, sha256: ONE_BYTE_SHA256, offset: 0, data: 'eA' },
  'attachment.get': { t: 'attachment.get', sessionId: 'ses_1', messageId: 'msg_1', partId: 'prt_1', offset: 0 },
  'permission.reply': { t: 'permission.reply', requestId: 'per_1', reply: 'once' },
  'question.reply': { t: 'question.reply', requestId: 'que_1', answers: [['Yes']] },
  'question.reject': { t: 'question.reject', requestId: 'que_1' },
  'composer.options': { t: 'composer.options' },
  'session.usage': { t: 'session.usage', sessionId: 'ses_1' },
  'workspace.vcs': { t: 'workspace.vcs' },
  'push.status': { t: 'push.status' },
  'push.subscribe': {
    t: 'push.subscribe',
    subscription: { endpoint: 'https://push.example.com/x', keys: { p256dh: 'B'.repeat(87), auth: 'A'.repeat(22) } },
    kinds: { permission: true, finished: true, failed: true },
    private: false,
  },
  'push.settings': { t: 'push.settings', kinds: { permission: true, finished: true, failed: true }, private: false },
  'push.unsubscribe': { t: 'push.unsubscribe' },
  'app.visibility': { t: 'app.visibility', visible: true },
};

test('for each scope, a device without it is refused every request that needs it, naming the scope', { timeout: 60_000 }, async () => {
  const h = await startRelayHost({ dataDir: tempDir(), runtime: recordingRuntime() });
  cleanups.push(() => h.stop());
  for (const missing of SCOPES) {
    const { channel } = await pairDevice(
      h.relay,
      h.url,
      SCOPES.filter((s) => s !== missing),
    );
    for (const t of REQUEST_TYPES) {
      const request = SAMPLE[t];
      assert.ok(request, `a sample request for ${t}`);
      if (REQUEST_SCOPE[t] !== missing) continue;
      await assert.rejects(channel.request(request as never), (err: unknown) => {
        assert.equal((err as { code?: string }).code, 'scope.denied', t);
        assert.match((err as Error).message, new RegExp(`"${missing}" scope`), t);
        return true;
      });
    }
  }
});

test('scopes changed with the CLI reach an open connection: it closes with device.access-changed and reconnects to the new scopes', { timeout: 60_000 }, async () => {
  const dataDir = tempDir();
  const h = await startRelayHost({ dataDir, runtime: recordingRuntime() });
  cleanups.push(() => h.stop());
  const { channel, deviceKey } = await pairDevice(h.relay, h.url);
  const io = { out: () => {}, err: (s: string) => assert.fail(s) };
  const submit = (on: RelayChannel, n: number) => on.request({ t: 'task.submit', taskId: `task-${n}`, sessionId: 'ses_1', text: 'x' } as never);
  await submit(channel, 1);

  // What `npm start -- devices scopes <device> read` does, from another process.
  assert.equal(runDeviceCommand('device-scopes', [channel.welcome.deviceId, 'read'], dataDir, io), 0);
  const closed = await channel.closed;
  assert.deepEqual([closed.code, closed.closeCode], ['device.access-changed', 4205]);
  // As the app does: from where it stopped. It reloads instead, since what it shows may be out of bounds now.
  const reader = await reconnect(h.relay, h.url, deviceKey, { after: h.relay.hub.seq, epoch: channel.welcome.epoch });
  assert.deepEqual(reader.channel.welcome.scopes, ['read'], 'the new welcome lists the new scopes');
  assert.equal(reader.channel.welcome.resumed, false);
  assert.deepEqual(
    reader.resyncs.map((r) => [r.reason, r.sessions]),
    [['access', undefined]],
    'reload everything',
  );
  await assert.rejects(submit(reader.channel, 2), (err: { code?: string; message: string }) => err.code === 'scope.denied' && /"run" scope/.test(err.message));
  assert.ok(Array.isArray((await reader.channel.request({ t: 'sessions.list' })).sessions), 'read still works');

  assert.equal(runDeviceCommand('device-scopes', [channel.welcome.deviceId, 'all'], dataDir, io), 0);
  assert.equal((await reader.channel.closed).code, 'device.access-changed');
  const runner = await reconnect(h.relay, h.url, deviceKey);
  assert.deepEqual(runner.channel.welcome.scopes, [...SCOPES]);
  await submit(runner.channel, 3);
});

// ---- workspaces, and who hears of permission requests ----------------------------------------

const updated = (s: { id: string; directory: string }): RelayRuntimeEvent => ({
  type: 'session.updated',
  sessionId: s.id,
  title: s.id,
  directory: s.directory,
  createdAt: 1,
  updatedAt: 1,
});
const idle = (sessionId: string): RelayRuntimeEvent => ({ type: 'session.idle', sessionId });
const asked = (requestId: string, sessionId: string): RelayRuntimeEvent => ({
  type: 'permission.asked',
  requestId,
  sessionId,
  permission: 'bash',
  patterns: ['ls'],
  always: [],
  metadata: {},
});
/** `session:type` of each event that names a session, for comparing what two devices received. */
const about = (events: RelayRuntimeEvent[]) => events.flatMap((e) => ('sessionId' in e && e.sessionId ? [`${e.sessionId}:${e.type}`] : []));

/** A host serving workspaces A and B, whose runtime already told it about one session in each (ses_a, ses_b). */
async function twoWorkspaceHost() {
  const dataDir = tempDir();
  const [A, B] = [tempDir(), tempDir()];
  const sessions = [
    { id: 'ses_a', directory: A },
    { id: 'ses_b', directory: B },
  ];
  const runtime = recordingRuntime({
    sessions,
    permissions: [
      { id: 'per_a', sessionID: 'ses_a' },
      { id: 'per_b', sessionID: 'ses_b' },
    ],
  });
  const h = await startRelayHost({ dataDir, runtime, workspaces: [A, B], journal: { maxEvents: 8 } });
  cleanups.push(() => h.stop());
  for (const s of sessions) runtime.emit(updated(s));
  return { h, runtime, dataDir, A, B, sessions };
}

test('a device limited to workspace A sees and acts on A only: welcome, lists, requests, live events, replays and resyncs', { timeout: 60_000 }, async () => {
  const { h, runtime, dataDir, A, B } = await twoWorkspaceHost();
  const full = await pairDevice(h.relay, h.url);
  assert.deepEqual(full.channel.welcome.workspaces, [A, B]);
  const paired = await pairDevice(h.relay, h.url);
  runtime.emit(asked('per_a', 'ses_a'));
  runtime.emit(asked('per_b', 'ses_b'));
  // What `npm start -- devices workspaces <device> /ws/a` does, from another process.
  const io = { out: () => {}, err: (s: string) => assert.fail(s) };
  assert.equal(runDeviceCommand('device-workspaces', [paired.channel.welcome.deviceId, A], dataDir, io), 0);
  assert.equal((await paired.channel.closed).code, 'device.access-changed');

  const limited = await reconnect(h.relay, h.url, paired.deviceKey);
  assert.deepEqual(limited.channel.welcome.workspaces, [A], 'the welcome lists only its workspace');
  assert.deepEqual(
    limited.resyncs.map((r) => r.permissions.map((p) => p.requestId)),
    [['per_a']],
    "resync names only A's waiting request",
  );
  const listed = async (d: { channel: RelayChannel }) => (await d.channel.request({ t: 'sessions.list' })).sessions.map((s) => [s.sessionId, s.directory, s.waiting]);
  assert.deepEqual(await listed(limited), [['ses_a', A, true]]);
  assert.deepEqual(
    await listed(full),
    [
      ['ses_a', A, true],
      ['ses_b', B, true],
    ],
    'each with its waiting request',
  );

  const onB: Array<Record<string, unknown>> = [
    { t: 'session.messages', sessionId: 'ses_b' },
    { t: 'session.abort', sessionId: 'ses_b' },
    { t: 'task.submit', taskId: 'task-b', sessionId: 'ses_b', text: 'x' },
    { t: 'attachment.get', sessionId: 'ses_b', messageId: 'msg_1', partId: 'prt_1', offset: 0 },
    { t: 'permission.reply', requestId: 'per_b', reply: 'once' },
    { t: 'session.create', workspace: B },
  ];
  const before = runtime.calls.filter((c) => c !== 'getSession' && c !== 'listPermissions').length;
  for (const request of onB) {
    await assert.rejects(limited.channel.request(request as never), (err: { code?: string; message: string }) => {
      assert.equal(err.code, 'scope.denied', request.t as string);
      assert.match(err.message, /may not use the workspace/, request.t as string);
      assert.match(err.message, /devices workspaces/, 'it says how the host can allow it');
      return true;
    });
  }
  assert.equal(runtime.calls.filter((c) => c !== 'getSession' && c !== 'listPermissions').length, before, 'none reached the runtime');
  await limited.channel.request({ t: 'session.messages', sessionId: 'ses_a' });
  await limited.channel.request({ t: 'task.submit', taskId: 'task-a', sessionId: 'ses_a', text: 'x' });

  // Live: both devices see A; only the full one sees B.
  for (const e of [idle('ses_b'), asked('per_b2', 'ses_b'), idle('ses_a'), asked('per_a2', 'ses_a')]) runtime.emit(e);
  await Promise.all([full.channel, limited.channel].map((c) => c.request({ t: 'ping', at: 1 })));
  assert.deepEqual(about(limited.events), ['ses_a:session.idle', 'ses_a:permission.asked']);
  assert.deepEqual(about(full.events).slice(-4), ['ses_b:session.idle', 'ses_b:permission.asked', 'ses_a:session.idle', 'ses_a:permission.asked']);

  // Replay: what it missed while away, of A only.
  limited.channel.close();
  for (const e of [idle('ses_b'), idle('ses_a')]) runtime.emit(e);
  const back = await reconnect(h.relay, h.url, paired.deviceKey, { after: limited.seqs.at(-1)!, epoch: limited.channel.welcome.epoch });
  await back.channel.request({ t: 'ping', at: 1 });
  assert.equal(back.channel.welcome.resumed, true);
  assert.deepEqual(about(back.events), ['ses_a:session.idle']);

  // A gap too old to replay: it reloads A's session, never B's.
  back.channel.close();
  for (let i = 0; i < 10; i++) runtime.emit(idle('ses_b'));
  runtime.emit(idle('ses_a'));
  const gap = await reconnect(h.relay, h.url, paired.deviceKey, { after: back.seqs.at(-1)!, epoch: back.channel.welcome.epoch });
  await gap.channel.request({ t: 'ping', at: 1 });
  assert.deepEqual(
    gap.resyncs.map((r) => [r.reason, r.sessions, r.permissions.map((p) => p.requestId)]),
    [['gap', ['ses_a'], ['per_a', 'per_a2']]],
  );
  assert.deepEqual(gap.events, []);
});

test('a device without approve never hears of a permission request: not live, not in a replay, not in a resync', { timeout: 60_000 }, async () => {
  const { h, runtime } = await twoWorkspaceHost();
  const approver = await pairDevice(h.relay, h.url);
  const reader = await pairDevice(h.relay, h.url, ['read', 'run']);
  runtime.emit(asked('per_a', 'ses_a'));
  runtime.emit(idle('ses_a'));
  await Promise.all([approver.channel, reader.channel].map((c) => c.request({ t: 'ping', at: 1 })));
  assert.deepEqual(about(approver.events), ['ses_a:permission.asked', 'ses_a:session.idle']);
  assert.deepEqual(about(reader.events), ['ses_a:session.idle'], 'it still sees the session');

  reader.channel.close();
  runtime.emit(asked('per_b', 'ses_b'));
  runtime.emit(idle('ses_b'));
  const replayed = await reconnect(h.relay, h.url, reader.deviceKey, { after: reader.seqs.at(-1)!, epoch: reader.channel.welcome.epoch });
  await replayed.channel.request({ t: 'ping', at: 1 });
  assert.equal(replayed.channel.welcome.resumed, true);
  assert.deepEqual(about(replayed.events), ['ses_b:session.idle']);

  const fresh = await reconnect(h.relay, h.url, reader.deviceKey);
  const again = await reconnect(h.relay, h.url, approver.deviceKey);
  assert.deepEqual(
    fresh.resyncs.map((r) => r.permissions),
    [[]],
  );
  assert.deepEqual(
    again.resyncs.map((r) => r.permissions.map((p) => p.requestId)),
    [['per_a', 'per_b']],
    "the approver's resync lists them",
  );
});

test('metrics.get answers a device with the read scope alone', { timeout: 60_000 }, async () => {
  const h = await startRelayHost({ dataDir: tempDir(), runtime: recordingRuntime(), runtimeStatus: () => ({ state: 'restarting' }) });
  cleanups.push(() => h.stop());
  const { channel } = await pairDevice(h.relay, h.url, ['read']);
  const snapshot = (await channel.request({ t: 'metrics.get' })) as { enabled: boolean; counters: Record<string, { total: number }>; daily: unknown[] };
  assert.equal(snapshot.enabled, true);
  assert.ok(snapshot.counters.connections_opened_total!.total >= 1, 'its own connection is counted');
  assert.equal(snapshot.daily.length, 14);
});

// ---- connection metrics -----------------------------------------------------------------------

/** Polls until `probe` holds (the host counts a socket's end when uWS reports it). */
async function until(what: string, probe: () => boolean): Promise<void> {
  for (let i = 0; i < 600; i++) {
    if (probe()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.fail(`timed out waiting for ${what}`);
}

test('connection counters move on connect, reconnect, resume gap and each failure kind, and survive a host restart', { timeout: 120_000 }, async () => {
  const dataDir = tempDir();
  const first = await startRelayHost({ dataDir, runtime: recordingRuntime(), idleTimeoutSec: 8 });
  let running = true;
  cleanups.push(() => (running ? first.stop() : undefined));
  const counters = () => first.metrics.snapshot().counters;
  const failures = () => Object.fromEntries(counters().connection_failures_total.series.map((x) => [x.labels.reason, x.value]));

  const { channel, deviceKey } = await pairDevice(first.relay, first.url);
  channel.close();
  const resumed = await reconnect(first.relay, first.url, deviceKey, { after: 0, epoch: channel.welcome.epoch });
  assert.equal(resumed.channel.welcome.resumed, true);
  resumed.channel.close();
  const stale = await reconnect(first.relay, first.url, deviceKey, { after: 0, epoch: 'another-run' });
  stale.channel.close();
  assert.equal(counters().connections_opened_total.total, 3);
  assert.equal(counters().reconnects_total.total, 2);
  assert.deepEqual(counters().resume_gaps_total.series, [{ labels: { reason: 'restart' }, value: 1 }]);

  // A device that vanishes (its socket dies without a close frame) and one that stops answering pings.
  const gone = await openSocket(first.url);
  await connect({ socket: gone, hostKey: first.relay.identity.publicKey, deviceKey, name: 'gone', platform: 'node-test' });
  gone.terminate();
  await until('the vanished device to be counted', () => failures()['connection.lost'] === 1);
  const silent = await new Promise<WebSocket>((resolve, reject) => {
    const ws = new WebSocket(first.url, { autoPong: false });
    ws.binaryType = 'arraybuffer';
    ws.once('open', () => resolve(ws)).once('error', reject);
  });
  await connect({ socket: silent, hostKey: first.relay.identity.publicKey, deviceKey, name: 'silent', platform: 'node-test' });
  await until('the silent device to be dropped (idle timeout)', () => failures()['connection.lost'] === 2);

  await assert.rejects(reconnect(first.relay, first.url, generateKeyPair()), (err: { code?: string }) => err.code === 'device.unknown');
  /** The close reason the host answers one raw first message with. */
  const refusedWith = async (data: Uint8Array | string) => {
    const socket = await openSocket(first.url);
    const { closed } = record(socket);
    socket.send(data);
    return (await closed).reason;
  };
  assert.match(await refusedWith(Uint8Array.of(MODE.reconnect, ...new Uint8Array(96))), /^handshake\.failed/);
  assert.match(await refusedWith('{"t":"sessions.list"}'), /^protocol\.invalid: text messages/);
  first.relay.devices.revoke(channel.welcome.deviceId);
  await assert.rejects(reconnect(first.relay, first.url, deviceKey), (err: { code?: string }) => err.code === 'device.revoked');
  await assert.rejects(
    pair({
      socket: await openSocket(first.url),
      offer: { ...offerFromLink(parsePairLink(first.relay.newOffer().link)), offerId: 'no-such-offer' },
      deviceKey,
      name: 'late',
      platform: 'node-test',
    }),
    (err: { code?: string }) => err.code === 'pair.unknown',
  );

  const expected = { 'connection.lost': 2, 'device.unknown': 1, 'handshake.failed': 1, 'protocol.invalid': 1, 'device.revoked': 1 };
  assert.deepEqual(failures(), expected, 'a refused pairing is a pairing outcome, not a connection failure');
  const before = counters();
  assert.equal(before.connections_opened_total.total, 10);
  assert.equal(before.pairing_attempts_total.series.find((x) => x.labels.outcome === 'unknown')?.value, 1);

  await first.stop();
  running = false;
  const second = await startRelayHost({ dataDir, runtime: recordingRuntime() });
  cleanups.push(() => second.stop());
  const after = second.metrics.snapshot().counters;
  for (const name of ['connections_opened_total', 'reconnects_total', 'resume_gaps_total', 'connection_failures_total'] as const) {
    assert.deepEqual(after[name], before[name], `${name} survived the restart`);
  }
  const text2 = second.metrics.prometheus();
  assert.match(text2, /^openwork_connections_opened_total 10$/m);
  assert.match(text2, /^openwork_connection_failures_total\{reason="connection\.lost"\} 2$/m);
  assert.match(text2, /^openwork_resume_gaps_total\{reason="restart"\} 1$/m);
});

test('a device still waiting for approval cannot use the smuggling routes either', { timeout: 60_000 }, async () => {
  const runtime = recordingRuntime();
  const h = await startRelayHost({ dataDir: tempDir(), runtime });
  cleanups.push(() => h.stop());
  const offer = offerFromLink(parsePairLink(h.relay.newOffer().link));
  const raw = await rawConnect(await openSocket(h.url), {
    mode: MODE.pair,
    deviceKey: generateKeyPair(),
    hostKey: offer.hostKey,
    psk: pairingPsk(offer.secret),
    hello: { offer: offer.offerId },
  });
  assert.equal((await raw.next()).t, 'pair.pending');
  for (const [i, id] of SMUGGLED_IDS.entries()) {
    raw.send({ t: 'session.messages', id: `r${i}`, sessionId: id });
    const answer = await raw.nextOf('result');
    assert.equal(!answer.ok && answer.error.code, 'protocol.invalid');
  }
  assert.deepEqual(runtime.calls, []);
});

// ---- the permission policy with the real runtime ------------------------------------------

interface PolicyHost {
  host: Host;
  sb: RuntimeSandbox;
  url: string;
}

/** The real host and runtime; `config` is written to <data-dir>/config.json first. */
async function policyHost(sb: RuntimeSandbox, config: unknown): Promise<PolicyHost> {
  const dataDir = tempDir();
  writeFileSync(join(dataDir, 'config.json'), JSON.stringify(config));
  const args = ['--port', '0', '--bind', '127.0.0.1', '--data-dir', dataDir, '--workspace', sb.workspace];
  const parsed = parseConfig(args, {});
  if (!parsed.ok) throw new Error(parsed.errors.join('\n'));
  const host = await startHost({ config: parsed.config, log: testLogger(), runtimeEnv: sb.env });
  cleanups.push(() => host.close());
  await host.runtime.ready;
  await host.runtime.bridge.subscribed();
  return { host, sb, url: `ws://127.0.0.1:${host.port}/relay` };
}

/** Sets every sensitive kind in the workspace's own opencode.json, for its agent too, for the policy to override. */
function setOpencodePermission(dir: string, action: 'allow' | 'ask'): void {
  const file = join(dir, 'opencode.json');
  const config = JSON.parse(readFileSync(file, 'utf8'));
  config.permission = { bash: action, edit: action, webfetch: action, external_directory: action };
  config.agent = { build: { permission: { bash: action, edit: action } } };
  writeFileSync(file, JSON.stringify(config, null, 2));
}

test("bash asks under the host's policy although the workspace's opencode.json (and its agent) allow it", REAL, async () => {
  const sb = await sandbox();
  setOpencodePermission(sb.workspace, 'allow');
  const { host, url } = await policyHost(sb, {});
  const { channel, waitFor } = await pairDevice(host.relay, url);
  const session = { id: (await channel.request({ t: 'session.create', title: 'guarded' })).sessionId };
  await channel.request({ t: 'task.submit', taskId: 'guarded-1', sessionId: session.id, text: 'go [bash:echo guarded]' });
  const asked = await waitFor('permission.asked', (e) => e.sessionId === session.id);
  assert.equal(asked.permission, 'bash');
  assert.deepEqual(asked.patterns, ['echo guarded']);
  await channel.request({ t: 'permission.reply', requestId: asked.requestId, reply: 'once' });
  await waitFor('tool.updated', (e) => e.sessionId === session.id && e.status === 'completed' && /guarded/.test(e.output ?? ''));
});

test('a workspace\'s "allow" in config.json runs bash at once, although its opencode.json says "ask"', REAL, async () => {
  const sb = await sandbox();
  setOpencodePermission(sb.workspace, 'ask');
  const { host, url } = await policyHost(sb, { permission: { bash: 'deny' }, workspaces: { [sb.workspace]: { permission: { bash: 'allow' } } } });
  const { channel, waitFor, events } = await pairDevice(host.relay, url);
  const session = { id: (await channel.request({ t: 'session.create', title: 'trusted' })).sessionId };
  await channel.request({ t: 'task.submit', taskId: 'trusted-1', sessionId: session.id, text: 'go [bash:echo trusted]' });
  await waitFor('tool.updated', (e) => e.sessionId === session.id && e.status === 'completed' && /trusted/.test(e.output ?? ''));
  assert.equal(events.filter((e) => e.type === 'permission.asked').length, 0, 'nobody was asked');
});

test('"allow for this session" lasts for its session only: a second session asks again', REAL, async () => {
  const sb = await sandbox();
  const { host, url } = await policyHost(sb, {});
  const { channel, waitFor, events } = await pairDevice(host.relay, url);
  const first = { id: (await channel.request({ t: 'session.create', title: 'first' })).sessionId };
  await channel.request({ t: 'task.submit', taskId: 's1-1', sessionId: first.id, text: 'go [bash:echo granted]' });
  const asked = await waitFor('permission.asked', (e) => e.sessionId === first.id);
  await channel.request({ t: 'permission.reply', requestId: asked.requestId, reply: 'session' });
  await waitFor('session.idle', (e) => e.sessionId === first.id);
  await channel.request({ t: 'task.submit', taskId: 's1-2', sessionId: first.id, text: 'again [bash:echo granted]' });
  await waitFor('tool.updated', (e) => e.sessionId === first.id && e.status === 'completed' && e.callId !== asked.tool?.callId);
  assert.equal(events.filter((e) => e.type === 'permission.asked' && e.sessionId === first.id).length, 1, 'the grant covered the second command');

  const second = { id: (await channel.request({ t: 'session.create', title: 'second' })).sessionId };
  await channel.request({ t: 'task.submit', taskId: 's2-1', sessionId: second.id, text: 'go [bash:echo granted]' });
  const again = await waitFor('permission.asked', (e) => e.sessionId === second.id);
  assert.equal(again.permission, 'bash');
  assert.deepEqual(again.patterns, asked.patterns, 'the same command asks again in a new session');
  await channel.request({ t: 'permission.reply', requestId: again.requestId, reply: 'reject' });
});

test('a question nobody answers is denied after permissionTimeoutSeconds; the task says why; metrics count a timeout', REAL, async () => {
  const sb = await sandbox();
  const { host, url } = await policyHost(sb, { permissionTimeoutSeconds: 1 });
  const { channel, waitFor } = await pairDevice(host.relay, url);
  const session = { id: (await channel.request({ t: 'session.create', title: 'unanswered' })).sessionId };
  await channel.request({ t: 'task.submit', taskId: 'late-1', sessionId: session.id, text: 'go [bash:echo never-runs]' });
  const submitted = Date.now();
  const asked = await waitFor('permission.asked', (e) => e.sessionId === session.id);
  assert.ok(
    asked.deadline !== undefined && asked.deadline >= submitted + 1000 && asked.deadline <= Date.now() + 1000,
    `the question carries the host's deadline (${asked.deadline})`,
  );
  const replied = await waitFor('permission.replied', (e) => e.requestId === asked.requestId);
  assert.equal(replied.reply, 'reject');
  assert.equal(replied.by, 'timeout', 'the answer says the host timed it out');
  const tool = await waitFor('tool.updated', (e) => e.callId === asked.tool?.callId && e.status === 'error');
  assert.match(tool.error ?? '', /No one answered within 1 second, so the host denied it/);
  assert.doesNotMatch(tool.output ?? '', /never-runs/);
  await waitFor('session.idle', (e) => e.sessionId === session.id);
  const answers = host.metrics.snapshot().counters.permission_answers_total.series;
  assert.deepEqual(answers, [{ labels: { answer: 'timeout' }, value: 1 }], 'counted once, as a timeout');
  assert.match(host.metrics.prometheus(), /^openwork_permission_answers_total\{answer="timeout"\} 1$/m);
});

test('a broken config.json stops the start with the file, the key and the fix', { timeout: 30_000 }, async () => {
  const dataDir = tempDir();
  writeFileSync(join(dataDir, 'config.json'), JSON.stringify({ permission: { bash: 'sometimes' } }));
  const parsed = parseConfig(['--port', '0', '--bind', '127.0.0.1', '--data-dir', dataDir, '--opencode-url', 'http://127.0.0.1:9'], {});
  if (!parsed.ok) throw new Error(parsed.errors.join('\n'));
  await assert.rejects(startHost({ config: parsed.config, log: testLogger() }), (err: Error) => {
    assert.match(err.message, new RegExp(`^${join(dataDir, 'config.json')} has a problem:\\n  - permission\\.bash is "sometimes": use "ask", "allow" or "deny"`));
    return true;
  });
});
