/**
 * `npm start` as a person runs it: the real host process with its real OpenCode runtime (fake
 * model at the provider boundary), its banner, /healthz, the supervisor's restart after the
 * runtime is killed, and Ctrl-C leaving no process behind.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createRuntimeSandbox, type RuntimeSandbox } from './fixtures/runtime.ts';
import { ROOT } from './browser.ts';

const START = join(ROOT, 'scripts', 'start.mjs');

let sandbox: RuntimeSandbox;
let host: ChildProcess | undefined;
let output = '';

before(async () => {
  sandbox = await createRuntimeSandbox();
});

after(async () => {
  if (host && host.exitCode === null) host.kill('SIGKILL');
  for (const pid of processesOf(sandbox.root)) process.kill(pid, 'SIGKILL');
  await sandbox.dispose();
});

/** Processes whose environment mentions `marker` (the sandbox's HOME): the host and its runtime. */
function processesOf(marker: string): number[] {
  const pids: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    try {
      if (readFileSync(`/proc/${name}/environ`, 'latin1').includes(marker)) pids.push(Number(name));
    } catch {
      // The process ended while we looked, or is not ours to read.
    }
  }
  return pids;
}

function runtimePids(): number[] {
  return processesOf(sandbox.root).filter((pid) => {
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'latin1');
      // Not its watchdog, which names the command it runs.
      return cmd.includes('serve') && !cmd.startsWith('/bin/sh\0');
    } catch {
      return false;
    }
  });
}

async function until<T>(what: string, check: () => T | undefined | Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; host output:\n${output}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function health(url: string): Promise<{ version: string; uptimeSeconds: number; runtime: { state: string; version?: string } }> {
  const res = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(5000) });
  assert.equal(res.status, 200);
  return res.json() as never;
}

test('--help documents every option and its environment variable', () => {
  const r = spawnSync(process.execPath, [START, '--help'], { encoding: 'utf8' });
  assert.equal(r.status, 0);
  for (const opt of ['--port', '--bind', '--workspace', '--data-dir', '--opencode-url', '--tls-cert', '--tls-key', '--log-format']) {
    assert.match(r.stdout, new RegExp(`${opt}\\b`), `help mentions ${opt}`);
  }
  assert.match(r.stdout, /OPENWORK_PORT/);
});

test('a bad option stops start-up with a message naming the option and the fix', () => {
  const r = spawnSync(process.execPath, [START, '--port', 'seventy'], { encoding: 'utf8' });
  assert.equal(r.status, 2);
  assert.match(r.stderr, /--port "seventy" is not a port number: use an integer/);
  assert.match(r.stderr, /npm start -- --help/);
});

