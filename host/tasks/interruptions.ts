/**
 * Turns cut short by a runtime or host restart, found and remembered. OpenCode forgets a running
 * turn when its process stops (host Ctrl-C, a crash, SIGKILL of either): the new runtime reports
 * the session idle, yet the turn's reply stays stored without `time.completed` or an error, so
 * whoever reads "busy" from the messages sees it running for good. The host finds such turns,
 * records them durably in the task ledger (ledger.ts, `interrupt`) and tells every device, so the
 * phone can show them as interrupted, keep the partial answer and offer to run the task again.
 *
 * A turn counts as interrupted when the runtime says its session is idle (asked before and after
 * reading its messages, so a turn that just started or just ended is not mistaken for one) and
 *   - its last reply is unfinished (no `time.completed`, no error), or
 *   - its last prompt has no reply and is a task the ledger has as forwarded and not finished
 *     (the runtime stored it and stopped before it began).
 * `check` looks at the sessions that may hold one: those of unfinished tasks, those seen busy in
 * this run and the recently updated ones; it runs whenever the runtime becomes ready (host start,
 * runtime restart) and when the event stream comes back, and once more `settleMs` later when it
 * found a prompt too recent to judge (the runtime may have been lost before it began the turn).
 * A session seen running that it finds ended is told idle (`onEnded`): its idle event was lost. `inspect` looks at one session whose
 * messages and status were just read (a device opened it), so no interruption goes unseen. Either
 * may find a cut turn before the check a restart starts: `lost` tells them what cut it meanwhile.
 * An interruption is the session's state until the session runs again (`resume`); the cut turn
 * stays in the session's history (`history`), so it still reads as interrupted after a reload.
 * `stop` is what Stop does: it aborts a running turn, or says nothing was running.
 * @module
 */
import type { Logger } from '../log.ts';
import type { InterruptReason } from '../../shared/protocol/transcript.ts';
import type { Interruption, TaskLedger } from './ledger.ts';

/** Why turns were cut short, as far as the host knows: a code, and what happened for a person. */
export interface InterruptCause {
  reason: InterruptReason;
  detail?: string;
}

/** What the detection needs of the runtime bridge (host/runtime/bridge.ts fits). */
export interface InterruptionRuntime {
  /** Every session (OpenCode's, with `relayStatus`: the runtime's `{ type }` of it; host/runtime/bridge.ts). */
  listSessions(): Promise<{ sessions: readonly unknown[] }>;
  /** The runtime's status of one session (OpenCode's `{ type: idle | busy | retry }`). */
  sessionStatus(sessionId: string): Promise<unknown>;
  /** The session's messages as the runtime stores them (`{ info, parts }` entries). */
  messages(sessionId: string): Promise<unknown>;
  /** Stops the session's running turn. */
  abort(sessionId: string): Promise<unknown>;
}

/** The runtime events the detection follows (a relay event's fields; others are ignored). */
export type ObservedEvent =
  | { type: 'session.status'; sessionId: string; status: string }
  | { type: 'session.idle'; sessionId: string }
  | { type: 'message.updated'; sessionId: string; role: string; parentId?: string; time: { completed?: number }; error?: unknown }
  | { type: string };

export interface InterruptionsOptions {
  ledger: TaskLedger;
  runtime: InterruptionRuntime;
  log: Logger;
  /** A turn was found interrupted (and recorded): tell the devices. */
  onInterrupted(record: Interruption): void;
  /**
   * A session seen running ended while the host was not told (the runtime was lost right after its
   * turn finished, before it said the session was idle): tell the devices it is idle, or they show
   * it running for good.
   */
  onEnded?(sessionId: string): void;
  /** Sessions updated this recently are looked at by `check` (default 24 hours)… */
  recentMs?: number;
  /** …at most this many of them, the most recent first (default 20). */
  recentLimit?: number;
  /**
   * How long after the runtime took a task its prompt may still be missing or unanswered while
   * the session reads idle, before that counts (default 5 s): the runtime stores and starts a
   * prompt shortly after it answered.
   */
  settleMs?: number;
  now?: () => number;
}

export interface Interruptions {
  /** Follows the runtime's events: sessions running, turns ending. */
  observe(event: ObservedEvent): void;
  /**
   * Looks for turns that can no longer finish and records them with `cause`. Resolves once done;
   * checks asked meanwhile run once more after.
   */
  check(cause: InterruptCause): Promise<Interruption[]>;
  /**
   * The host knows what is cutting turns short: its own stop (at its start) or the runtime's loss.
   * Until a check has looked at every session since, a turn found cut short without a cause the
   * host saw (by `inspect` when a device opens a session, by the check when the event stream comes
   * back) gets this one: either may run before the check the restart starts.
   */
  lost(cause: InterruptCause): void;
  /**
   * The session's interruption, given its messages and status as just read from the runtime:
   * finds (and records) one not known yet; undefined while the session runs or has none.
   */
  inspect(sessionId: string, messages: unknown, status: unknown): Promise<Interruption | undefined>;
  /** The session's recorded interruption, until it runs again. */
  of(sessionId: string): Interruption | undefined;
  /** Every turn of the session recorded as cut short, oldest first (its history, also after it ran again). */
  history(sessionId: string): Interruption[];
  /**
   * What Stop does: stops the session's turn when the runtime runs one; otherwise nothing was left
   * to stop, and a turn left open is recorded as interrupted (and told). `running`: whether a turn
   * was running.
   */
  stop(sessionId: string): Promise<{ running: boolean }>;
}

