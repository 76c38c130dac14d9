/**
 * OpenCode's own clients through the host (host/compat/), against the REAL runtime with the fake
 * model: the `opencode` binary (`run --attach`) and `@opencode-ai/sdk`, signing in with computers'
 * credentials made the way `npm start -- pair --computer` makes them. One host and one runtime
 * (two workspaces) serve every case; the runtime sits behind a recording proxy, so what the layer
 * refuses can be shown never to have reached it.
 */
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { createOpencodeClient } from '@opencode-ai/sdk';
import { startHost, type Host } from '../host/app.ts';
import { requestComputer } from '../host/admin/control.ts';
import { runDeviceCommand } from '../host/cli/devices.ts';
import type { ComputerCredential } from '../host/compat/computers.ts';
import { parseConfig } from '../host/config.ts';
import { startRuntime } from '../host/runtime/start.ts';
import { PROJECT_ROOT } from '../host/paths.ts';
import { fileCleanup } from './fixtures/cleanup.ts';
import { recordingProxy, type Recorded } from './fixtures/recording-proxy.ts';
import { createRuntimeSandbox, testLogger, type RuntimeSandbox } from './fixtures/runtime.ts';
import { TOOL_DONE_TEXT, scriptedText } from './fixtures/fake-model.ts';
import { until } from './fixtures/poll.ts';

const REAL = { timeout: 180_000 };
const { cleanups, tempDir } = fileCleanup('relay-compat-');
const OPENCODE = join(PROJECT_ROOT, 'node_modules', '.bin', 'opencode');

let host: Host;
let sb: RuntimeSandbox;
let other: string;
let dataDir: string;
let base: string;
let seen: Recorded[];

before(async () => {
  sb = await createRuntimeSandbox();
  cleanups.push(() => sb.dispose());
  other = await sb.addWorkspace('other');
  const runtime = startRuntime({ log: testLogger(), workspaces: [sb.workspace, other], env: sb.env });
  cleanups.push(() => runtime.stop());
  const { url } = await runtime.ready;
  const proxy = await recordingProxy(url!, runtime.supervisor.password, cleanups);
  seen = proxy.seen;
  dataDir = tempDir();
  const parsed = parseConfig(['--port', '0', '--bind', '127.0.0.1', '--workspace', sb.workspace, '--workspace', other, '--data-dir', dataDir, '--opencode-url', proxy.url], {});
  if (!parsed.ok) throw new Error(parsed.errors.join('\n'));
  host = await startHost({ config: parsed.config, log: testLogger() });
  cleanups.push(() => host.close());
  await host.runtime.ready;
  await host.runtime.bridge.subscribed();
  base = `http://127.0.0.1:${host.port}/opencode`;
});

/** A credential made through the running host's control channel, as `pair --computer` does. */
async function computer(name: string, limits: { scopes?: string; workspaces?: string[] } = {}): Promise<ComputerCredential> {
  const made = await requestComputer<ComputerCredential>(dataDir, name);
  assert.ok(made, 'the running host made a credential');
  const io = { out: () => {}, err: (t: string) => assert.fail(t) };
  if (limits.scopes) assert.equal(runDeviceCommand('device-scopes', [made.deviceId, limits.scopes], dataDir, io), 0);
  if (limits.workspaces) assert.equal(runDeviceCommand('device-workspaces', [made.deviceId, ...limits.workspaces], dataDir, io), 0);
  // The running host reads the device file on its own within a second; do not wait for it.
  host.relay.devices.reload();
  return made;
}

const basic = (c: Pick<ComputerCredential, 'deviceId' | 'secret'>) => `Basic ${Buffer.from(`${c.deviceId}:${c.secret}`).toString('base64')}`;

