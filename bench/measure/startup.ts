/**
 * 8. From `npm start` to the first answer, in a workspace holding a real project (a clone of this
 * repository): the host's start until its OpenCode runtime is ready against `opencode serve`
 * started alone the way the host starts it (same binary, arguments, environment and project;
 * ready means its health check answers, as the host's supervisor decides), taken in turns; then
 * on the last host, the first task after ready against later ones, from `task.submit` to the
 * device having the session's idle event.
 * @module
 */
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { resolveOpencodeBinary } from '../../host/runtime/binary.ts';
import { createOpencodeClient } from '@opencode-ai/sdk/v2';
import { RUNTIME_USER, authHeaders, checkHealth } from '../../host/runtime/health.ts';
import { readRuntimeEvents } from '../live/event-stream.ts';
import { connectDevice, now } from '../lib/clients.ts';
import { until, type Measurement } from '../lib/context.ts';
import { prepareHostData } from '../lib/fleet.ts';
import { startHostProcess, type HostProcess } from '../lib/host-process.ts';
import { profileTable, type ProfileSummary } from '../lib/profile-summary.ts';
import { atMost, section } from '../lib/report.ts';
import { median } from '../lib/stats.ts';
import { liveSandbox } from '../live/sandbox.ts';
import { stampDirective } from '../live/stamping-model.ts';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
/** Host and runtime-alone starts, taken in turns (host, alone, alone, host, ...); an odd count, so each median is one start. */
const ROUNDS = 5;
const TASKS = 3;
/** Prompts on the runtime alone, right after it is ready: whether a slow first task is the runtime's. */
const PROMPTS_ALONE = 2;
const READY_TIMEOUT_MS = 60_000;
const LISTENING = /listening on (https?:\/\/\S+)/;

/** A prompt on the runtime alone, through its own API: prompt → its session's idle event, in ms. */
async function promptAlone(url: string, password: string, project: string, n: number): Promise<number> {
  const sdk = createOpencodeClient({ baseUrl: url, headers: authHeaders(password), throwOnError: true, directory: project });
  const idle = new Set<string>();
  const reader = readRuntimeEvents(url, password, project, (e) => {
    if (e.type === 'session.idle' && typeof e.properties.sessionID === 'string') idle.add(e.properties.sessionID);
  });
  try {
    await reader.connected;
    const session = await sdk.session.create({ title: `alone ${n}` });
    const sessionId = session.data!.id;
    const started = now();
    await sdk.session.promptAsync({ sessionID: sessionId, parts: [{ type: 'text', text: stampDirective(20, 0) }] });
    await until(`prompt ${n} on the runtime alone to finish`, () => idle.has(sessionId), READY_TIMEOUT_MS);
    return now() - started;
  } finally {
    reader.close();
  }
}

/**
 * `opencode serve` as host/runtime/supervisor.ts starts it, without the host: ms until healthy,
 * then, when asked, that many prompts through its own API (the first right after ready).
 */
