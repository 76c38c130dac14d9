/**
 * Supervisor behaviour against a stand-in `opencode` (a small Node script that prints the same
 * listening line and serves the health route), so crashes, hangs and restarts are quick to
 * provoke. The real runtime is covered by e2e/runtime.test.ts.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '../log.ts';
import { createRuntimeSupervisor, withPlugin, type RuntimeState, type RuntimeSupervisorOptions } from './supervisor.ts';

const FAKE_OPENCODE = `
import { createServer } from 'node:http';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
const mode = process.env.FAKE_MODE ?? 'ok';
if (process.env.FAKE_INFO) {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => k.startsWith('OPENCODE_') || k.startsWith('FAKE_')));
  writeFileSync(process.env.FAKE_INFO, JSON.stringify({ argv: process.argv.slice(2), cwd: process.cwd(), env }));
}
if (mode === 'crash') { console.error('boom: bad config'); process.exit(3); }
if (process.env.FAKE_CHILD_PIDFILE) {
  const child = spawn('sleep', ['1000'], { stdio: 'ignore' });
  writeFileSync(process.env.FAKE_CHILD_PIDFILE, String(child.pid));
}
if (process.env.FAKE_DETACHED_PIDFILE) {
  // As OpenCode starts the agent's commands: in a process group of their own.
  const child = spawn('sleep', ['1000'], { stdio: 'ignore', detached: true });
  writeFileSync(process.env.FAKE_DETACHED_PIDFILE, String(child.pid));
}
if (process.env.FAKE_IGNORE_TERM) process.on('SIGTERM', () => {});
const expected = 'Basic ' + Buffer.from('opencode:' + process.env.OPENCODE_SERVER_PASSWORD).toString('base64');
let answered = 0;
const server = createServer((req, res) => {
  if (mode === 'hang') return;
  if (req.headers.authorization !== expected) return res.writeHead(401).end();
  if (mode === 'sick-later' && answered++ > 0) return res.writeHead(503).end();
  res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ healthy: true, version: '0.0.0-fake' }));
});
server.listen(0, '127.0.0.1', () => console.log('opencode server listening on http://127.0.0.1:' + server.address().port));
`;

let dir: string;
let binary: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'relay-supervisor-'));
  await writeFile(join(dir, 'fake-opencode.mjs'), FAKE_OPENCODE);
  binary = join(dir, 'opencode');
  await writeFile(binary, `#!/bin/sh\nexec "${process.execPath}" "${join(dir, 'fake-opencode.mjs')}" "$@"\n`);
  await chmod(binary, 0o755);
});

after(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A supervisor with quick timings, stopped when the test ends. */
function supervise(t: { after(fn: () => Promise<void>): void }, env: Record<string, string>, extra: Partial<RuntimeSupervisorOptions> = {}) {
  const supervisor = createRuntimeSupervisor({
    log: silentLogger,
    workspaces: [dir],
    binary,
    env,
    startTimeoutMs: 10_000,
    pollIntervalMs: 100,
    backoffInitialMs: 20,
    backoffMaxMs: 200,
    maxFailures: 3,
    stopGraceMs: 2000,
    ...extra,
  });
  t.after(() => supervisor.stop());
  return supervisor;
}