test('npm start: banner, healthz, app, runtime restart after SIGKILL, Ctrl-C leaves nothing behind', async () => {
  const dataDir = join(sandbox.root, 'relay-data');
  host = spawn(process.execPath, [START, '--port', '0', '--bind', '127.0.0.1', '--workspace', sandbox.workspace, '--data-dir', dataDir], {
    cwd: sandbox.workspace,
    env: { ...process.env, ...sandbox.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  host.stdout!.on('data', (c) => (output += c));
  host.stderr!.on('data', (c) => (output += c));

  const port = await until('the banner', () => /Listening on: +127\.0\.0\.1:(\d+)/.exec(output)?.[1]);
  const url = `http://127.0.0.1:${port}`;
  assert.match(output, new RegExp(`Workspace: +${sandbox.workspace.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
  // Bound to loopback: the banner says phones cannot open it and how to let them, and offers no QR code for it.
  assert.doesNotMatch(output, /Open on your phone/);
  assert.match(output, /Phones cannot reach this host: it listens on 127\.0\.0\.1.*\n.*--bind 0\.0\.0\.0/);
  // Written after the banner, so it may come in a later chunk of the pipe.
  await until('the pairing reminder', () => /No phone can pair while the host listens on loopback only.*run `npm start -- pair`/.test(output) || undefined);
  assert.doesNotMatch(output, /#pair=/);
  // The app build, when one ran, is one line.
  assert.doesNotMatch(output, /vite v\d|modules transformed|dist\/assets\//);

  await until('the runtime to be ready', () => /Runtime: OpenCode \S+ is ready/.test(output) || undefined);
  const ready = await health(url);
  assert.equal(ready.runtime.state, 'ready');
  assert.match(ready.runtime.version ?? '', /^\d+\.\d+\.\d+/);
  assert.doesNotMatch(output, /No model provider of your own/, 'the fake provider counts as configured');

  const page = await fetch(`${url}/`);
  assert.equal(page.status, 200);
  assert.match(page.headers.get('content-security-policy') ?? '', /script-src 'self'/);
  assert.match(await page.text(), /<div id="app"|<div id="root"|<body/);

  const pair = spawnSync(process.execPath, [START, 'pair', '--data-dir', dataDir], { encoding: 'utf8', env: { ...process.env, ...sandbox.env } });
  assert.equal(pair.status, 0, pair.stderr);
  const fresh = /#pair=(\S+)/.exec(pair.stdout)?.[1];
  assert.ok(fresh, 'npm start -- pair prints a fresh link');
  assert.match(pair.stdout, /\b[0-9A-Z]{4}(-[0-9A-Z]{4}){4}\b/, 'with a typed code');

  const [pid] = runtimePids();
  assert.ok(pid, 'the runtime process is found');
  process.kill(pid, 'SIGKILL');
  await until('the host to report the restart', async () => ((await health(url)).runtime.state !== 'ready' ? true : undefined), 20_000);
  await until('the runtime to be ready again', async () => ((await health(url)).runtime.state === 'ready' ? true : undefined), 90_000);
  const [replacement] = runtimePids();
  assert.ok(replacement && replacement !== pid, 'a new runtime process replaced the killed one');

  const exited = new Promise<number | null>((resolve) => host!.once('exit', (code) => resolve(code)));
  host.kill('SIGINT');
  assert.equal(await exited, 0);
  assert.match(output, /stopping the host and its runtime/);
  const none = spawnSync(process.execPath, [START, 'pair', '--data-dir', dataDir], { encoding: 'utf8' });
  assert.equal(none.status, 1);
  assert.match(none.stderr, /No host is running for .*npm start/);
  await until('every process to be gone', () => (processesOf(sandbox.root).length === 0 ? true : undefined), 15_000);
});

/** The runtime's watchdog (host/runtime/supervisor.ts): the shell that ends the runtime when the host is gone. */
function watchdogPids(): number[] {
  return processesOf(sandbox.root).filter((pid) => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, 'latin1').startsWith('/bin/sh\0-c\0umask 077');
    } catch {
      return false;
    }
  });
}

test('a runtime left behind (host and watchdog killed with SIGKILL) is stopped by the next start', async () => {
  const dataDir = join(sandbox.root, 'relay-data-kill');
  const start = () => {
    const child = spawn(process.execPath, [START, '--port', '0', '--bind', '127.0.0.1', '--workspace', sandbox.workspace, '--data-dir', dataDir], {
      cwd: sandbox.workspace,
      env: { ...process.env, ...sandbox.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let text = '';
    child.stdout!.on('data', (c) => ((text += c), (output += c)));
    child.stderr!.on('data', (c) => ((text += c), (output += c)));
    return { child, text: () => text };
  };
  const first = start();
  await until('the first runtime', () => /is ready/.test(first.text()) || undefined);
  const [orphan] = runtimePids();
  assert.ok(orphan);
  // Only a watchdog that died with the host can leave the runtime behind (host-exit.test.ts shows it does not otherwise).
  const watchdogs = watchdogPids();
  assert.equal(watchdogs.length, 1, 'the runtime has its watchdog');
  // It names the host's private directory for the runtime (the plugin), left behind too.
  const privateDir = readFileSync(`/proc/${watchdogs[0]}/cmdline`, 'latin1').split('\0')[4]!;
  assert.ok(existsSync(privateDir));
  process.kill(watchdogs[0]!, 'SIGKILL');
  const died = new Promise((r) => first.child.once('exit', r));
  first.child.kill('SIGKILL');
  await died;
  await new Promise((r) => setTimeout(r, 500));
  assert.deepEqual(runtimePids(), [orphan], 'without its watchdog, the runtime outlives a host killed with SIGKILL');

  const second = start();
  host = second.child;
  await until('the second runtime', () => /is ready/.test(second.text()) || undefined);
  assert.match(second.text(), /stopping the runtime a previous run of the host left behind/);
  assert.ok(!existsSync(privateDir), 'and the directory it left');
  const now = runtimePids();
  assert.equal(now.length, 1, 'exactly one runtime runs');
  assert.notEqual(now[0], orphan);
  const exited = new Promise((r) => second.child.once('exit', r));
  second.child.kill('SIGINT');
  await exited;
  await until('every process to be gone', () => (processesOf(sandbox.root).length === 0 ? true : undefined), 15_000);
});