function call(c: Pick<ComputerCredential, 'deviceId' | 'secret'>, method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  return fetch(`${base}${path}`, {
    method,
    headers: { authorization: basic(c), ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
}

/** Runs the stock `opencode` binary with the sandbox's home; resolves with its output. */
function opencode(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(OPENCODE, args, { cwd: tempDir(), env: { ...process.env, ...sb.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

test("opencode run --attach runs a task through the host and prints the fake model's answer", REAL, async () => {
  const c = await computer('laptop');
  const result = await opencode(['run', '--attach', base, '-u', c.deviceId, '-p', c.secret, 'hello [text:4]']);
  assert.equal(result.code, 0, result.stderr);
  assert.ok(result.stdout.includes(scriptedText(4).trim()), `the answer was printed: ${JSON.stringify(result.stdout)} ${result.stderr}`);
  assert.ok(!seen.some((r) => r.query.has('auth_token')), "nothing but the host's own password reached the runtime");
});

test('a permission asked in an attached task is answered through the layer', REAL, async () => {
  const c = await computer('approver');
  const before = seen.length;
  const result = await opencode(['run', '--attach', base, '-u', c.deviceId, '-p', c.secret, '--auto', 'please [bash:echo compat-bash-ok]']);
  assert.equal(result.code, 0, result.stderr);
  assert.ok(result.stdout.includes(TOOL_DONE_TEXT), `the task finished after the tool ran: ${result.stdout} ${result.stderr}`);
  const replies = seen.slice(before).filter((r) => r.method === 'POST' && /^\/permission\/[^/]+\/reply$/.test(r.path));
  assert.equal(replies.length, 1, "the answer reached the runtime through the host's permission record");
});

test('@opencode-ai/sdk lists sessions, follows the event stream and answers "always" as a grant for that session only', REAL, async () => {
  const c = await computer('sdk');
  const client = createOpencodeClient({ baseUrl: base, headers: { authorization: basic(c) } });
  const listed = await client.session.list();
  assert.equal(listed.response.status, 200);
  assert.ok(Array.isArray(listed.data));

  const events = await client.event.subscribe();
  const seenTypes: string[] = [];
  const asked: Array<{ id: string }> = [];
  let idle = false;
  const following = (async () => {
    for await (const e of events.stream as AsyncIterable<{ type: string; properties: Record<string, unknown> }>) {
      seenTypes.push(e.type);
      if (e.type === 'permission.asked' || e.type === 'permission.updated') asked.push(e.properties as { id: string });
      if (e.type === 'session.idle') idle = true;
    }
  })();
  const session = await client.session.create({ body: { title: 'from the sdk' } });
  assert.equal(session.response.status, 200);
  const sessionId = session.data!.id;
  await client.session.promptAsync({ path: { id: sessionId }, body: { parts: [{ type: 'text', text: 'first [bash:echo always-1]' }] } });
  await until('the permission request on the event stream', () => asked.length > 0, 60_000);
  const answered = await call(c, 'POST', `/permission/${asked[0]!.id}/reply`, { reply: 'always' });
  assert.equal(answered.status, 200, await answered.clone().text());
  await until('the session went idle', () => idle, 60_000);
  assert.ok(seenTypes.includes('server.connected') && seenTypes.includes('message.part.updated'), seenTypes.join(','));
  assert.deepEqual(host.relay.permissions.granted(sessionId), { bash: ['echo *'] }, 'a grant the host keeps for that session');

  // The same command again in that session: the host answers it, nobody is asked.
  idle = false;
  const askedBefore = asked.length;
  await client.session.promptAsync({ path: { id: sessionId }, body: { parts: [{ type: 'text', text: 'again [bash:echo always-2]' }] } });
  await until('the second turn ended', () => idle, 60_000);
  const messages = await client.session.messages({ path: { id: sessionId } });
  const outputs = JSON.stringify(messages.data);
  assert.ok(outputs.includes('always-2'), 'the second command ran');
  assert.ok(asked.length >= askedBefore, 'events still flow');
  (events.stream as AsyncGenerator).return?.(undefined);
  await following.catch(() => {});
});

test('a read-only credential reads but cannot prompt; its refusals never reach the runtime', REAL, async () => {
  const full = await computer('writer');
  const made = (await (await call(full, 'POST', '/session', { title: 'for the reader' })).json()) as { id: string };
  const reader = await computer('reader', { scopes: 'read' });
  assert.equal((await call(reader, 'GET', '/session')).status, 200);
  assert.equal((await call(reader, 'GET', `/session/${made.id}/message`)).status, 200);
  const before = seen.length;
  for (const [method, path, body] of [
    ['POST', `/session/${made.id}/prompt_async`, { parts: [{ type: 'text', text: 'no' }] }],
    ['POST', `/session/${made.id}/message`, { parts: [{ type: 'text', text: 'no' }] }],
    ['POST', '/session', {}],
    ['POST', `/session/${made.id}/abort`, {}],
    ['POST', '/permission/per_x/reply', { reply: 'once' }],
  ] as const) {
    const res = await call(reader, method, path, body);
    assert.equal(res.status, 403, `${method} ${path}`);
    assert.match(((await res.json()) as { error: string }).error, /lacks the "(run|approve)" scope/);
  }
  assert.deepEqual(
    seen.slice(before).filter((r) => r.method === 'POST'),
    [],
    'no refused request reached the runtime',
  );
});

test('a workspace-limited credential sees only its workspace', REAL, async () => {
  const full = await computer('everywhere');
  const inMain = (await (await call(full, 'POST', '/session', { title: 'main workspace' })).json()) as { id: string; directory: string };
  assert.equal(inMain.directory, sb.workspace);
  const limited = await computer('limited', { workspaces: [other] });

  // Without a directory its own workspace is named for it.
  const mine = (await (await call(limited, 'POST', '/session', { title: 'other workspace' })).json()) as { id: string; directory: string };
  assert.equal(mine.directory, other);
  const listed = (await (await call(limited, 'GET', '/session')).json()) as Array<{ id: string }>;
  assert.ok(listed.some((s) => s.id === mine.id) && !listed.some((s) => s.id === inMain.id), 'its own sessions only');

  const before = seen.length;
  assert.equal((await call(limited, 'GET', `/session?directory=${encodeURIComponent(sb.workspace)}`)).status, 403);
  assert.equal((await call(limited, 'GET', '/session', undefined, { 'x-opencode-directory': encodeURIComponent(sb.workspace) })).status, 403);
  assert.equal((await call(limited, 'GET', `/session/${inMain.id}/message`)).status, 403);
  assert.equal((await call(limited, 'POST', `/session/${inMain.id}/prompt_async`, { parts: [{ type: 'text', text: 'x' }] })).status, 403);
  assert.equal((await call(limited, 'GET', '/file/content?path=../workspace/opencode.json')).status, 403);
  assert.ok(!seen.slice(before).some((r) => r.path.includes(inMain.id) || r.query.get('directory') === sb.workspace || r.path === '/file/content'), 'none reached the runtime');

  // Its workspace's stream and the all-workspace stream carry only its workspace's events.
  const streams = await Promise.all(['/event', '/global/event'].map(async (path) => collect(await call(limited, 'GET', path))));
  // An unlimited credential's stream shows both turns: the limited one's lacks one by filtering, not timing.
  const unlimited = collect(await call(full, 'GET', '/global/event'));
  await until('the streams connected', () => [...streams, unlimited].every((s) => s.text().includes('server.connected')), 30_000);
  await call(full, 'POST', `/session/${inMain.id}/prompt_async`, { parts: [{ type: 'text', text: 'main [text:2]' }] });
  await call(limited, 'POST', `/session/${mine.id}/prompt_async`, { parts: [{ type: 'text', text: 'other [text:2]' }] });
  await until(
    "both sessions' events on an unlimited stream",
    () => unlimited.text().includes(`"sessionID":"${inMain.id}"`) && unlimited.text().includes(`"sessionID":"${mine.id}"`),
    60_000,
  );
  for (const stream of streams) {
    await until("its own session's events", () => stream.text().includes(mine.id) && stream.text().includes('session.idle'), 60_000);
    assert.ok(!stream.text().includes(inMain.id), "no event of the other workspace's session");
    assert.ok(!stream.text().includes(`"${sb.workspace}"`), 'not even its directory');
    await stream.stop();
  }
  await unlimited.stop();
});

/** Reads an event stream's text as it comes. */
function collect(res: Response): { text(): string; stop(): Promise<void> } {
  assert.equal(res.status, 200);
  const reader = res.body!.getReader();
  let text = '';
  const reading = (async () => {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      text += new TextDecoder().decode(value);
    }
  })();
  return {
    text: () => text,
    async stop() {
      await reader.cancel();
      await reading.catch(() => {});
    },
  };
}

test('the shell, terminals, configuration writes, /auth, dispose and experimental routes answer 403 and never reach the runtime', REAL, async () => {
  const c = await computer('curious');
  const session = (await (await call(c, 'POST', '/session', { title: 'blocked' })).json()) as { id: string };
  const before = seen.length;
  const blocked: Array<[string, string, unknown?]> = [
    ['POST', `/session/${session.id}/shell`, { agent: 'build', command: 'echo pwned' }],
    ['GET', '/pty'],
    ['POST', '/pty', { command: 'bash' }],
    ['PATCH', '/config', { permission: { bash: 'allow' } }],
    ['PATCH', `/session/${session.id}`, { permission: [{ permission: 'bash', pattern: '*', action: 'allow' }] }],
    ['PUT', '/auth/anthropic', { type: 'api', key: 'x' }],
    ['POST', '/global/dispose', {}],
    ['POST', '/instance/dispose', {}],
    ['GET', '/experimental/tool/ids'],
    ['GET', '/doc'],
    ['GET', '/session/../pty'],
  ];
  for (const [method, path, body] of blocked) {
    const res = await call(c, method, path, body);
    assert.equal(res.status, 403, `${method} ${path}`);
    assert.match(((await res.json()) as { error: string }).error, /not available through OpenWork Relay/);
  }
  const reached = seen.slice(before).filter((r) => /shell|pty|dispose|experimental|^\/auth|doc/.test(r.path) || r.method === 'PATCH' || r.method === 'PUT');
  assert.deepEqual(reached, [], 'none reached the runtime');
  const scraped = host.metrics.prometheus();
  const value = (labels: string) => Number(new RegExp(`^openwork_compat_requests_total\\{${labels}\\} (\\d+)$`, 'm').exec(scraped)?.[1] ?? 0);
  assert.ok(value('route="unlisted",status="403"') >= blocked.length, scraped);
  assert.ok(value('route="POST /session",status="200"') >= 1, scraped);
});

test('a revoked credential is refused at once, also on an open event stream', REAL, async () => {
  const c = await computer('stolen');
  const stream = await call(c, 'GET', '/event');
  assert.equal(stream.status, 200);
  const reader = stream.body!.getReader();
  const first = await reader.read();
  assert.match(new TextDecoder().decode(first.value), /server\.connected/);
  const io = { out: () => {}, err: (t: string) => assert.fail(t) };
  assert.equal(runDeviceCommand('revoke', [c.deviceId], dataDir, io), 0);
  // The running host notices the file change by itself (it watches it every 500 ms). The runtime's
  // heartbeat comes every 10 s: a stream that ended only with the next event would take longer.
  const ended = await Promise.race([
    (async () => {
      for (;;) if ((await reader.read()).done) return true;
    })(),
    new Promise<false>((r) => setTimeout(() => r(false), 3000)),
  ]);
  assert.equal(ended, true, 'the open event stream ended within 3 s');
  const again = await call(c, 'GET', '/session');
  assert.equal(again.status, 401);
  assert.match(((await again.json()) as { error: string }).error, /removed or wrong credential/);
});

test('a wrong secret or no credential is refused with 401', REAL, async () => {
  const c = await computer('typo');
  assert.equal((await call({ ...c, secret: `${c.secret}x` }, 'GET', '/session')).status, 401);
  const bare = await fetch(`${base}/session`);
  assert.equal(bare.status, 401);
  assert.match(bare.headers.get('www-authenticate') ?? '', /^Basic/);
});