/** What a session's messages leave open: the turn's prompt, and its unfinished reply if it had one. */
export interface OpenTurn {
  messageId: string;
  replyId?: string;
}

/**
 * The turn a session's messages leave open: the latest reply when it is unfinished, or the latest
 * prompt when nothing answered it. Undefined when the last turn ended (completed, failed, stopped).
 * Message ids sort by creation (OpenCode's ids, and the host's own: message-id.ts).
 */
export function openTurn(messages: unknown): OpenTurn | undefined {
  if (!Array.isArray(messages)) return undefined;
  let user: string | undefined;
  let reply: { id: string; parent?: string; open: boolean } | undefined;
  for (const entry of messages) {
    const info = (entry as { info?: Record<string, unknown> } | null)?.info;
    if (!info || typeof info.id !== 'string') continue;
    if (info.role === 'user' && (user === undefined || info.id > user)) user = info.id;
    if (info.role === 'assistant' && (reply === undefined || info.id > reply.id)) {
      const completed = (info.time as { completed?: unknown } | undefined)?.completed !== undefined;
      reply = { id: info.id, open: !completed && !info.error, ...(typeof info.parentID === 'string' ? { parent: info.parentID } : {}) };
    }
  }
  if (user !== undefined && (reply === undefined || user > reply.id)) return { messageId: user };
  if (reply?.open) {
    const messageId = reply.parent ?? user;
    return messageId === undefined ? undefined : { messageId, replyId: reply.id };
  }
  return undefined;
}

/** The latest prompt in a session's messages. */
function lastPrompt(messages: unknown): string | undefined {
  if (!Array.isArray(messages)) return undefined;
  let user: string | undefined;
  for (const entry of messages) {
    const info = (entry as { info?: Record<string, unknown> } | null)?.info;
    if (info?.role === 'user' && typeof info.id === 'string' && (user === undefined || info.id > user)) user = info.id;
  }
  return user;
}

/** A listed session's fields this module reads; none when they are not there. */
function listed(v: unknown): Array<{ id: string; time: { updated: number }; relayStatus: unknown }> {
  const s = v as { id?: unknown; time?: { updated?: unknown }; relayStatus?: unknown } | null;
  if (typeof s?.id !== 'string' || typeof s.time?.updated !== 'number') return [];
  return [{ id: s.id, time: { updated: s.time.updated }, relayStatus: s.relayStatus }];
}

/** A turn found cut short without a restart seen: the runtime no longer runs it. */
const LOST: InterruptCause = { reason: 'runtime-lost' };

function isIdle(status: unknown): boolean {
  // OpenCode lists only sessions that are not idle; one it does not list is idle.
  return status === undefined || (status as { type?: unknown } | null)?.type === 'idle';
}

