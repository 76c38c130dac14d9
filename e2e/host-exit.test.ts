/**
 * However the host ends, its runtime (and what the runtime started) is gone within 5 seconds,
 * without waiting for the host's next start: Ctrl-C (SIGINT), SIGTERM, SIGHUP (the terminal was
 * closed), an uncaught exception, and SIGKILL, which no handler in the host sees. Each case starts
 * the real host (`npm start`'s entry, or for the crash fixtures/crashing-host.ts) with the real
 * runtime, has the agent start a long command, ends the host that way and watches the processes.
 * All cases share one sandbox (HOME, XDG directories, fake model).
 */
import { afterEach, before, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { authHeaders } from '../host/runtime/health.ts';
import { createRuntimeSandbox, type RuntimeSandbox } from './fixtures/runtime.ts';
import { fileCleanup } from './fixtures/cleanup.ts';
import { ROOT } from './browser.ts';

const START = join(ROOT, 'scripts', 'start.mjs');
const CRASHING = join(import.meta.dirname, 'fixtures', 'crashing-host.ts');
const GONE_WITHIN_MS = 5000;
const REAL = { timeout: 120_000 };
const { cleanups, tempDir } = fileCleanup('relay-host-exit-');

let sandbox: RuntimeSandbox;

before(async () => {
  sandbox = await createRuntimeSandbox();
  cleanups.push(() => sandbox.dispose());
});

afterEach(() => {
  // Whatever a failed case left behind, so that the next case starts clean.
  for (const pid of processesOf(sandbox.root)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Gone meanwhile.
    }
  }
});

/** Processes whose environment mentions `marker` (the sandbox's HOME): hosts, runtimes, the agent's commands. */
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

function cmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'latin1').replaceAll('\0', ' ');
  } catch {
    return '';
  }
}

async function until<T>(what: string, check: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs: number, output: () => string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; host output:\n${output()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

interface Started {
  child: ChildProcess;
  output(): string;
  runtimePid: number;
  /** The agent's `sleep` command, a child of the runtime. */
  toolPid: number;
  /** The host's private directory for the runtime (its plugin), as its watchdog names it. */
  privateDir: string;
  exited: Promise<void>;
}

/** The host with its runtime ready and the agent running a long command. */
async function startHost(how: 'npm-start' | 'crashing'): Promise<Started> {
  const dataDir = tempDir();
  // The agent's command runs without asking anyone.
  writeFileSync(join(dataDir, 'config.json'), JSON.stringify({ permission: { bash: 'allow' } }));
  const args = ['--port', '0', '--bind', '127.0.0.1', '--workspace', sandbox.workspace, '--data-dir', dataDir];
  const child =
    how === 'npm-start'
      ? spawn(process.execPath, [START, ...args], { cwd: sandbox.workspace, env: { ...process.env, ...sandbox.env }, stdio: ['ignore', 'pipe', 'pipe'] })
      : spawn(process.execPath, ['--import', 'tsx', CRASHING, ...args], { cwd: ROOT, env: { ...process.env, ...sandbox.env }, stdio: ['pipe', 'pipe', 'pipe'] });
  let text = '';
  child.stdout!.on('data', (c) => (text += c));
  child.stderr!.on('data', (c) => (text += c));
  const output = () => text;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  cleanups.push(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    return exited;
  });
  // `npm start` logs the runtime's address at info; the crashing fixture prints it.
  const url = await until(
    'the runtime to be ready',
    () => /runtime ready.*?(http:\/\/127\.0\.0\.1:\d+)/.exec(text)?.[1] ?? /^ready \d+ \d+ (\S+)$/m.exec(text)?.[1],
    90_000,
    output,
  );
  const runtimePid = await until(
    'the runtime process',
    () => processesOf(sandbox.root).find((p) => /opencode.* serve /.test(cmdline(p)) && !cmdline(p).startsWith('/bin/sh')),
    10_000,
    output,
  );
  // What the agent starts must go too: a long command through the runtime's own API, with the
  // password any process of this user can read from the runtime's environment.
  const password = /(?:^|\0)OPENCODE_SERVER_PASSWORD=([^\0]*)/.exec(readFileSync(`/proc/${runtimePid}/environ`, 'latin1'))?.[1];
  const headers = { ...authHeaders(password), 'content-type': 'application/json' };
  const session = (await (await fetch(`${url}/session`, { method: 'POST', headers, body: JSON.stringify({ title: 'long' }) })).json()) as { id: string };
  await fetch(`${url}/session/${session.id}/prompt_async`, { method: 'POST', headers, body: JSON.stringify({ parts: [{ type: 'text', text: '[bash:sleep 600]' }] }) });
  const toolPid = await until("the agent's command", () => processesOf(sandbox.root).find((p) => cmdline(p).startsWith('sleep 600')), 30_000, output);
  const watchdog = processesOf(sandbox.root)
    .map((p) => readFileSync(`/proc/${p}/cmdline`, 'latin1').split('\0'))
    .find((argv) => argv[0] === '/bin/sh' && argv[3] === 'openwork-runtime');
  assert.ok(watchdog && existsSync(watchdog[4]!), 'the runtime runs under its watchdog, which names the private directory');
  return { child, output, runtimePid, toolPid, privateDir: watchdog[4]!, exited };
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    // A zombie has ended; only its parent has not looked yet.
    return !/^\S+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'latin1'));
  } catch {
    return false;
  }
}

/** Ends the host, then requires it, its runtime, the agent's command, everything else of it and its private directory gone within 5 s. */
async function endsWithItsRuntime(t: TestContext, started: Started, end: (child: ChildProcess) => void): Promise<void> {
  const t0 = Date.now();
  end(started.child);
  await until(
    `the host, its runtime (${started.runtimePid}), the agent's command (${started.toolPid}), every other process of the host and its private directory to be gone`,
    () =>
      (started.child.exitCode !== null || started.child.signalCode !== null) &&
      !alive(started.runtimePid) &&
      !alive(started.toolPid) &&
      processesOf(sandbox.root).filter(alive).length === 0 &&
      !existsSync(started.privateDir),
    GONE_WITHIN_MS,
    () =>
      `${started.output()}\nstill running:\n${processesOf(sandbox.root)
        .map((p) => `${p} ${cmdline(p).slice(0, 120)}`)
        .join('\n')}`,
  );
  t.diagnostic(`everything gone ${Date.now() - t0} ms after the host was ended`);
}

for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGKILL'] as const) {
  test(`a host ended by ${signal} takes its runtime with it`, REAL, async (t) => {
    await endsWithItsRuntime(t, await startHost('npm-start'), (child) => child.kill(signal));
  });
}

test('a host that crashes (an uncaught exception) takes its runtime with it', REAL, async (t) => {
  const started = await startHost('crashing');
  await endsWithItsRuntime(t, started, (child) => child.stdin!.write('crash\n'));
  assert.match(started.output(), /injected crash/);
});
