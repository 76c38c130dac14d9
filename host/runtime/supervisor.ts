/**
 * Keeps one OpenCode runtime (`opencode serve`) available to the host: starts it on a free
 * loopback port with a fresh password, waits until it answers its health route, restarts it
 * with exponential backoff when it dies or stops answering, and stops it with its whole
 * process group. The runtime runs under a watchdog (`WATCHDOG`) that ends it when the host ends,
 * however it ends, and with a plugin (`ENV_SCRUB_PLUGIN`) that keeps its password out of every
 * process it starts. In attach mode (`--opencode-url`) it only watches a runtime someone else runs.
 *
 * Failure policy: after `maxFailures` consecutive failed starts or short-lived runs the state
 * becomes `failed` (so the UI can say so), but the supervisor keeps trying every
 * `backoffMaxMs`: a runtime that comes back (disk freed, config fixed) is picked up without a
 * host restart. A run that stayed up for `stableAfterMs` resets the count and the backoff.
 * @module
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { accessSync, constants, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { pathToFileURL } from 'node:url';
import type { Logger } from '../log.ts';
import { resolveOpencodeBinary } from './binary.ts';
import { checkHealth, RUNTIME_USER } from './health.ts';

export type RuntimeStatus = 'starting' | 'ready' | 'restarting' | 'failed' | 'stopped';

export interface RuntimeState {
  status: RuntimeStatus;
  mode: 'spawn' | 'attach';
  /** Base URL of the runtime; changes on every restart in spawn mode (fresh free port). */
  url?: string;
  pid?: number;
  /** OpenCode's version as its health route reports it. */
  version?: string;
  /** How many times a replacement runtime was started (spawn mode). */
  restarts: number;
  /** When `status` last changed (ms since the epoch). */
  since: number;
  /** Why the runtime last failed, with its last output lines when it died. */
  lastError?: string;
}

export interface RuntimeSupervisorOptions {
  log: Logger;
  /** Workspace directories; the runtime runs in the first. Required unless attaching. */
  workspaces?: string[];
  /** Watch this already running runtime instead of starting one. */
  attachUrl?: string;
  /** Attach mode only: the runtime's password (default: env OPENCODE_SERVER_PASSWORD). */
  attachPassword?: string;
  /** Extra environment for the runtime, over the host's own (tests isolate HOME/XDG_* here). */
  env?: Record<string, string | undefined>;
  /** The opencode executable (default: the one installed with the opencode-ai package). */
  binary?: string;
  /** Loopback port for the runtime (default 0: a free one). */
  port?: number;
  /** How long a start may take until the runtime answers its health route (default 30 s). */
  startTimeoutMs?: number;
  /** Timeout of a single health request while starting (default 1 s). */
  healthTimeoutMs?: number;
  /** Health polling once ready (default 5 s); two misses in a row count as the runtime lost. */
  pollIntervalMs?: number;
  backoffInitialMs?: number;
  backoffMaxMs?: number;
  /** A run this long resets the failure count and the backoff (default 60 s). */
  stableAfterMs?: number;
  /** Consecutive failures before the state says `failed` (default 5). */
  maxFailures?: number;
  /** Wait between SIGTERM and SIGKILL when stopping (default 5 s). */
  stopGraceMs?: number;
  /**
   * Where the spawned runtime's pid is kept. Should a runtime survive its host (its watchdog was
   * killed too), the next start finds it here and stops it before starting its own, so two
   * runtimes never work on the same sessions.
   */
  pidFile?: string;
}

export interface RuntimeSupervisor {
  readonly state: RuntimeState;
  /** The password the runtime expects (user `opencode`); undefined when attached without one. */
  readonly password: string | undefined;
  /**
   * Starts supervising; resolves with the first `ready` state.
   * @throws Error with `lastError` when the state reaches `failed` (or `stopped`) first; the
   * supervisor keeps retrying in the background until `stop()`.
   */
  start(): Promise<RuntimeState>;
  /** Stops the runtime (SIGTERM, then SIGKILL after the grace period) and all supervision. */
  stop(): Promise<void>;
  onState(listener: (state: RuntimeState) => void): () => void;
}