export function createInterruptions(opts: InterruptionsOptions): Interruptions {
  const { ledger, runtime, log } = opts;
  const now = opts.now ?? Date.now;
  const recentMs = opts.recentMs ?? 24 * 60 * 60 * 1000;
  const recentLimit = opts.recentLimit ?? 20;
  const settleMs = opts.settleMs ?? 5000;
  /** Sessions seen running in this run of the host (a runtime lost meanwhile may have cut them). */
  const active = new Set<string>();
  let checking: Promise<Interruption[]> | undefined;
  let again: InterruptCause | undefined;
  /** Set by a check that found a prompt too recent to judge: looked at again once it settled. */
  let undecided = false;
  let recheck: ReturnType<typeof setTimeout> | undefined;
  /** What `lost` said, until a check has looked at every session since. */
  let cutBy: InterruptCause | undefined;

  /**
   * Records the session's tasks (or the one whose prompt is `promptId`) as finished. `settled`:
   * only those accepted `settleMs` ago or more, as a task just forwarded may not be stored yet.
   */
  const finishTurn = (sessionId: string, promptId?: string, settled = false) => {
    for (const task of ledger.unfinished()) {
      if (task.sessionId !== sessionId || (promptId !== undefined && task.messageId !== promptId)) continue;
      if (!settled || now() - task.acceptedAt >= settleMs) ledger.finish(task.taskId);
    }
  };

  /**
   * Looks at one session the runtime reported idle: reads its messages, and records the open turn
   * when the session is still idle afterwards. A prompt without a reply counts only when it is a
   * task the ledger has as forwarded (a while ago) and not finished.
   */
  const examine = async (sessionId: string, messages: unknown, cause: InterruptCause): Promise<Interruption | undefined> => {
    const turn = openTurn(messages);
    if (!turn) {
      // The turn ended while the host was not looking (or before it recorded finishes).
      finishTurn(sessionId, undefined, true);
      if (active.delete(sessionId)) opts.onEnded?.(sessionId);
      return undefined;
    }
    if (turn.replyId === undefined) {
      const task = ledger.unfinished().find((t) => t.messageId === turn.messageId);
      if (!task) return undefined;
      if (now() - task.acceptedAt < settleMs) {
        undecided = true;
        return undefined;
      }
    }
    const known = ledger.interruption(sessionId);
    if (known?.messageId === turn.messageId && known.replyId === turn.replyId) return known;
    // A turn that started while the messages were read is running, not cut short.
    if (!isIdle(await runtime.sessionStatus(sessionId))) return undefined;
    const task = ledger.unfinished().find((t) => t.sessionId === sessionId && t.messageId === turn.messageId);
    const record: Interruption = {
      sessionId,
      messageId: turn.messageId,
      ...(turn.replyId ? { replyId: turn.replyId } : {}),
      ...(task ? { taskId: task.taskId } : {}),
      at: now(),
      reason: cause.reason,
      ...(cause.detail !== undefined ? { detail: cause.detail } : {}),
    };
    ledger.interrupt(record);
    // Any other task of the session waited behind this turn and will not run either.
    finishTurn(sessionId);
    active.delete(sessionId);
    log.info('a turn was cut short and will not finish', { sessionId, messageId: record.messageId, replyId: record.replyId, taskId: record.taskId, reason: record.reason });
    opts.onInterrupted(record);
    return record;
  };

  const checkOnce = async (asked: InterruptCause): Promise<Interruption[]> => {
    const settling = cutBy;
    const cause = settling && asked.reason === LOST.reason ? settling : asked;
    const unfinished = ledger.unfinished();
    const sessions = (await runtime.listSessions()).sessions.flatMap(listed);
    const recent = sessions
      .filter((s) => now() - s.time.updated <= recentMs)
      .sort((a, b) => b.time.updated - a.time.updated)
      .slice(0, recentLimit)
      .map((s) => s.id);
    const candidates = new Set([...unfinished.map((t) => t.sessionId), ...active, ...recent]);
    const status = new Map(sessions.map((s) => [s.id, s.relayStatus]));
    const found: Interruption[] = [];
    for (const sessionId of candidates) {
      // A session the runtime no longer lists is gone; its tasks with it.
      if (!status.has(sessionId)) {
        finishTurn(sessionId);
        active.delete(sessionId);
        continue;
      }
      if (!isIdle(status.get(sessionId))) continue;
      try {
        const record = await examine(sessionId, await runtime.messages(sessionId), cause);
        if (record) found.push(record);
      } catch (err) {
        log.warn('could not check a session for a turn cut short; looking again when a device opens it', { sessionId, err });
      }
    }
    if (cutBy === settling) cutBy = undefined;
    return found;
  };

  return {
    observe(event) {
      if (event.type === 'session.status' && 'status' in event) {
        if (event.status === 'idle') {
          active.delete(event.sessionId);
          finishTurn(event.sessionId);
        } else {
          active.add(event.sessionId);
          ledger.resume(event.sessionId);
        }
      } else if (event.type === 'session.idle' && 'sessionId' in event) {
        active.delete(event.sessionId);
        finishTurn(event.sessionId);
      } else if (event.type === 'message.updated' && 'role' in event && event.role === 'assistant' && event.parentId !== undefined) {
        if (event.time.completed !== undefined || event.error !== undefined) finishTurn(event.sessionId, event.parentId);
      }
    },

    check(cause) {
      if (checking) {
        again = cause;
        return checking;
      }
      const run = async (): Promise<Interruption[]> => {
        const found: Interruption[] = [];
        let next: InterruptCause | undefined = cause;
        while (next !== undefined) {
          again = undefined;
          found.push(...(await checkOnce(next)));
          next = again;
        }
        return found;
      };
      checking = run().finally(() => {
        checking = undefined;
        if (!undecided) return;
        undecided = false;
        clearTimeout(recheck);
        recheck = setTimeout(() => {
          this.check(cause).catch((err: unknown) => log.warn('could not look again for turns cut short', { err }));
        }, settleMs);
        recheck.unref();
      });
      return checking;
    },

    lost(cause) {
      cutBy = cause;
    },

    async inspect(sessionId, messages, status) {
      if (!isIdle(status)) return undefined;
      const known = ledger.interruption(sessionId);
      const found = await examine(sessionId, messages, known ?? cutBy ?? LOST);
      if (found) return found;
      // It ended with its interruption (a prompt since then would have run): still interrupted.
      if (known && lastPrompt(messages) === known.messageId) return known;
      if (known) ledger.resume(sessionId);
      return undefined;
    },

    of: (sessionId) => ledger.interruption(sessionId),
    history: (sessionId) => ledger.interruptedTurns(sessionId),

    async stop(sessionId) {
      const status = await runtime.sessionStatus(sessionId);
      if (!isIdle(status)) {
        await runtime.abort(sessionId);
        return { running: true };
      }
      await this.inspect(sessionId, await runtime.messages(sessionId), status);
      return { running: false };
    },
  };
}