async function runtimeAlone(project: string, env: Record<string, string>, onStop: (stop: () => void) => void, prompts: number): Promise<{ readyMs: number; promptsMs: number[] }> {
  const password = randomBytes(16).toString('hex');
  const started = now();
  const proc = spawn(resolveOpencodeBinary(), ['serve', '--hostname', '127.0.0.1', '--port', '0', '--print-logs', '--log-level', 'WARN'], {
    cwd: project,
    env: { ...process.env, OPENCODE_DISABLE_AUTOUPDATE: '1', OPENCODE_DISABLE_SHARE: '1', ...env, OPENCODE_SERVER_USERNAME: RUNTIME_USER, OPENCODE_SERVER_PASSWORD: password },
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const stop = () => {
    try {
      process.kill(-proc.pid!, 'SIGKILL');
    } catch {
      // already gone
    }
  };
  onStop(stop);
  let url: string | undefined;
  for (const stream of [proc.stdout!, proc.stderr!]) createInterface({ input: stream }).on('line', (line) => void (url ??= LISTENING.exec(line)?.[1]));
  try {
    // The supervisor's loop: once it printed its address, ask its health every 100 ms.
    for (;;) {
      if (now() - started > READY_TIMEOUT_MS) throw new Error('opencode serve alone was not ready within 60 s');
      if (proc.exitCode !== null) throw new Error(`opencode serve alone exited with code ${proc.exitCode}`);
      if (url) {
        let readyMs: number | undefined;
        try {
          await checkHealth(url, password, 2000);
          readyMs = now() - started;
        } catch {
          // not yet
        }
        if (readyMs !== undefined) {
          const promptsMs: number[] = [];
          for (let n = 1; n <= prompts; n++) promptsMs.push(await promptAlone(url, password, project, n));
          return { readyMs, promptsMs };
        }
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  } finally {
    stop();
  }
}

export const startup: Measurement = {
  id: 'startup',
  title: '8. From `npm start` to the first answer, in a real project: host start → runtime ready vs `opencode serve` alone, first task vs later ones',
  budgetMs: 240_000,
  async run(ctx) {
    const s = section(this.id, this.title);
    const { sandbox } = await liveSandbox(ctx);
    const project = join(sandbox.root, 'project');
    execFileSync('git', ['clone', '--quiet', '--depth', '1', `file://${REPO}`, project]);
    // The sandbox's configuration (its fake model), as a project's own opencode.json.
    copyFileSync(join(sandbox.workspace, 'opencode.json'), join(project, 'opencode.json'));
    const device = ctx.devices[0]!;
    const data = prepareHostData([device]);
    ctx.defer(data.dispose);

    const hostStarts: number[] = [];
    const aloneStarts: number[] = [];
    let alonePrompts: number[] = [];
    let host: HostProcess | undefined;
    ctx.defer(() => host?.stop());
    for (let round = 0; round < ROUNDS; round++) {
      const order = round % 2 === 0 ? (['host', 'alone'] as const) : (['alone', 'host'] as const);
      for (const which of order) {
        ctx.progress(`startup: ${which === 'host' ? 'the host and its runtime' : 'opencode serve alone'}, round ${round + 1} of ${ROUNDS}`);
        if (which === 'alone') {
          // Its prompts only once: the baseline of the first task, in the same project, on the same machine.
          // Its own data, cache and state folders, so that what it keeps about the project does not warm the host's runtime, nor the reverse.
          const own = join(sandbox.root, `alone-${round}`);
          const env = { ...sandbox.env, XDG_DATA_HOME: join(own, 'data'), XDG_CACHE_HOME: join(own, 'cache'), XDG_STATE_HOME: join(own, 'state') };
          const alone = await runtimeAlone(project, env, (stop) => ctx.defer(stop), round === 0 ? PROMPTS_ALONE : 0);
          aloneStarts.push(alone.readyMs);
          if (round === 0) alonePrompts = alone.promptsMs;
          continue;
        }
        await host?.stop();
        host = await startHostProcess({ mode: 'real', dataDir: data.dataDir, workspace: project, runtimeEnv: sandbox.env }, { readyTimeoutMs: READY_TIMEOUT_MS });
        const runtime = await host.call({ cmd: 'runtime' });
        hostStarts.push(runtime.readyAtWallMs - host.forkedAtWallMs);
      }
    }

    // The host's runtime has just become ready (an `alone` start may have come between): the first task goes at once.
    ctx.progress(`startup: ${TASKS} tasks, the first right after ready`);
    const idle = new Set<string>();
    const client = await connectDevice(host!.url, data.hostKey, device, { onEvent: (_seq, e) => void (e?.type === 'session.idle' && idle.add(e.sessionId)) });
    ctx.defer(() => client.close());
    const tasks: number[] = [];
    let firstTaskProfile: ProfileSummary | undefined;
    for (let i = 0; i < TASKS; i++) {
      const session = await client.channel.request({ t: 'session.create', title: `startup ${i + 1}` });
      // The first task with the host's CPU profiled: is the host busy while the first answer is awaited?
      if (i === 0) await host!.call({ cmd: 'profile-start' });
      const started = now();
      await client.channel.request({ t: 'task.submit', taskId: `bench-startup-${i}-${Date.now()}`, sessionId: session.sessionId, text: stampDirective(20, 0) });
      await until(`task ${i + 1} to finish`, () => idle.has(session.sessionId), READY_TIMEOUT_MS);
      tasks.push(now() - started);
      if (i === 0) firstTaskProfile = await host!.call({ cmd: 'profile-stop', ...(ctx.cpuProfDir ? { file: join(ctx.cpuProfDir, 'startup-host-first-task.cpuprofile') } : {}) });
    }

    const hostMs = median(hostStarts);
    const aloneMs = median(aloneStarts);
    const laterMs = median(tasks.slice(1));
    s.data = { hostStarts, aloneStarts, tasks, alonePrompts, project: 'a clone of this repository', firstTaskProfile };
    s.tables.push({
      title: 'Start until the runtime is ready (ms), each start in turn',
      columns: ['', ...hostStarts.map((_, i) => `run ${i + 1}`), 'median'],
      rows: [
        ['host: fork → its runtime ready', ...hostStarts, hostMs],
        ['opencode serve alone: spawn → healthy', ...aloneStarts, aloneMs],
      ],
    });
    s.tables.push({
      title: 'Tasks on the host that just started: task.submit → the session is idle at the device (ms)',
      columns: ['', ...tasks.map((_, i) => (i === 0 ? 'first, right after ready' : `task ${i + 1}`))],
      rows: [['ms', ...tasks]],
    });
    s.tables.push({
      title: 'The same on opencode serve alone (its first start): prompt → its session idle, through its own API (ms)',
      columns: ['', ...alonePrompts.map((_, i) => (i === 0 ? 'first, right after ready' : `prompt ${i + 1}`))],
      rows: [['ms', ...alonePrompts]],
    });
    if (firstTaskProfile) s.tables.push(profileTable('The host during the first task', firstTaskProfile));
    s.targets.push(atMost('startup: host start → runtime ready vs opencode serve alone', hostMs / aloneMs, 1.1, '×'));
    s.targets.push(atMost('startup: first task after ready vs a later one', tasks[0]! / laterMs, 1.3, '×'));
    s.notes.push(
      "The workspace is a shallow git clone of this repository with the sandbox's opencode.json (its fake model) added. The host runs bundled on plain Node, as `npm start` runs it; its time includes Node's own start and loading the host.",
      'Tasks: a 20-delta answer from the stamping model (no waiting between deltas), each in a new session created just before.',
    );
    return s;
  },
};