/**
 * Runs the runtime (`"$@"`) so that it cannot outlive the host, however the host ends. The host
 * holds the write end of this shell's stdin; the background reader sees end-of-file when the
 * host is gone (even after SIGKILL, which no handler in the host sees). It then freezes the
 * runtime, kills its descendants that live in process groups of their own (OpenCode starts the
 * agent's commands detached), and ends the runtime's process group: SIGTERM first, SIGKILL 2 s
 * later (OpenCode 1.18 can ignore SIGTERM while its plugin install hangs). `exec` keeps the
 * runtime's pid that of this shell (`$$`, also in the subshell), the group's leader.
 * `umask 077`: everything the runtime and its tools create is private (files 0600, dirs 0700).
 * The reader ignores SIGTERM so that the group's SIGTERM (its own or the host's) never ends it
 * before its SIGKILL; the host kills the group with SIGKILL whenever a runtime is over. `$1` is a
 * directory of the host's to remove when the host is gone.
 */
const WATCHDOG = `umask 077
leftover=$1; shift
exec 3<&0
(
  trap '' TERM
  while read -r _; do :; done <&3
  kill -STOP $$
  kill -KILL $(ps -A -o pid= -o ppid= -o pgid= | awk -v root=$$ '
    { parent[$1] = $2; group[$1] = $3 }
    END { for (p in parent) if (group[p] != root) { q = parent[p]; while (q != root && (q in parent)) q = parent[q]; if (q == root) print p } }') 2>/dev/null
  kill -TERM 0
  kill -CONT $$
  sleep 2
  rm -rf "$leftover"
  kill -KILL 0
) &
exec "$@" </dev/null 3<&-`;

/**
 * A plugin the runtime loads (OPENCODE_CONFIG_CONTENT's \`plugin\`) that deletes its password from
 * its own environment, so no process it starts afterwards (the agent's shells, the pty, formatters,
 * LSPs, MCP servers) inherits it. OpenCode 1.18 reads the password once, when its server starts;
 * plugins load later, when a directory is first used, before any tool runs there. Checked against
 * the real runtime by e2e/runtime-secrets.test.ts (the agent's \`env\` shows no credential and
 * the runtime still refuses requests without one). The price: OpenCode gives plugins a client whose
 * auth header it takes from that variable when a directory is first used, so plugins of your own
 * that call the runtime through that client get 401 in workspaces opened after the first.
 */
const ENV_SCRUB_PLUGIN = `export const OpenworkScrubRuntimeCredentials = async () => {
  delete process.env.OPENCODE_SERVER_PASSWORD;
  return {};
};
`;

/** The host's private directory for its runtime: `<tmpdir>/openwork-runtime-XXXXXX`. */
const PRIVATE_DIR_PREFIX = 'openwork-runtime-';

/** The line `opencode serve` prints once it listens. */
const LISTENING = /listening on (https?:\/\/\S+)/;
const OUTPUT_LINES_KEPT = 50;
const LIVENESS_TIMEOUT_MS = 5000;
const MISSED_POLLS_FOR_LOSS = 2;

class Stopped extends Error {}

