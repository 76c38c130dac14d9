/**
 * `npm run soak`: hundreds of tasks through a connection that keeps breaking and a host that gets
 * killed, then a count of what ran. Not part of `npm test`; loopback only; stops by itself.
 *
 *   npm run soak -- [--tasks 500] [--disconnects 1000] [--restarts 3] [--sessions 10]
 *                   [--drop-ms 150] [--time-limit 900]
 *
 * One real OpenCode runtime (fake model, short replies) outlives every host; the host runs in a
 * process of its own (e2e/fixtures/host-child.ts) attached to it, and is SIGKILLed `--restarts`
 * times at evenly spaced points. A device on the real client (e2e/fixtures/resilient-device.ts)
 * reaches it through a proxy that drops the connection at random moments, some of them right after
 * a request went through. Each session runs its tasks one after another. At the end the runtime's
 * stored transcripts and the fake model's requests are counted per task: submitted, completed,
 * duplicated (more than one user message or model run), lost (none, or never completed in time).
 * Exit status 0 only with nothing lost or duplicated and at least the asked-for disconnects.
 * @module
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { generateKeyPair } from '../shared/noise/primitives.ts';
import { RequestError } from '../shared/channel/client.ts';
import type { TaskAccepted } from '../shared/protocol/messages.ts';
import { silentLogger } from '../host/log.ts';
import { loadOrCreateIdentity } from '../host/identity.ts';
import { openDeviceRegistry } from '../host/devices/registry.ts';
import { startRuntimeFixture, type RuntimeFixture } from '../e2e/fixtures/runtime.ts';
import { startFlakyProxy, type FlakyProxy } from '../e2e/fixtures/flaky-proxy.ts';
import { normalizeTranscript, startResilientDevice, type ResilientDevice } from '../e2e/fixtures/resilient-device.ts';
import { freePort } from '../e2e/fixtures/spawn-host.ts';

interface Options {
  tasks: number;
  disconnects: number;
  restarts: number;
  sessions: number;
  /** Mean time between forced disconnects (each wait is 0.4–1.6 times this). */
  dropMs: number;
  timeLimitSec: number;
}

function parseOptions(argv: string[]): Options {
  const opts: Options = { tasks: 500, disconnects: 1000, restarts: 3, sessions: 10, dropMs: 150, timeLimitSec: 900 };
  const names: Record<string, keyof Options> = {
    '--tasks': 'tasks', '--disconnects': 'disconnects', '--restarts': 'restarts', '--sessions': 'sessions', '--drop-ms': 'dropMs', '--time-limit': 'timeLimitSec',
  };
  for (let i = 0; i < argv.length; i += 2) {
    const key = names[argv[i]!];
    const value = Number(argv[i + 1]);
    if (!key || !Number.isInteger(value) || value < 0) {
      throw new RangeError(`${argv[i]} ${argv[i + 1] ?? ''}: expected one of ${Object.keys(names).join(', ')} followed by a whole number`);
    }
    opts[key] = value;
  }
  if (opts.sessions < 1 || opts.tasks < 1 || opts.dropMs < 1) throw new RangeError('--tasks, --sessions and --drop-ms must be at least 1');
  return opts;
}

const opts = parseOptions(process.argv.slice(2));
const say = (line: string) => process.stdout.write(line + '\n');
const started = performance.now();
const deadline = started + opts.timeLimitSec * 1000;
const elapsed = () => `${((performance.now() - started) / 1000).toFixed(0)} s`;

let runtime: RuntimeFixture | undefined;
let proxy: FlakyProxy | undefined;
let device: ResilientDevice | undefined;
let host: ChildProcess | undefined;
let exitCode = 1;

let stopping: Promise<void> | undefined;
const stop = () =>
  (stopping ??= (async () => {
    await device?.close();
    host?.kill('SIGKILL');
    await proxy?.close();
    await runtime?.stop();
  })());
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    say(`${signal}: stopping`);
    void stop().finally(() => process.exit(130));
  });
}

try {
  exitCode = await soak();
} catch (err) {
  say(`soak failed: ${err instanceof Error ? err.stack : String(err)}`);
} finally {
  await stop();
}
process.exit(exitCode);

