/**
 * Starts bench/host/child.ts in a process of its own and talks to it (protocol.ts). Every child
 * is remembered until it exits, and killed if the bench process exits first.
 * @module
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { buildHostBundle } from '../../scripts/build-host.mjs';
import type { ChildMessage, ChildSpec, Command, CommandResults, ReadyInfo } from '../host/protocol.ts';
import { now } from './clients.ts';

const CHILD_SOURCE = fileURLToPath(new URL('../host/child.ts', import.meta.url));
/** Beside build/host.mjs (gitignored), so its imports resolve from the project's node_modules. */
const CHILD_BUNDLE = fileURLToPath(new URL('../../build/bench-host.mjs', import.meta.url));
const live = new Set<ChildProcess>();
let bundled = false;

/**
 * The host child is bundled the way scripts/build-host.mjs bundles the host for `npm start`, and
 * runs on plain Node: start-up and memory are then the host's, not a TypeScript loader's.
 */
function bundleChild(): string {
  if (!bundled) {
    buildHostBundle(CHILD_SOURCE, CHILD_BUNDLE);
    bundled = true;
  }
  return CHILD_BUNDLE;
}
process.on('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

export interface HostProcess {
  pid: number;
  info: ReadyInfo;
  /** ws://127.0.0.1:<port>/relay */
  url: string;
  /** From fork() to the child's `ready`, as the parent saw it. */
  spawnToReadyMs: number;
  /** When fork() was called, as wall-clock milliseconds (clients.ts `now`), comparable with the child's own times. */
  forkedAtWallMs: number;
  call<C extends Command>(command: C): Promise<CommandResults[C['cmd']]>;
  /** The child's clock minus ours, from the round trip with the smallest delay. */
  clockOffset(): Promise<number>;
  /** Asks the host to close, then waits for the process; kills it after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
}

export interface HostProcessOptions {
  /** Directory for a `--cpu-prof` profile of the child (`npm run bench -- --profile`). */
  cpuProfDir?: string;
  readyTimeoutMs?: number;
}

export async function startHostProcess(spec: ChildSpec, opts: HostProcessOptions = {}): Promise<HostProcess> {
  const execArgv = opts.cpuProfDir ? ['--cpu-prof', '--cpu-prof-dir', opts.cpuProfDir] : [];
  const script = bundleChild();
  const forkedAt = performance.now();
  const forkedAtWallMs = now();
  const child = fork(script, [], {
    execArgv,
    env: { ...process.env, RELAY_BENCH_CHILD: JSON.stringify(spec) },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  live.add(child);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  exited.then(() => live.delete(child));

  let nextId = 0;
  const waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  let ready!: (info: ReadyInfo) => void;
  let failed!: (err: Error) => void;
  const readyInfo = new Promise<ReadyInfo>((res, rej) => ((ready = res), (failed = rej)));
  child.on('message', (m: ChildMessage) => {
    if (m.type === 'ready') return ready(m.info);
    if (m.type === 'failed') return failed(new Error(`the bench host did not start: ${m.error}`));
    const w = waiting.get(m.id);
    waiting.delete(m.id);
    if (m.ok) w?.resolve(m.result);
    else w?.reject(new Error(m.error));
  });
  exited.then(() => {
    failed(new Error(`the bench host exited before it was ready (code ${child.exitCode}, signal ${child.signalCode})`));
    for (const w of waiting.values()) w.reject(new Error('the bench host exited'));
    waiting.clear();
  });

  const timeoutMs = opts.readyTimeoutMs ?? 60_000;
  let timer: NodeJS.Timeout | undefined;
  let info: ReadyInfo;
  try {
    info = await Promise.race([
      readyInfo,
      new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`the bench host was not ready within ${timeoutMs} ms`)), timeoutMs))),
    ]);
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  } finally {
    clearTimeout(timer);
  }
  const spawnToReadyMs = performance.now() - forkedAt;

  const call = <C extends Command>(command: C): Promise<CommandResults[C['cmd']]> =>
    new Promise((resolve, reject) => {
      if (child.exitCode !== null || child.signalCode !== null) return reject(new Error('the bench host has exited'));
      const id = ++nextId;
      waiting.set(id, { resolve: resolve as (v: unknown) => void, reject });
      child.send({ ...command, id });
    });

  return {
    pid: child.pid!,
    info,
    url: `ws://127.0.0.1:${info.port}/relay`,
    spawnToReadyMs,
    forkedAtWallMs,
    call,
    async clockOffset() {
      let best = { rtt: Infinity, offset: 0 };
      for (let i = 0; i < 20; i++) {
        const sent = now();
        const { now: theirs } = await call({ cmd: 'clock' });
        const back = now();
        if (back - sent < best.rtt) best = { rtt: back - sent, offset: theirs - (sent + back) / 2 };
      }
      return best.offset;
    },
    async stop(graceMs = 20_000) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      call({ cmd: 'stop' }).catch(() => {});
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}
