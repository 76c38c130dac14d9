/**
 * `npm run soak`: hundreds of tasks sent from the phone's own code (e2e/fixtures/phone.ts: the
 * app's state, outbox and connection, storing in IndexedDB) through a connection that keeps
 * breaking, a host and a runtime that get killed, a page that gets reloaded, storage that gets
 * evicted and a clock that jumps; then a count of what ran. Not part of `npm test`; loopback
 * only; stops by itself.
 *
 *   npm run soak -- [--tasks 500] [--sessions 10] [--disconnects 1000] [--host-kills 3]
 *                   [--runtime-kills 3] [--reloads 10] [--evictions 1] [--clock-jumps 5]
 *                   [--drop-ms 1000] [--time-limit 2400]
 *
 * One real OpenCode runtime (fake model, short replies) on a fixed port, restarted by its
 * supervisor when killed; the host runs in a process of its own (e2e/fixtures/host-child.ts)
 * attached to it. The phone reaches the host only through a proxy that drops the connection at
 * random moments, some of them right after a request went through. Each session (a "lane") runs
 * its tasks one after another, as a person would: write, wait until the reply is shown, approve
 * when asked. The faults come at evenly spaced points of the run:
 *   - host SIGKILLed and started again, once of them while a permission request waits;
 *   - runtime SIGKILLed in the middle of a streamed answer;
 *   - page reloaded while a task is being sent (new modules on the same IndexedDB);
 *   - storage evicted (the app must start clean and say so; it is paired again);
 *   - the phone's wall clock jumping by hours, forwards or back.
 * Counted per task, from the runtime's stored messages and the fake model's requests: submitted,
 * completed, interrupted-and-retried (the phone showed it interrupted; the same text was sent
 * again as a new task), duplicated, lost; per session, stuck (the phone shows it running, or a task
 * waiting for it, while the runtime's GET /session/status says idle, for more than 10 s while the
 * phone is connected and caught up). Also the time from a restarted host listening again to the
 * phone connected to it. Exit status 0 only with nothing lost, duplicated or stuck and the
 * asked-for disconnects and kills.
 * @module
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { generateKeyPair } from '../shared/noise/primitives.ts';
import { hostIdOf } from '../shared/pairing/keys.ts';
import { silentLogger } from '../host/log.ts';
import { loadOrCreateIdentity } from '../host/identity.ts';
import { openDeviceRegistry } from '../host/devices/registry.ts';
import { authHeaders } from '../host/runtime/health.ts';
import { openPartialTexts } from '../host/tasks/partials.ts';
import type { RelayApp } from '../client/state/relay.ts';
import { startRuntimeFixture, type RuntimeFixture } from '../e2e/fixtures/runtime.ts';
import { startFlakyProxy, type FlakyProxy } from '../e2e/fixtures/flaky-proxy.ts';
import { pairedRecord, replyShown, shownTranscript, startPhone, storedTranscript, type Phone } from '../e2e/fixtures/phone.ts';
import { freePort } from '../e2e/fixtures/spawn-host.ts';
import { firstAccept } from '../e2e/fixtures/reconnect-timing.ts';

interface Options {
  tasks: number;
  sessions: number;
  disconnects: number;
  hostKills: number;
  runtimeKills: number;
  reloads: number;
  evictions: number;
  clockJumps: number;
  /** Mean time between forced disconnects (each wait is 0.4–1.6 times this). */
  dropMs: number;
  timeLimitSec: number;
}

const FLAGS: Record<string, keyof Options> = {
  '--tasks': 'tasks',
  '--sessions': 'sessions',
  '--disconnects': 'disconnects',
  '--host-kills': 'hostKills',
  '--runtime-kills': 'runtimeKills',
  '--reloads': 'reloads',
  '--evictions': 'evictions',
  '--clock-jumps': 'clockJumps',
  '--drop-ms': 'dropMs',
  '--time-limit': 'timeLimitSec',
};

function parseOptions(argv: string[]): Options {
  const opts: Options = { tasks: 500, sessions: 10, disconnects: 1000, hostKills: 3, runtimeKills: 3, reloads: 10, evictions: 1, clockJumps: 5, dropMs: 1000, timeLimitSec: 2400 };
  for (let i = 0; i < argv.length; i += 2) {
    const key = FLAGS[argv[i]!];
    const value = Number(argv[i + 1]);
    if (!key || !Number.isInteger(value) || value < 0) {
      throw new RangeError(`${argv[i]} ${argv[i + 1] ?? ''}: expected one of ${Object.keys(FLAGS).join(', ')} followed by a whole number`);
    }
    opts[key] = value;
  }
  if (opts.sessions < 1 || opts.tasks < 1 || opts.dropMs < 1) throw new RangeError('--tasks, --sessions and --drop-ms must be at least 1');
  return opts;
}

