/**
 * What the bench's parent process and its host child (bench/host/child.ts) say to each other
 * over the IPC channel of `fork`. The host runs in its own process so that its CPU time and
 * memory are its own, not the clients'.
 * @module
 */
import type { ProfileSummary } from '../lib/profile-summary.ts';
import type { SocketLayer } from './compose.ts';

export type ChildSpec =
  /**
   * The relay (compose.ts) on the given socket layer, with a stand-in runtime; `autoApprove`
   * approves every pairing request at once, as if a person said yes.
   */
  | { mode: 'compose'; socket: SocketLayer; dataDir: string; autoApprove?: boolean }
  /**
   * The real host (host/app.ts `startHost`, configured through the CLI parser): it starts a
   * runtime with `runtimeEnv`, or watches `opencodeUrl` instead. `port` 0 unless given;
   * `publicUrl` is the address pairing links and devices use (e.g. a proxy in front);
   * `staticDir` the built app it serves (default dist/).
   */
  | {
      mode: 'real';
      dataDir: string;
      workspace: string;
      /** More workspaces the host serves besides `workspace`. */
      moreWorkspaces?: string[];
      opencodeUrl?: string;
      runtimeEnv?: Record<string, string>;
      port?: number;
      publicUrl?: string;
      autoApprove?: boolean;
      staticDir?: string;
    };

export interface ReadyInfo {
  port: number;
  /** startHost's own figure (real mode), or the composition's. */
  listeningAfterMs: number;
  /** Milliseconds from this process's start (its time origin) to listening. */
  sinceProcessStartMs: number;
  rss: number;
}

export interface HostStats {
  /** process.cpuUsage(), microseconds. */
  cpuUserUs: number;
  cpuSystemUs: number;
  rss: number;
  heapUsed: number;
  /** Peak resident set size so far, bytes. */
  maxRss: number;
  connections: number;
  /** The event journal devices resume from (memory only, host/events/journal.ts). */
  journal: { events: number; bytes: number };
}

/** Where the host's memory is, from process.memoryUsage() and a heap snapshot of it (child.ts `memoryBreakdown`). */
export interface MemoryBreakdown {
  rss: number;
  heapTotal: number;
  heapUsed: number;
  /** Memory of C++ objects bound to JS ones (Buffers, the uWS addon's), outside the JS heap. */
  external: number;
  arrayBuffers: number;
  /** The heap snapshot's live objects grouped by what made them (constructor or kind), biggest first. */
  heap: Array<{ name: string; bytes: number; count: number }>;
  /** V8's heap spaces (v8.getHeapSpaceStatistics()): reserved, used, and resident in RAM. */
  spaces: Array<{ name: string; size: number; used: number; physical: number }>;
  /** The heap snapshot's code by module: functions (count), their bytecode, and the scripts' sources. */
  code: Array<{ name: string; bytes: number; count: number }>;
}

export interface PublishSpec {
  count: number;
  /** Events per second; 0 publishes as fast as the host can, `batch` per event-loop turn. */
  perSecond: number;
  batch?: number;
  /** Length of each event's text. */
  payloadBytes: number;
}

/** A fan-out burst's shape, for timing its encryption and framing apart (child.ts `deliveryCosts`). */
export interface CostSpec {
  devices: number;
  /** Events published in one event-loop turn: one frame carries them to each batching device. */
  perTurn: number;
  payloadBytes: number;
}

export type Command =
  | { cmd: 'stats' }
  | { cmd: 'clock' }
  | { cmd: 'publish'; spec: PublishSpec }
  | { cmd: 'costs'; spec: CostSpec }
  | { cmd: 'memory' }
  | { cmd: 'offers'; count: number }
  | { cmd: 'runtime' }
  /** CPU profile of the host between the two; the stop may also write the raw profile to `file` (for DevTools). */
  | { cmd: 'profile-start' }
  | { cmd: 'profile-stop'; file?: string }
  | { cmd: 'stop' };

export interface CommandResults {
  stats: HostStats;
  clock: { now: number };
  publish: { firstSeq: number; lastSeq: number };
  /** CPU microseconds per delivery (one event to one device) for each part. */
  costs: { encryptionUs: number; framingUs: number };
  memory: MemoryBreakdown;
  offers: { links: string[] };
  /** `readyAtWallMs`: when the host's runtime first became ready (wall-clock milliseconds, as clients.ts `now`). */
  runtime: { url: string; password?: string; readyAtWallMs: number };
  'profile-start': Record<string, never>;
  'profile-stop': ProfileSummary;
  stop: Record<string, never>;
}

export type Request = Command & { id: number };
export type Reply = { id: number; ok: true; result: unknown } | { id: number; ok: false; error: string };
export type ChildMessage = { type: 'ready'; info: ReadyInfo } | { type: 'failed'; error: string } | ({ type: 'reply' } & Reply);
