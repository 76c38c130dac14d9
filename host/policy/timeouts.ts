/**
 * A permission question nobody answers must not hold a task forever (and the runtime's process
 * with it): after the configured time the host answers "reject" with a message saying why. The
 * runtime hands that message to the model as the tool's error, so the task tells the person that
 * nobody answered instead of hanging.
 *
 * Questions asked while the host was not listening (before it started, or while the event stream
 * was reconnecting) are found by listing the runtime's open requests; their wait starts then.
 * A question whose workspace did not answer that list is still timed: missing from it is not
 * answered (host/runtime/permissions-list.ts), and a denial that could not be delivered while the
 * question may still wait is tried again after another full wait.
 * @module
 */
import type { Logger } from '../log.ts';
import type { RelayRuntimeEvent } from '../../shared/protocol/runtime-events.ts';
import { trimOldest } from '../../shared/bounded.ts';
import { requestIn, type PermissionsList } from '../runtime/permissions-list.ts';

/** What this needs of the runtime bridge (host/runtime/bridge.ts fits). */
export interface TimeoutRuntime {
  onEvent(listener: (event: RelayRuntimeEvent) => void): () => void;
  listPermissions(): Promise<PermissionsList>;
  replyPermission(requestId: string, reply: 'once' | 'reject', message?: string): Promise<void>;
  /** Resolves once the event stream is connected. */
  subscribed?(): Promise<void>;
}

export interface PermissionTimeoutOptions {
  runtime: TimeoutRuntime;
  timeoutSeconds: number;
  log: Logger;
  /** A question was denied because nobody answered it (the host's metrics count these). */
  onTimeout?(requestId: string): void;
}

export interface PermissionTimeouts {
  /** Whether the host is answering, or answered, `requestId` because its time ran out. */
  answeredByTimeout(requestId: string): boolean;
  /**
   * When the host will answer `requestId` for want of an answer (epoch ms), for devices to count
   * down to; undefined when it is not being timed (answered, or not seen by this module yet).
   */
  deadlineOf(requestId: string): number | undefined;
  /** Questions waiting now. */
  waiting(): number;
  stop(): void;
}

/** Ids of timed-out questions remembered so their `permission.replied` can be recognised. */
const REMEMBERED = 1000;

/**
 * The words the host's timeout answers with: the runtime hands them to the model and shows them
 * as the tool's error after its own "The user rejected permission …" preamble.
 */
export function timeoutMessage(seconds: number): string {
  const minutes = seconds / 60;
  const span = Number.isInteger(minutes) ? `${minutes} minute${minutes === 1 ? '' : 's'}` : `${seconds} second${seconds === 1 ? '' : 's'}`;
  return `No one answered within ${span}, so the host denied it`;
}

/**
 * The host's own timeout message inside a tool's error text, when it is there: the host wrote
 * those words, so it may read them back (to mark the tool part `denied: "timeout"` for devices,
 * also in a transcript reloaded long after the event that said so).
 */
export function timeoutDenial(text: string): string | undefined {
  return /No one answered within \d+ (?:minutes?|seconds?), so the host denied it/.exec(text)?.[0];
}

export function startPermissionTimeouts(opts: PermissionTimeoutOptions): PermissionTimeouts {
  const { runtime, log } = opts;
  const ms = opts.timeoutSeconds * 1000;
  const message = timeoutMessage(opts.timeoutSeconds);
  const timers = new Map<string, NodeJS.Timeout>();
  /** requestId → when its timer fires (Date.now() ms), for as long as the timer is set. */
  const deadlines = new Map<string, number>();
  const timedOut = new Set<string>();
  let stopped = false;

  const clear = (id: string) => {
    clearTimeout(timers.get(id));
    timers.delete(id);
    deadlines.delete(id);
  };

  const expire = (id: string) => {
    timers.delete(id);
    deadlines.delete(id);
    timedOut.add(id);
    trimOldest(timedOut, REMEMBERED);
    runtime.replyPermission(id, 'reject', message).then(
      () => {
        log.info('denied a permission request nobody answered in time', { requestId: id, timeoutSeconds: opts.timeoutSeconds });
        opts.onTimeout?.(id);
      },
      (err: unknown) => {
        timedOut.delete(id);
        log.debug('could not deny a permission request that timed out', { requestId: id, err });
        // Usually answered at the last moment, or lost with a restarted runtime; but a workspace
        // that is not answering refuses the denial while its question may wait still: try again later.
        runtime.listPermissions().then(
          (list) => {
            if (requestIn(list, id) !== undefined) arm(id);
          },
          () => {},
        );
      },
    );
  };

  const arm = (id: string) => {
    if (stopped || timers.has(id) || timedOut.has(id)) return;
    const timer = setTimeout(() => expire(id), ms);
    timer.unref();
    timers.set(id, timer);
    deadlines.set(id, Date.now() + ms);
  };

  /** Adopts the runtime's list of waiting questions as the truth. */
  const resync = async () => {
    let list: PermissionsList;
    try {
      list = await runtime.listPermissions();
    } catch (err) {
      log.debug('could not list waiting permission requests', { err });
      return;
    }
    for (const id of [...timers.keys()]) if (requestIn(list, id) === undefined) clear(id);
    for (const p of list.requests) arm(p.id);
  };

  const unsubscribe = runtime.onEvent((event) => {
    if (event.type === 'permission.asked') arm(event.requestId);
    else if (event.type === 'permission.replied') clear(event.requestId);
    else if (event.type === 'runtime.reconnected') void resync();
  });
  runtime.subscribed?.().then(resync, () => {});

  return {
    answeredByTimeout: (id) => timedOut.has(id),
    deadlineOf: (id) => deadlines.get(id),
    waiting: () => timers.size,
    stop() {
      stopped = true;
      unsubscribe();
      for (const id of [...timers.keys()]) clear(id);
    },
  };
}