function nextState(supervisor: { onState(l: (s: RuntimeState) => void): () => void }, match: (s: RuntimeState) => boolean): Promise<RuntimeState> {
  return new Promise((resolve) => {
    const off = supervisor.onState((s) => {
      if (!match(s)) return;
      off();
      resolve(s);
    });
  });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function gone(pid: number): Promise<boolean> {
  for (let i = 0; i < 100 && alive(pid); i++) await new Promise((r) => setTimeout(r, 50));
  return !alive(pid);
}

test('starts the runtime in the workspace with a password and the privacy flags', async (t) => {
  const info = join(dir, 'info-start.json');
  const supervisor = supervise(t, { FAKE_INFO: info, OPENCODE_DISABLE_MODELS_FETCH: '1' });
  assert.equal(supervisor.state.status, 'starting');
  const ready = await supervisor.start();
  assert.equal(ready.status, 'ready');
  assert.equal(ready.version, '0.0.0-fake');
  assert.match(ready.url!, /^http:\/\/127\.0\.0\.1:\d+$/);
  assert.ok(ready.pid && alive(ready.pid));

  const seen = JSON.parse(await readFile(info, 'utf8'));
  assert.deepEqual(seen.argv.slice(0, 5), ['serve', '--hostname', '127.0.0.1', '--port', '0']);
  assert.equal(seen.cwd, dir);
  assert.equal(seen.env.OPENCODE_SERVER_PASSWORD, supervisor.password);
  assert.equal(seen.env.OPENCODE_SERVER_USERNAME, 'opencode');
  assert.ok((supervisor.password ?? '').length >= 40, 'a 32-byte random password');
  assert.equal(seen.env.OPENCODE_DISABLE_AUTOUPDATE, '1');
  assert.equal(seen.env.OPENCODE_DISABLE_SHARE, '1');
  assert.equal(seen.env.OPENCODE_DISABLE_MODELS_FETCH, '1', 'caller env is passed on');
  assert.match(JSON.parse(seen.env.OPENCODE_CONFIG_CONTENT).plugin[0], /^file:\/\/.*\/scrub-credentials\.js$/, 'with the plugin that scrubs the password');
});

test('the scrubbing plugin joins the plugins of the inline configuration one has; a broken one is named', () => {
  assert.deepEqual(JSON.parse(withPlugin('{"plugin":["mine"],"model":"m"}', 'file:///x.js')), { plugin: ['mine', 'file:///x.js'], model: 'm' });
  assert.deepEqual(JSON.parse(withPlugin(undefined, 'file:///x.js')), { plugin: ['file:///x.js'] });
  assert.throws(() => withPlugin('{nope', 'file:///x.js'), /OPENCODE_CONFIG_CONTENT is not valid JSON .*: fix it or unset it/);
});

test('restarts a runtime that was killed, with a new pid', async (t) => {
  const supervisor = supervise(t, {});
  const first = await supervisor.start();
  const states: RuntimeState[] = [];
  supervisor.onState((s) => states.push(s));
  const back = nextState(supervisor, (s) => s.status === 'ready');
  process.kill(first.pid!, 'SIGKILL');
  const ready = await back;
  assert.notEqual(ready.pid, first.pid);
  assert.equal(ready.restarts, 1);
  const restarting = states.find((s) => s.status === 'restarting');
  assert.match(restarting?.lastError ?? '', /killed by SIGKILL/);
});

test('a runtime that stops answering its health checks is killed and replaced', async (t) => {
  const supervisor = supervise(t, { FAKE_MODE: 'sick-later' });
  const first = await supervisor.start();
  const restarting = await nextState(supervisor, (s) => s.status === 'restarting');
  assert.match(restarting.lastError ?? '', /stopped answering health checks/);
  assert.ok(await gone(first.pid!), 'the sick runtime was killed');
});

test('goes failed after repeated crashes, with the runtime output in lastError, and keeps trying', async (t) => {
  const supervisor = supervise(t, { FAKE_MODE: 'crash' });
  await assert.rejects(supervisor.start(), /exited with code 3[\s\S]*boom: bad config/);
  assert.equal(supervisor.state.status, 'failed');
  const restarts = supervisor.state.restarts;
  assert.ok(restarts >= 2, 'it retried before giving the failed state');
  await nextState(supervisor, (s) => s.restarts > restarts);
});

test('a start that never becomes healthy times out', async (t) => {
  const supervisor = supervise(t, { FAKE_MODE: 'hang' }, { startTimeoutMs: 1500, healthTimeoutMs: 200, maxFailures: 1 });
  await assert.rejects(supervisor.start(), /did not become ready within 1500 ms/);
});

test('a missing binary is a clear failure', async (t) => {
  const supervisor = supervise(t, {}, { binary: join(dir, 'no-such-opencode'), maxFailures: 1 });
  await assert.rejects(supervisor.start(), /could not be started.*ENOENT/);
});

test('stop ends the whole process group, even when SIGTERM is ignored', async (t) => {
  const pidfile = join(dir, 'child.pid');
  const supervisor = supervise(t, { FAKE_CHILD_PIDFILE: pidfile, FAKE_IGNORE_TERM: '1' }, { stopGraceMs: 300 });
  const ready = await supervisor.start();
  const grandchild = Number(await readFile(pidfile, 'utf8'));
  assert.ok(alive(grandchild));
  await supervisor.stop();
  assert.equal(supervisor.state.status, 'stopped');
  assert.ok(await gone(ready.pid!), 'the runtime is gone');
  assert.ok(await gone(grandchild), 'what it started is gone too');
});

test('stop also ends what the runtime started in a process group of its own', async (t) => {
  const pidfile = join(dir, 'detached.pid');
  const supervisor = supervise(t, { FAKE_DETACHED_PIDFILE: pidfile });
  await supervisor.start();
  const detached = Number(await readFile(pidfile, 'utf8'));
  assert.ok(alive(detached));
  await supervisor.stop();
  assert.ok(await gone(detached), 'the detached command is gone');
});

test('attach mode watches a runtime it did not start', async (t) => {
  const password = 'attach-secret';
  let healthy = true;
  const server: Server = createServer((req, res) => {
    const ok = req.headers.authorization === `Basic ${Buffer.from(`opencode:${password}`).toString('base64')}`;
    if (!ok) return void res.writeHead(401).end();
    if (!healthy) return void res.writeHead(503).end();
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"healthy":true,"version":"9.9.9"}');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => new Promise<void>((r) => server.close(() => r())));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const supervisor = createRuntimeSupervisor({ log: silentLogger, attachUrl: url, attachPassword: password, pollIntervalMs: 50, backoffInitialMs: 20, backoffMaxMs: 100 });
  t.after(() => supervisor.stop());
  const ready = await supervisor.start();
  assert.deepEqual([ready.mode, ready.url, ready.version, ready.pid], ['attach', url, '9.9.9', undefined]);
  assert.equal(supervisor.password, password);

  healthy = false;
  const lost = await nextState(supervisor, (s) => s.status === 'restarting');
  assert.match(lost.lastError ?? '', /HTTP 503/);
  healthy = true;
  await nextState(supervisor, (s) => s.status === 'ready');

  const wrong = createRuntimeSupervisor({ log: silentLogger, attachUrl: url, attachPassword: 'nope', backoffInitialMs: 10, maxFailures: 2 });
  t.after(() => wrong.stop());
  await assert.rejects(wrong.start(), /refused the password/);
});

test('needs a workspace unless attaching', () => {
  assert.throws(() => createRuntimeSupervisor({ log: silentLogger, workspaces: [] }), TypeError);
});