async function soak(): Promise<number> {
  say(`soak: ${opts.tasks} tasks in ${opts.sessions} sessions, ≥ ${opts.disconnects} forced disconnects (one every ~${opts.dropMs} ms), ${opts.restarts} host restarts, at most ${opts.timeLimitSec} s`);
  runtime = await startRuntimeFixture({ fakeModel: { chunkDelayMs: 10 } });
  const rt = runtime;
  const dataDir = join(rt.root, 'relay-data');
  const identity = loadOrCreateIdentity(dataDir, silentLogger);
  const deviceKey = generateKeyPair();
  const registry = openDeviceRegistry({ dataDir, log: silentLogger });
  registry.add({ name: 'soak phone', platform: 'node-soak', publicKey: deviceKey.publicKey, scopes: ['read', 'run', 'approve'] });
  registry.close();
  const port = await freePort();
  host = await startHostProcess(rt, dataDir, port);
  proxy = await startFlakyProxy(port);
  const p = proxy;
  device = startResilientDevice({ url: p.url, deviceKey, hostKey: identity.publicKey, backoffMaxMs: 500 });
  const d = device;
  await d.ready();
  const sessions: string[] = [];
  for (let i = 0; i < opts.sessions; i++) sessions.push((await d.request({ t: 'session.create', title: `soak ${i}` })).sessionId);
  say(`[${elapsed()}] host, runtime, proxy and device up; ${sessions.length} sessions`);

  // Disconnects at random moments, and (below) some right after a submission went through.
  const stopChaos = p.chaos({ minMs: opts.dropMs * 0.4, maxMs: opts.dropMs * 1.6 });

  const accepted = new Map<string, TaskAccepted>();
  const failed = new Map<string, string>();
  let submitted = 0;
  let done = 0;
  const restartAt = Array.from({ length: opts.restarts }, (_, i) => Math.floor(((i + 1) * opts.tasks) / (opts.restarts + 1)));
  let restarts = 0;
  let restarting: Promise<void> | undefined;
  const restart = async () => {
    host!.kill('SIGKILL');
    await new Promise((r) => host!.once('exit', r));
    host = await startHostProcess(rt, dataDir, port);
    restarts++;
    say(`[${elapsed()}] host restarted (${restarts}/${opts.restarts}) after ${submitted} submissions`);
  };

  let next = 0;
  const progress = setInterval(() => say(`[${elapsed()}] ${done}/${opts.tasks} tasks done, ${p.drops} disconnects, ${restarts} restarts`), 15_000);
  const lane = async (sessionId: string) => {
    for (;;) {
      if (performance.now() > deadline) return;
      const n = next++;
      if (n >= opts.tasks) return;
      const taskId = `soak-${n}`;
      if (restartAt.includes(n)) restarting = restart();
      submitted++;
      if (Math.random() < 0.3) p.dropAfterNextRequest();
      try {
        const result = await withDeadline(d.submit(taskId, sessionId, `${taskId} [text:12]`));
        accepted.set(taskId, result);
        await d.until(`${taskId} to finish`, () => d.taskDone(result), Math.max(1, deadline - performance.now()));
        done++;
      } catch (err) {
        failed.set(taskId, err instanceof RequestError ? `${err.code}: ${err.message}` : String(err));
      }
    }
  };
  await Promise.all(sessions.map(lane));
  await restarting;
  // Tasks may end before enough disconnects happened: keep breaking the idle connection until then.
  const duringTasks = p.drops;
  while (p.drops < opts.disconnects && performance.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  stopChaos();
  clearInterval(progress);
  await withDeadline(d.ready()).catch(() => {});

  // Count what ran, from the runtime's own records.
  let duplicated = 0;
  let lost = 0;
  let completed = 0;
  let mismatched = 0;
  const lostIds: string[] = [];
  for (const sessionId of sessions) {
    const messages = (await rt.bridge.messages(sessionId)) as Array<{ info: { id: string; role: string; parentID?: string; time: { completed?: number } }; parts: Array<{ type: string; text?: string }> }>;
    if (JSON.stringify(d.transcript(sessionId)) !== JSON.stringify(normalizeTranscript(messages))) mismatched++;
    const users = new Map<string, number>();
    for (const m of messages) {
      if (m.info.role !== 'user') continue;
      const id = /^(soak-\d+) /.exec(m.parts.find((x) => x.type === 'text')?.text ?? '')?.[1];
      if (id) users.set(id, (users.get(id) ?? 0) + 1);
    }
    for (const [taskId, count] of users) {
      const runs = rt.fakeModel.requests.filter((r) => r.kind === 'text' && r.lastUserText.startsWith(`${taskId} `)).length;
      if (count > 1 || runs > 1) duplicated++;
      const a = accepted.get(taskId);
      if (a && messages.some((m) => m.info.role === 'assistant' && m.info.parentID === a.messageId && m.info.time.completed !== undefined)) completed++;
    }
  }
  for (let n = 0; n < Math.min(next, opts.tasks); n++) {
    const taskId = `soak-${n}`;
    const a = accepted.get(taskId);
    if (!a || !d.taskDone(a)) {
      lost++;
      lostIds.push(taskId);
    }
  }

  const s = d.stats;
  const q = quantiles(s.catchUpMs);
  say('');
  say(`soak finished in ${elapsed()}${performance.now() > deadline ? ' (time limit reached)' : ''}`);
  say(`  tasks submitted:                 ${submitted}`);
  say(`  tasks completed:                 ${completed}`);
  say(`  tasks duplicated:                ${duplicated}`);
  say(`  tasks lost:                      ${lost}${lostIds.length ? ` (${lostIds.slice(0, 10).join(', ')}${lostIds.length > 10 ? ', …' : ''})` : ''}`);
  say(`  forced disconnects:              ${p.drops} (${duringTasks} while tasks ran), host restarts: ${restarts}`);
  say(`  disconnect-related failures:     ${failed.size} tasks failed${failed.size ? ` (${[...new Set(failed.values())].slice(0, 3).join('; ')})` : ''}; ${s.resent} requests cut off and resent`);
  say(`  reconnects: ${s.connects - 1} (${s.resumed} resumed from the journal, resyncs: ${s.resyncs.gap} gap, ${s.resyncs.restart} restart)`);
  say(`  reconnect → caught up (ms):      median ${q.median}, p90 ${q.p90}, p99 ${q.p99}, max ${q.max}  (n=${s.catchUpMs.length})`);
  say(`  event order violations:          ${s.seqViolations.length}`);
  say(`  sessions whose device transcript differs from the runtime's: ${mismatched}`);
  const ok = lost === 0 && duplicated === 0 && s.seqViolations.length === 0 && mismatched === 0 && p.drops >= opts.disconnects && submitted >= opts.tasks;
  say(ok ? 'PASS' : 'FAIL');
  return ok ? 0 : 1;
}

function withDeadline<T>(p: Promise<T>): Promise<T> {
  const left = deadline - performance.now();
  return Promise.race([p, new Promise<T>((_, reject) => setTimeout(() => reject(new Error('the time limit was reached')), Math.max(1, left)).unref())]);
}

function quantiles(values: number[]): { median: string; p90: string; p99: string; max: string } {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!.toFixed(1) : '–');
  return { median: at(0.5), p90: at(0.9), p99: at(0.99), max: sorted.length ? sorted[sorted.length - 1]!.toFixed(1) : '–' };
}

/** The host in a process of its own, attached to the soak's runtime; resolves once it is ready. */
function startHostProcess(rt: RuntimeFixture, dataDir: string, port: number): Promise<ChildProcess> {
  const root = join(import.meta.dirname, '..');
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--workspace', rt.workspace, '--data-dir', dataDir, '--opencode-url', rt.supervisor.state.url!];
  const child = spawn(process.execPath, ['--import', 'tsx', join(root, 'e2e', 'fixtures', 'host-child.ts'), ...args], {
    cwd: root,
    env: { ...process.env, OPENCODE_SERVER_PASSWORD: rt.supervisor.password },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the host did not start within 60 s:\n${output}`)), 60_000);
    child.stdout!.on('data', (c) => {
      output += c;
      if (/^ready \d+$/m.test(output)) {
        clearTimeout(timer);
        resolve(child);
      }
    });
    child.stderr!.on('data', (c) => (output = (output + c).slice(-20_000)));
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`the host exited (${signal ?? code}) before it was ready:\n${output}`));
    });
  });
}