/** A session the phone shows running (or holding a task back) while the runtime is idle this long is stuck. */
const STUCK_MS = 10_000;
/** A lane whose task has not finished this long after its session got stuck moves on to a new session. */
const GIVE_UP_STUCK_MS = 30_000;
/**
 * A task accepted by the host whose session both the phone and the runtime show idle without its
 * reply this long was cut off (a kill) and nothing tells the person: counted lost, its lane goes on.
 */
const GIVE_UP_CUT_MS = 20_000;
/** A task not finished this long is given up (counted lost) and its lane moves on. */
const TASK_TIMEOUT_MS = 180_000;
/** No task finished for this long: the soak stops sending and counts what it has (the rest is lost). */
const STALL_MS = 240_000;

const opts = parseOptions(process.argv.slice(2));
const say = (line: string) => process.stdout.write(`${line}\n`);
const started = performance.now();
const deadline = started + opts.timeLimitSec * 1000;
const elapsed = () => `${((performance.now() - started) / 1000).toFixed(0)} s`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let runtime: RuntimeFixture | undefined;
let proxy: FlakyProxy | undefined;
let phone: Phone | undefined;
let host: ChildProcess | undefined;
let exitCode = 1;

let stopping: Promise<void> | undefined;
const stop = () =>
  (stopping ??= (async () => {
    await phone?.close();
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

type Fault = 'host' | 'host-permission' | 'runtime' | 'reload' | 'evict' | 'clock';

async function soak(): Promise<number> {
  say(
    `soak: ${opts.tasks} tasks in ${opts.sessions} sessions, ≥ ${opts.disconnects} forced disconnects (one every ~${opts.dropMs} ms), ` +
      `${opts.hostKills} host and ${opts.runtimeKills} runtime kills, ${opts.reloads} page reloads, ${opts.evictions} storage evictions, ` +
      `${opts.clockJumps} clock jumps, at most ${opts.timeLimitSec} s`,
  );
  runtime = await startRuntimeFixture({ fakeModel: { chunkDelayMs: 10 }, supervisor: { port: await freePort(), backoffInitialMs: 200 } });
  const rt = runtime;
  const dataDir = join(rt.root, 'relay-data');
  const identity = loadOrCreateIdentity(dataDir, silentLogger);
  // One key per pairing: the first, and one more after each eviction (the phone pairs again).
  const deviceKeys = Array.from({ length: opts.evictions + 1 }, () => generateKeyPair());
  const registry = openDeviceRegistry({ dataDir, log: silentLogger });
  for (const key of deviceKeys) registry.add({ name: 'soak phone', platform: 'node-soak', publicKey: key.publicKey, scopes: ['read', 'run', 'approve'] });
  registry.close();
  const port = await freePort();
  host = await startHostProcess(rt, dataDir, port);
  proxy = await startFlakyProxy(port);
  const p = proxy;
  const through = `http://127.0.0.1:${p.port}`;
  const phoneOptions = { name: 'soak phone', origin: through, reachable: (url: string) => url.startsWith(`ws://127.0.0.1:${p.port}/`) };
  const pairings = deviceKeys.map((deviceKey) => pairedRecord({ hostId: hostIdOf(identity.publicKey), hostKey: identity.publicKey, deviceKey, address: through }));
  phone = await startPhone(phoneOptions);
  await phone.adopt(pairings.shift()!);
  await phone.until('the phone to connect', () => phone!.caughtUp(), 60_000);
  const app = (): RelayApp => phone!.app;
  say(`[${elapsed()}] runtime, host, proxy and phone up`);

  // ---- what the runtime says ------------------------------------------------------------------
  const runtimeBusy = async (): Promise<Set<string> | undefined> => {
    const url = rt.supervisor.state.url;
    if (!url || rt.supervisor.state.status !== 'ready') return undefined;
    try {
      const res = await fetch(`${url}/session/status?directory=${encodeURIComponent(rt.workspace)}`, {
        headers: authHeaders(rt.supervisor.password),
        signal: AbortSignal.timeout(2000),
      });
      if (!res.ok) return undefined;
      const body = (await res.json()) as Record<string, { type: string }>;
      return new Set(
        Object.entries(body)
          .filter(([, s]) => s.type !== 'idle')
          .map(([id]) => id),
      );
    } catch {
      return undefined; // restarting: no answer is not "idle"
    }
  };

  // ---- what the phone shows -------------------------------------------------------------------
  /** Running as the session list or the session screen shows it (SessionScreen: the timeline once loaded), or holding a task back. */
  const shownRunning = (a: RelayApp, sessionId: string) => {
    const timeline = a.timeline(sessionId);
    return (
      a.statusOf(sessionId) === 'running' ||
      (timeline.loaded() && timeline.status() === 'running') ||
      a.outbox.items().some((i) => i.sessionId === sessionId && i.phase === 'waiting')
    );
  };
  /** The phone shows the session's last turn interrupted (the host found it cut short by a kill): the person taps Retry. */
  const shownInterrupted = (a: RelayApp, sessionId: string) => a.statusOf(sessionId) === 'interrupted';

  // ---- stuck sessions ------------------------------------------------------------------------
  const lanesSessions = new Set<string>();
  /** Per session: how long, while the phone was connected, it has shown running with the runtime idle. */
  const mismatchMs = new Map<string, number>();
  const stuck = new Map<string, number>();
  let watching = true;
  /** The runtime's busy sessions as last asked (undefined: it did not answer). */
  let busyNow: Set<string> | undefined;
  const watcher = (async () => {
    while (watching) {
      await sleep(1000);
      const busy = (busyNow = await runtimeBusy());
      const ph = phone!;
      // Counted only while the phone is connected: away, it cannot know (nor can anyone, while the runtime restarts).
      if (!busy || ph.connection.state.status !== 'connected') continue;
      for (const id of lanesSessions) {
        if (!busy.has(id) && shownRunning(ph.app, id)) {
          const ms = (mismatchMs.get(id) ?? 0) + 1000;
          mismatchMs.set(id, ms);
          if (ms > STUCK_MS && !stuck.has(id)) {
            stuck.set(id, performance.now());
            say(`[${elapsed()}] STUCK: session ${id} shows running on the phone, the runtime says idle (for ${STUCK_MS / 1000} s)`);
          }
        } else {
          mismatchMs.delete(id);
        }
      }
    }
  })();

  // ---- the lanes -------------------------------------------------------------------------------
  /** Faults that swap the page wait for no task to be mid-add; lanes wait while a page is swapped. */
  let adding = 0;
  let gate: Promise<void> | undefined;
  let holdApprovals = false;
  interface Task {
    marker: string;
    text: string;
    sessionId?: string;
    attempts: number;
    done: boolean;
    gaveUp?: string;
  }
  const tasks: Task[] = [];
  let next = 0;
  let finished = 0;
  let lastFinished = performance.now();
  /** Set when nothing has finished for STALL_MS: the lanes stop. */
  let stalled = '';
  /** The tasks the phone showed interrupted and the person sent again (each counted once). */
  const retried = new Set<string>();
  /** Outbox items the app marked failed (not sent), and the person tapped Retry: why they failed. */
  const refusals: string[] = [];

  /** Queues a task like the composer does: a new session's first task, or a follow-up. */
  const send = async (task: Task) => {
    while (gate) await gate;
    adding++;
    try {
      if (task.sessionId) await app().sendTask(task.sessionId, task.text);
      else await app().newTask(task.text);
    } finally {
      adding--;
    }
  };

  /** Every page the soak opened: their counts add up. */
  const pages: Phone[] = [phone];
  const findSession = (text: string) => {
    for (const page of pages) for (const a of page.accepted.values()) if (a.text === text) return a.sessionId;
    return app()
      .outbox.items()
      .find((i) => i.text === text)?.sessionId;
  };

  /** Waits until the task's reply is shown; answers its approvals; retries it when shown interrupted. */
  const await_ = async (task: Task): Promise<void> => {
    const since = performance.now();
    let cutMs = 0;
    let lastLook = performance.now();
    /**
     * Sent again after the phone showed it interrupted, and that resend not yet seen running: the
     * session still reads interrupted until then, and a person taps Retry once, not on every look.
     */
    let retrying = false;
    for (;;) {
      if (performance.now() > deadline) return void (task.gaveUp = 'time limit');
      if (stalled) return void (task.gaveUp = 'the soak stalled');
      const a = app();
      task.sessionId ??= findSession(task.text);
      const id = task.sessionId;
      if (id) {
        lanesSessions.add(id);
        if (replyShown(a, id, `${task.marker} `)) return void (task.done = true);
        if (!holdApprovals) {
          for (const request of a.permissions().filter((r) => r.sessionId === id)) {
            await a.replyPermission(request, 'once').catch(() => {}); // expired or answered meanwhile: the app says so
          }
        }
        if (shownInterrupted(a, id)) {
          if (!retrying) {
            retrying = true;
            task.attempts++;
            retried.add(task.marker);
            await send(task);
          }
        } else if (!a.outbox.items().some((i) => i.text === task.text)) {
          retrying = false;
        }
        const accepted = pages.some((page) => [...page.accepted.values()].some((x) => x.text === task.text));
        const queued = a.outbox.items().some((i) => i.text === task.text);
        const looked = performance.now() - lastLook;
        lastLook = performance.now();
        if (accepted && !queued && busyNow && !busyNow.has(id) && a.statusOf(id) === 'idle') {
          if (phone!.connection.state.status === 'connected') cutMs += looked;
          if (cutMs > GIVE_UP_CUT_MS) return void (task.gaveUp = 'cut off; shown idle without its reply');
        } else {
          cutMs = 0;
        }
        const stuckAt = stuck.get(id);
        if (stuckAt !== undefined && performance.now() - stuckAt > GIVE_UP_STUCK_MS) {
          // The person gives up on this session: what still waits in the outbox for it is cancelled
          // (it would hold back every later task, of every session).
          for (const item of a.outbox.items().filter((i) => i.sessionId === id && i.phase !== 'sending')) {
            await a.outbox.remove(item.key).catch(() => {});
          }
          return void (task.gaveUp = 'its session stuck');
        }
      }
      // Not sent, and the app says why: the person reads it and taps Retry.
      const failed = app()
        .outbox.items()
        .find((i) => i.text === task.text && i.phase === 'failed');
      if (failed) {
        refusals.push(failed.failed?.message ?? '(no reason given)');
        await app().outbox.retry(failed.key);
      }
      if (performance.now() - since > TASK_TIMEOUT_MS) return void (task.gaveUp = `not shown finished in ${TASK_TIMEOUT_MS / 1000} s`);
      await sleep(50);
    }
  };

  const lane = async () => {
    let sessionId: string | undefined;
    for (;;) {
      if (performance.now() > deadline || stalled) return;
      const n = next++;
      if (n >= opts.tasks) return;
      // Mostly short replies; every 5th asks to run a command (an approval), every 7th streams long.
      const body = n % 5 === 4 ? `[bash:echo soak-${n}]` : n % 7 === 6 ? '[text:150]' : '[text:12]';
      const task: Task = { marker: `soak-${n}`, text: `soak-${n} ${body}`, ...(sessionId ? { sessionId } : {}), attempts: 1, done: false };
      tasks.push(task);
      if (Math.random() < 0.3) p.dropAfterNextRequest();
      await send(task);
      await await_(task);
      if (task.done) {
        finished++;
        lastFinished = performance.now();
      }
      // A session that cannot go on (stuck) is left; the lane goes on in a new one.
      sessionId = task.gaveUp ? undefined : task.sessionId;
    }
  };

  // ---- the faults ------------------------------------------------------------------------------
  const faults: Fault[] = [
    ...Array<Fault>(Math.max(0, opts.hostKills - 1)).fill('host'),
    ...(opts.hostKills > 0 ? ['host-permission' as const] : []),
    ...Array<Fault>(opts.runtimeKills).fill('runtime'),
    ...Array<Fault>(opts.reloads).fill('reload'),
    ...Array<Fault>(opts.evictions).fill('evict'),
    ...Array<Fault>(opts.clockJumps).fill('clock'),
  ];
  // Spread evenly, in an order that mixes the kinds.
  faults.sort((a, b) => (a < b ? -1 : 1));
  const order = faults
    .map((f, i) => ({ f, k: (i * 7919) % faults.length }))
    .sort((a, b) => a.k - b.k)
    .map((x) => x.f);
  const done: Record<Fault, number> = { host: 0, 'host-permission': 0, runtime: 0, reload: 0, evict: 0, clock: 0 };
  let evictionSaid = '';

  const swapPage = async (how: 'reload' | 'evict') => {
    let open!: () => void;
    gate = new Promise((r) => (open = r));
    try {
      // Not while the composer is storing a task (the person would not have seen it queued yet).
      while (adding > 0) await sleep(5);
      // Tasks accepted by the host keep running there whatever happens to the phone; one still only
      // in the outbox goes with the storage (nothing could tell of it): evicted once the outbox is empty.
      if (how === 'evict') {
        await phone!
          .until('an empty outbox', () => phone!.app.outbox.items().length === 0, 60_000)
          .catch(() => say(`[${elapsed()}] the outbox did not empty within 60 s: its tasks go with the storage`));
      }
      const old = phone!;
      phone = how === 'reload' ? await old.reload() : await old.evict();
      pages.push(phone);
      if (how === 'evict') {
        const a = phone.app;
        const clean = a.hosts().length === 0 && a.outbox.items().length === 0 && a.health.phase === 'unpaired';
        evictionSaid = `${clean ? 'started clean' : 'DID NOT start clean'}; it said "${phone.connection.state.reason}" (${phone.connection.state.status})`;
        say(`[${elapsed()}] storage evicted: the app ${evictionSaid}; pairing again`);
        await phone.adopt(pairings.shift()!);
      }
    } finally {
      gate = undefined;
      open();
    }
  };

  /** Per host restart: from the new host accepting connections to the phone connected to it. */
  const listenToConnectedMs: number[] = [];
  const restartHost = async () => {
    host!.kill('SIGKILL');
    await new Promise((r) => host!.once('exit', r));
    await phone!.until('the phone to notice', () => phone!.connection.state.status !== 'connected', 10_000).catch(() => {});
    const listening = firstAccept(port);
    host = await startHostProcess(rt, dataDir, port).catch((err: unknown) => {
      listening.stop();
      throw err;
    });
    const at = await listening.at;
    const connected = await phone!
      .until('the phone to connect to the restarted host', () => phone!.connection.state.status === 'connected' && Date.now(), 60_000)
      .catch(() => say(`[${elapsed()}] the phone did not connect within 60 s of the host listening again`));
    if (typeof connected === 'number') listenToConnectedMs.push(connected - at);
  };

  const runFault = async (fault: Fault) => {
    switch (fault) {
      case 'host':
        await restartHost();
        break;
      case 'host-permission': {
        holdApprovals = true;
        try {
          const waiting = await phone!.until('a permission request', () => phone!.app.permissions()[0], 60_000).catch(() => undefined);
          if (!waiting) say(`[${elapsed()}] no permission request came within 60 s; the host is killed anyway`);
          await restartHost();
          if (waiting)
            await phone!
              .until('the request to be shown again', () => phone!.app.permissions().some((r) => r.requestId === waiting.requestId), 60_000)
              .catch(() => say(`[${elapsed()}] the request waiting at the kill was not shown again`));
        } finally {
          holdApprovals = false;
        }
        break;
      }
      case 'runtime': {
        // In the middle of a streamed answer: a reply is growing on the phone's screen.
        await phone!
          .until(
            'a reply streaming',
            () =>
              [...lanesSessions].some((id) => {
                const items = phone!.app.timeline(id).items();
                const last = items[items.length - 1];
                return last?.kind === 'text' && last.role() === 'assistant' && !last.done() && last.text() !== '';
              }),
            60_000,
          )
          .catch(() => say(`[${elapsed()}] no reply was streaming within 60 s; the runtime is killed anyway`));
        const pid = rt.supervisor.state.pid!;
        process.kill(-pid, 'SIGKILL');
        await phone!.until('the runtime to be back', () => rt.supervisor.state.status === 'ready' && rt.supervisor.state.pid !== pid, 120_000);
        break;
      }
      case 'reload': {
        // While a task is being sent: an outbox item in flight.
        await phone!.until('a task being sent', () => phone!.app.outbox.items().some((i) => i.phase === 'sending'), 30_000).catch(() => {});
        await swapPage('reload');
        break;
      }
      case 'evict':
        await swapPage('evict');
        break;
      case 'clock':
        phone!.jumpClock((Math.random() < 0.5 ? -1 : 1) * (1 + Math.floor(Math.random() * 3)) * 3600_000);
        break;
    }
    done[fault]++;
    say(`[${elapsed()}] fault: ${fault} (after ${next} tasks started)`);
  };

  const faultRun = (async () => {
    for (let i = 0; i < order.length; i++) {
      const at = Math.floor(((i + 1) * opts.tasks) / (order.length + 1));
      while (next < at && next < opts.tasks && performance.now() < deadline && !stalled) await sleep(100);
      if (performance.now() > deadline || stalled) return;
      await runFault(order[i]!);
    }
  })();

  // Disconnects at random moments, and (in the lanes) some right after a request went through.
  const stopChaos = p.chaos({ minMs: opts.dropMs * 0.4, maxMs: opts.dropMs * 1.6 });
  const progress = setInterval(() => {
    const c = phone!.connection.state;
    const waiting = tasks.filter((t) => !t.done && !t.gaveUp).map((t) => `${t.marker}${t.sessionId ? `:${phone!.app.statusOf(t.sessionId)}` : ''}`);
    const outbox = phone!.app.outbox.items().map((i) => `${i.phase}${i.note ? ` (${i.note})` : ''}`);
    say(
      `[${elapsed()}] ${finished}/${opts.tasks} tasks done, ${p.drops} disconnects, ${retried.size} retried, ${stuck.size} stuck sessions; ` +
        `phone ${c.status}${c.catchingUp ? ' catching up' : ''} (${c.reason}), runtime ${rt.supervisor.state.status}; waiting: ${waiting.join(' ')}; outbox: ${outbox.join(', ') || 'empty'}`,
    );
    if (!stalled && performance.now() - lastFinished > STALL_MS) {
      stalled = `no task finished for ${STALL_MS / 1000} s (outbox: ${outbox.slice(0, 3).join(', ') || 'empty'})`;
      say(`[${elapsed()}] STALLED: ${stalled}; the lanes stop, what did not finish counts as lost`);
    }
  }, 15_000);
  await Promise.all(Array.from({ length: opts.sessions }, () => lane()));
  await faultRun;
  // Tasks may end before enough disconnects happened: then the connection is broken again as soon
  // as the phone has caught up, until then.
  stopChaos();
  const duringTasks = p.drops;
  while (p.drops < opts.disconnects && performance.now() < deadline) {
    await phone.until('the phone to catch up', () => phone!.caughtUp(), 60_000).catch(() => {});
    p.dropAll();
    await phone.until('the phone to notice', () => !phone!.caughtUp(), 10_000).catch(() => {});
  }
  clearInterval(progress);
  await phone.until('the phone to catch up', () => phone!.caughtUp(), 60_000).catch(() => {});
  watching = false;
  await watcher;

  // ---- count, from the runtime's own records ----------------------------------------------------
  const sessions = new Set(tasks.flatMap((t) => (t.sessionId ? [t.sessionId] : [])));
  type Stored = Array<{ info: { id: string; role: string; parentID?: string; time: { completed?: number } }; parts: Array<{ type: string; text?: string }> }>;
  const stored = new Map<string, Stored>();
  for (const id of sessions) stored.set(id, (await rt.bridge.messages(id)) as Stored);
  let completed = 0;
  let duplicated = 0;
  const lost: string[] = [];
  const duplicates: string[] = [];
  for (const task of tasks) {
    const messages = task.sessionId ? stored.get(task.sessionId)! : [];
    const users = messages.filter((m) => m.info.role === 'user' && m.parts.some((x) => x.type === 'text' && x.text === task.text));
    const runs = rt.fakeModel.requests.filter((r) => (r.kind === 'text' || r.kind === 'bash') && r.lastUserText === task.text).length;
    const answered = users.some((u) => messages.some((m) => m.info.role === 'assistant' && m.info.parentID === u.info.id && m.info.time.completed !== undefined));
    if (users.length > task.attempts || runs > task.attempts) {
      duplicated++;
      duplicates.push(`${task.marker} (${users.length} prompts, ${runs} model runs, ${task.attempts} sent)`);
    }
    if (answered && task.done) completed++;
    else
      lost.push(
        `${task.marker} (${task.gaveUp ?? 'not shown finished'}; ${users.length ? (answered ? 'the runtime finished it' : 'the runtime has its prompt, no finished reply') : 'never reached the runtime'})`,
      );
  }
  // What the host hands out: the runtime's messages with the text it streamed of answers cut short
  // filled in (host/tasks/partials.ts; OpenCode stores a text part only when it ends).
  const partials = openPartialTexts({ dir: join(dataDir, 'partials'), log: silentLogger });
  const mismatched: string[] = [];
  for (const id of sessions) {
    const shown = shownTranscript(phone.app, id);
    const handedOut = storedTranscript(partials.fill(id, stored.get(id)));
    if (JSON.stringify(shown) === JSON.stringify(handedOut)) continue;
    const at = shown.findIndex((x, i) => JSON.stringify(x) !== JSON.stringify(handedOut[i]));
    const first = at < 0 ? shown.length : at;
    mismatched.push(`${id}: at part ${first}, the phone shows ${JSON.stringify(shown[first] ?? null)}, the host has ${JSON.stringify(handedOut[first] ?? null)}`);
  }

  const s = {
    connects: pages.reduce((n, x) => n + x.stats.connects, 0),
    losses: pages.reduce((n, x) => n + x.stats.losses, 0),
    resumed: pages.reduce((n, x) => n + x.stats.resumed, 0),
    catchUpMs: pages.flatMap((x) => x.stats.catchUpMs),
    resent: pages.reduce((n, x) => n + [...x.stats.submits.values()].filter((k) => k > 1).length, 0),
  };
  const q = quantiles(s.catchUpMs);
  const back = quantiles(listenToConnectedMs);
  const kills = done.host + done['host-permission'] + done.runtime;
  const load = loadavg()
    .map((x) => x.toFixed(1))
    .join(' ');
  const list = (xs: string[]) => (xs.length ? ` (${xs.slice(0, 8).join(', ')}${xs.length > 8 ? ', …' : ''})` : '');
  say('');
  say(`soak finished in ${elapsed()}${performance.now() > deadline ? ' (time limit reached)' : ''}${stalled ? ` (stalled: ${stalled})` : ''}; load average ${load}`);
  say(`  tasks submitted:                 ${tasks.length}`);
  say(`  tasks completed:                 ${completed}`);
  say(`  interrupted and retried:         ${retried.size}`);
  say(`  not sent (failed) and retried by the person: ${refusals.length}${list([...new Set(refusals)])}`);
  say(`  tasks duplicated:                ${duplicated}${list(duplicates)}`);
  say(`  tasks lost:                      ${lost.length}${list(lost)}`);
  say(`  sessions stuck:                  ${stuck.size}${list([...stuck.keys()])}`);
  say(`  forced disconnects:              ${p.drops} (${duringTasks} while tasks ran); the phone lost its connection ${s.losses} times`);
  say(`  kills:                           ${done.host + done['host-permission']} host (${done['host-permission']} while a permission waited), ${done.runtime} runtime mid-answer`);
  say(`  page reloads while sending:      ${done.reload}; storage evictions: ${done.evict}${evictionSaid ? ` (the app ${evictionSaid})` : ''}; clock jumps: ${done.clock}`);
  say(`  submissions sent more than once: ${s.resent} (the answer was lost; the host answered the resend with the first result)`);
  say(`  connections: ${s.connects} over ${pages.length} pages (${s.resumed} resumed from the journal)`);
  say(`  reconnect → caught up (ms):      median ${q.median}, p90 ${q.p90}, p99 ${q.p99}, max ${q.max}  (n=${s.catchUpMs.length}; includes the link's backoff)`);
  say(`  host listening → phone connected (ms): median ${back.median}, max ${back.max}  (n=${listenToConnectedMs.length}, one per host kill)`);
  say(`  sessions whose transcript on the phone differs from the runtime's (with the host's kept partial answers): ${mismatched.length}${list(mismatched)}`);
  const ok =
    lost.length === 0 &&
    duplicated === 0 &&
    stuck.size === 0 &&
    mismatched.length === 0 &&
    p.drops >= opts.disconnects &&
    tasks.length >= opts.tasks &&
    kills >= opts.hostKills + opts.runtimeKills;
  say(ok ? 'PASS' : 'FAIL');
  return ok ? 0 : 1;
}

function quantiles(values: number[]): { median: string; p90: string; p99: string; max: string } {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!.toFixed(0) : '–');
  return { median: at(0.5), p90: at(0.9), p99: at(0.99), max: sorted.length ? sorted[sorted.length - 1]!.toFixed(0) : '–' };
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