export function createRuntimeSupervisor(opts: RuntimeSupervisorOptions): RuntimeSupervisor {
  const log = opts.log;
  const attach = opts.attachUrl !== undefined;
  if (!attach && !opts.workspaces?.length) throw new TypeError('workspaces must name at least one directory when not attaching');
  const cfg = {
    startTimeoutMs: opts.startTimeoutMs ?? 30_000,
    healthTimeoutMs: opts.healthTimeoutMs ?? 1000,
    pollIntervalMs: opts.pollIntervalMs ?? 5000,
    backoffInitialMs: opts.backoffInitialMs ?? 500,
    backoffMaxMs: opts.backoffMaxMs ?? 30_000,
    stableAfterMs: opts.stableAfterMs ?? 60_000,
    maxFailures: opts.maxFailures ?? 5,
    stopGraceMs: opts.stopGraceMs ?? 5000,
  };
  const password = attach ? (opts.attachPassword ?? process.env.OPENCODE_SERVER_PASSWORD) : randomBytes(32).toString('base64url');

  let state: RuntimeState = { status: 'starting', mode: attach ? 'attach' : 'spawn', restarts: 0, since: Date.now() };
  const listeners = new Set<(s: RuntimeState) => void>();
  const stopper = new AbortController();
  let child: { proc: ChildProcess; exited: Promise<void> } | undefined;
  let started: Promise<RuntimeState> | undefined;
  let loop: Promise<void> | undefined;
  let stopping: Promise<void> | undefined;

  const set = (patch: Partial<RuntimeState>) => {
    const next = { ...state, ...patch };
    if (next.status !== state.status) next.since = Date.now();
    state = next;
    if (patch.status) log.debug('runtime state', { status: state.status, url: state.url, pid: state.pid, restarts: state.restarts });
    for (const l of [...listeners]) {
      try {
        l(state);
      } catch (err) {
        log.error('runtime state listener failed', { err });
      }
    }
  };

  /** Private to this user (mkdtemp makes it 0700); holds the plugin; removed by stop() or the watchdog. */
  let ownDir: string | undefined;
  const privateDir = () => (ownDir ??= mkdtempSync(join(tmpdir(), PRIVATE_DIR_PREFIX)));
  const scrubPlugin = () => {
    const file = join(privateDir(), 'scrub-credentials.js');
    writeFileSync(file, ENV_SCRUB_PLUGIN, { mode: 0o600 });
    return file;
  };

  /**
   * Whatever the runtime started dies with it: its process group, and before that (SIGKILL) its
   * descendants in groups of their own, such as the agent's commands, which OpenCode starts detached.
   */
  const killGroup = (signal: NodeJS.Signals) => {
    const pid = child?.proc.pid;
    if (pid === undefined) return;
    for (const d of detachedDescendants(pid)) {
      try {
        process.kill(d, 'SIGKILL');
      } catch {
        // Gone meanwhile.
      }
    }
    try {
      process.kill(-pid, signal);
    } catch {
      // Already gone.
    }
  };
  const killOnHostExit = () => {
    killGroup('SIGKILL');
    // The watchdog, killed with the group, cannot remove it.
    if (ownDir) rmSync(ownDir, { recursive: true, force: true });
  };

  /** Starts one runtime process and returns once it is ready; rejects (after killing it) if it is not. */
  async function launch(binary: string): Promise<{ exited: Promise<string> }> {
    if (opts.pidFile) {
      await stopLeftover(opts.pidFile, log);
      // stop() may have come while we waited: it must not find a runtime started after it.
      if (stopper.signal.aborted) throw new Stopped();
    }
    try {
      // The watchdog shell would only say "not found" in its output.
      accessSync(binary, constants.X_OK);
    } catch (err) {
      throw new Error(`the runtime could not be started: ${(err as Error).message}`);
    }
    const output: string[] = [];
    const env: Record<string, string | undefined> = { ...process.env, OPENCODE_DISABLE_AUTOUPDATE: '1', OPENCODE_DISABLE_SHARE: '1', ...opts.env };
    const args = ['serve', '--hostname', '127.0.0.1', '--port', String(opts.port ?? 0), '--print-logs', '--log-level', 'WARN'];
    // Windows has no POSIX shell or process groups: there the runtime runs as it is.
    const [command, argv] = process.platform === 'win32' ? [binary, args] : ['/bin/sh', ['-c', WATCHDOG, 'openwork-runtime', privateDir(), binary, ...args]];
    const proc = spawn(command, argv, {
      cwd: opts.workspaces![0],
      env: {
        ...env,
        OPENCODE_CONFIG_CONTENT: withPlugin(env.OPENCODE_CONFIG_CONTENT, pathToFileURL(scrubPlugin()).href),
        OPENCODE_SERVER_USERNAME: RUNTIME_USER,
        OPENCODE_SERVER_PASSWORD: password,
      },
      // Its own process group, so stopping it reaches everything it started.
      detached: true,
      // stdin: the watchdog's pipe, closed by the system whenever this process ends.
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let exitReason: string | undefined;
    const exited = new Promise<string>((resolve) => {
      proc.once('exit', (code, signal) => {
        exitReason = signal ? `the runtime was killed by ${signal}` : `the runtime exited with code ${code}`;
        const reason = exitReason;
        // Its last words may still be in the pipes; processes it left behind may hold them open.
        Promise.race([new Promise((r) => proc.once('close', r)), sleep(200)]).then(() => resolve(withOutput(reason, output)));
      });
      proc.once('error', (err) => {
        exitReason = `the runtime could not be started: ${err.message}`;
        resolve(exitReason);
      });
    });
    child = { proc, exited: exited.then(() => undefined) };
    set({ pid: proc.pid, url: undefined, version: undefined });
    if (opts.pidFile && proc.pid !== undefined) {
      const pidFile = opts.pidFile;
      writeFileSync(pidFile, JSON.stringify({ pid: proc.pid, binary, dir: ownDir }), { mode: 0o600 });
      const pid = proc.pid;
      // Only our own pid: a replacement may have written its pid here already.
      void exited.then(() => {
        if (readPidFile(pidFile).pid === pid) rmSync(pidFile, { force: true });
      });
    }

    let url: string | undefined;
    for (const [name, stream] of [
      ['stdout', proc.stdout!],
      ['stderr', proc.stderr!],
    ] as const) {
      createInterface({ input: stream }).on('line', (line) => {
        log.debug(line, { stream: name });
        output.push(line);
        if (output.length > OUTPUT_LINES_KEPT) output.shift();
        url ??= LISTENING.exec(line)?.[1];
      });
    }

    const deadline = Date.now() + cfg.startTimeoutMs;
    let lastProblem = 'it never printed its listening address';
    while (exitReason === undefined) {
      if (stopper.signal.aborted) throw new Stopped();
      if (Date.now() > deadline) {
        killGroup('SIGKILL');
        await exited;
        throw new Error(withOutput(`the runtime did not become ready within ${cfg.startTimeoutMs} ms (${lastProblem})`, output));
      }
      if (url) {
        try {
          const health = await checkHealth(url, password, cfg.healthTimeoutMs);
          set({ status: 'ready', url, version: health.version, lastError: undefined });
          return { exited };
        } catch (err) {
          lastProblem = (err as Error).message;
        }
      }
      await sleep(100, stopper.signal).catch(() => undefined);
    }
    throw new Error(await exited);
  }

  /** Resolves with why the runtime was lost: it exited, or stopped answering and was killed. */
  async function watchSpawned(exited: Promise<string>): Promise<string> {
    const url = state.url!;
    const run = new AbortController();
    const signal = AbortSignal.any([stopper.signal, run.signal]);
    let unresponsive = false;
    const poll = async () => {
      let missed = 0;
      while (missed < MISSED_POLLS_FOR_LOSS) {
        await sleep(cfg.pollIntervalMs, signal);
        try {
          await checkHealth(url, password, LIVENESS_TIMEOUT_MS);
          missed = 0;
        } catch (err) {
          if (signal.aborted) return;
          missed++;
          log.warn('runtime health check failed', { err, missed });
        }
      }
      unresponsive = true;
      killGroup('SIGKILL');
    };
    poll().catch(() => undefined);
    try {
      const reason = await exited;
      return unresponsive ? `the runtime stopped answering health checks and was killed (${reason})` : reason;
    } finally {
      // This run is over: its poller must never touch the next runtime.
      run.abort();
    }
  }

  async function superviseSpawned(): Promise<void> {
    const binary = opts.binary ?? resolveOpencodeBinary();
    let failures = 0;
    for (let attempt = 0; !stopper.signal.aborted; attempt++) {
      if (attempt > 0) set({ restarts: state.restarts + 1 });
      const t0 = Date.now();
      let reason: string;
      let readyAt: number | undefined;
      try {
        const { exited } = await launch(binary);
        readyAt = Date.now();
        log.info('runtime ready', { url: state.url, pid: state.pid, version: state.version, startMs: readyAt - t0 });
        reason = await watchSpawned(exited);
      } catch (err) {
        if (err instanceof Stopped) return;
        reason = (err as Error).message;
      }
      if (stopper.signal.aborted) return;
      // What is left of the group (tool processes) must not outlive the runtime it belonged to.
      killGroup('SIGKILL');
      failures = readyAt !== undefined && Date.now() - readyAt >= cfg.stableAfterMs ? 1 : failures + 1;
      const failed = failures >= cfg.maxFailures;
      const delay = failed ? cfg.backoffMaxMs : Math.min(cfg.backoffInitialMs * 2 ** (failures - 1), cfg.backoffMaxMs);
      log.warn('runtime lost; restarting', { reason, failures, delayMs: delay });
      set({ status: failed ? 'failed' : 'restarting', lastError: reason, pid: undefined });
      await sleep(delay, stopper.signal).catch(() => undefined);
    }
  }

  async function superviseAttached(): Promise<void> {
    const url = opts.attachUrl!;
    set({ url });
    let failures = 0;
    let missed = 0;
    while (!stopper.signal.aborted) {
      let delay = cfg.pollIntervalMs;
      try {
        const health = await checkHealth(url, password, state.status === 'ready' ? LIVENESS_TIMEOUT_MS : cfg.healthTimeoutMs);
        if (state.status !== 'ready') {
          log.info('attached runtime ready', { url, version: health.version });
          set({ status: 'ready', version: health.version, lastError: undefined });
        }
        failures = 0;
        missed = 0;
      } catch (err) {
        const reason = `the runtime at ${url} does not answer: ${(err as Error).message}`;
        if (state.status === 'ready' && ++missed < MISSED_POLLS_FOR_LOSS) {
          log.warn('attached runtime health check failed', { err, missed });
        } else {
          failures++;
          const failed = failures >= cfg.maxFailures;
          delay = Math.min(cfg.backoffInitialMs * 2 ** (failures - 1), cfg.backoffMaxMs);
          if (state.status === 'ready') log.warn('attached runtime lost', { reason });
          set({ status: failed ? 'failed' : state.status === 'starting' ? 'starting' : 'restarting', lastError: reason });
        }
      }
      await sleep(delay, stopper.signal).catch(() => undefined);
    }
  }

  const onState = (listener: (s: RuntimeState) => void) => {
    listeners.add(listener);
    return () => void listeners.delete(listener);
  };

  return {
    get state() {
      return state;
    },
    password,
    onState,
    start() {
      started ??= new Promise<RuntimeState>((resolve, reject) => {
        const off = onState((s) => {
          if (s.status === 'ready') resolve(s);
          else if (s.status === 'failed' || s.status === 'stopped') reject(new Error(s.lastError ?? `the runtime is ${s.status}`));
          else return;
          off();
        });
        if (!attach) process.on('exit', killOnHostExit);
        loop = (attach ? superviseAttached() : superviseSpawned()).catch((err: unknown) => {
          // Only a missing binary gets here: nothing to retry.
          log.error('runtime supervision stopped', { err });
          set({ status: 'failed', lastError: (err as Error).message });
        });
      });
      return started;
    },
    stop() {
      stopping ??= (async () => {
        stopper.abort();
        const running = child;
        if (running && running.proc.exitCode === null && running.proc.signalCode === null) {
          killGroup('SIGTERM');
          const graceful = await Promise.race([running.exited.then(() => true), sleep(cfg.stopGraceMs).then(() => false)]);
          if (!graceful) {
            log.warn('runtime ignored SIGTERM; killing it', { pid: running.proc.pid });
            killGroup('SIGKILL');
            await running.exited;
          }
        }
        killGroup('SIGKILL');
        await loop;
        process.off('exit', killOnHostExit);
        if (ownDir) rmSync(ownDir, { recursive: true, force: true });
        set({ status: 'stopped', pid: undefined });
        listeners.clear();
      })();
      return stopping;
    },
  };
}

/**
 * `content` (OPENCODE_CONFIG_CONTENT, a JSON object or unset) with `spec` added to its `plugin`
 * list; OpenCode adds the plugins it names to those of the other configuration files.
 * @throws Error when `content` is not a JSON object.
 */
export function withPlugin(content: string | undefined, spec: string): string {
  let config: Record<string, unknown> = {};
  if (content) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(content);
    } catch (err) {
      throw new Error(`OPENCODE_CONFIG_CONTENT is not valid JSON (${(err as Error).message}): fix it or unset it`);
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('OPENCODE_CONFIG_CONTENT must be a JSON object: fix it or unset it');
    config = parsed as Record<string, unknown>;
  }
  const plugins = Array.isArray(config.plugin) ? config.plugin : [];
  return JSON.stringify({ ...config, plugin: [...plugins, spec] });
}

function withOutput(reason: string, output: string[]): string {
  return output.length ? `${reason}; last output:\n${output.join('\n')}` : reason;
}

/** Resolves after `ms`; rejects as soon as `signal` aborts. */
function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new Stopped());
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(new Stopped());
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Descendants of `root` outside its process group (the same walk as the watchdog's). `ps` works on
 * Linux and macOS alike; a process whose parent already ended has left the tree and is missed.
 */
function detachedDescendants(root: number): number[] {
  const ps = spawnSync('ps', ['-A', '-o', 'pid=', '-o', 'ppid=', '-o', 'pgid='], { encoding: 'utf8' });
  if (ps.status !== 0) return [];
  const parent = new Map<number, number>();
  const group = new Map<number, number>();
  for (const line of ps.stdout.split('\n')) {
    const [pid, ppid, pgid] = line.trim().split(/\s+/).map(Number);
    if (pid && ppid !== undefined && pgid !== undefined) {
      parent.set(pid, ppid);
      group.set(pid, pgid);
    }
  }
  return [...parent.keys()].filter((pid) => {
    if (group.get(pid) === root) return false;
    let p = parent.get(pid);
    // Bounded: a snapshot taken while pids are reused could hold a cycle.
    for (let steps = 0; p !== undefined && p !== root && steps < parent.size; steps++) p = parent.get(p);
    return p === root;
  });
}

/**
 * Stops a runtime a previous host left behind (see `pidFile`), if that pid is still an OpenCode
 * server, with the commands it started; removes that host's private directory.
 */
async function stopLeftover(pidFile: string, log: Logger): Promise<void> {
  const { pid, dir } = readPidFile(pidFile);
  if (pid === undefined) return;
  rmSync(pidFile, { force: true });
  if (dir) rmSync(dir, { recursive: true, force: true });
  if (!isOpencodeServer(pid)) return;
  log.warn('stopping the runtime a previous run of the host left behind', { pid });
  for (const d of detachedDescendants(pid)) {
    try {
      process.kill(d, 'SIGKILL');
    } catch {
      // Gone meanwhile.
    }
  }
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    return;
  }
  for (let i = 0; i < 50 && isAlive(pid); i++) await sleep(100);
}

/** The pid file's runtime pid and private directory; a directory is only taken if it is one of ours in the temporary directory. */
function readPidFile(pidFile: string): { pid?: number; dir?: string } {
  try {
    const { pid, dir } = JSON.parse(readFileSync(pidFile, 'utf8')) as { pid?: unknown; dir?: unknown };
    return {
      ...(typeof pid === 'number' && Number.isSafeInteger(pid) && pid > 1 ? { pid } : {}),
      ...(typeof dir === 'string' && dirname(dir) === tmpdir() && basename(dir).startsWith(PRIVATE_DIR_PREFIX) ? { dir } : {}),
    };
  } catch {
    return {};
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** `ps` works on Linux and macOS alike; a recycled pid running something else is left alone. */
function isOpencodeServer(pid: number): boolean {
  const ps = spawnSync('ps', ['-o', 'command=', '-p', String(pid)], { encoding: 'utf8' });
  return ps.status === 0 && /opencode/.test(ps.stdout) && /\bserve\b/.test(ps.stdout);
}
