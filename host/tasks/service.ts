/**
 * Exactly-once task submission. Write, then publish: a new task is recorded durably (ledger.ts)
 * with the runtime message id it will have (message-id.ts) before the runtime hears of it, and
 * confirmed once the runtime took it. A task submitted again is answered with its first result;
 * one whose fate is unknown (the call failed or the host died in between) is looked for in its
 * session first and sent again, with the same message id, only when it is not there.
 *
 * After a restart (and whenever the runtime becomes ready) `reconcile` settles the tasks left
 * pending: found in the runtime → confirmed; missing and recent → sent; missing and older than
 * `resendWithinMs` → left for the device to resend (a person may no longer want it).
 * @module
 */
import type { Logger } from '../log.ts';
import type { TaskAccepted } from '../../shared/protocol/messages.ts';
import type { TurnChoice } from '../../shared/protocol/requests.ts';
import type { TaskLedger, TaskRecord } from './ledger.ts';
import { taskMessageId } from './message-id.ts';
import type { RuntimePort, TurnFile } from '../runtime/port.ts';
import { defined } from '../../shared/protocol/guard.ts';

/** What the service needs of the runtime bridge (host/runtime/bridge.ts fits). */
/** The runtime calls tasks make; of the messages only `info.id` is read. */
export type TaskRuntime = Pick<RuntimePort, 'prompt' | 'command' | 'messages'>;

/** How a task runs, and the attached files it sends with its prompt. */
export type TaskChoice = TurnChoice & { files?: TurnFile[] };

export interface TaskServiceOptions {
  ledger: TaskLedger;
  runtime: TaskRuntime;
  log: Logger;
  /** Pending tasks younger than this are sent again by `reconcile` (default 10 minutes). */
  resendWithinMs?: number;
  now?: () => number;
}

export interface TaskService {
  /**
   * Accepts a task once; every later call with its id answers the first result. `choice`: how it
   * runs (agent, model, variant), or the command it runs with `text` as its arguments.
   */
  submit(taskId: string, sessionId: string, text: string, choice?: TaskChoice): Promise<TaskAccepted>;
  /** Settles the tasks whose fate is unknown; safe to call at any time. */
  reconcile(): Promise<void>;
}

export function createTaskService(opts: TaskServiceOptions): TaskService {
  const { ledger, runtime, log } = opts;
  const now = opts.now ?? Date.now;
  const resendWithinMs = opts.resendWithinMs ?? 10 * 60 * 1000;
  /** One operation per task at a time: a resend that arrives meanwhile shares its outcome. */
  const inFlight = new Map<string, Promise<TaskAccepted>>();
  let reconciling: Promise<void> | undefined;

  const track = (taskId: string, run: () => Promise<TaskAccepted>): Promise<TaskAccepted> => {
    const p = run();
    inFlight.set(taskId, p);
    p.then(
      () => inFlight.delete(taskId),
      () => inFlight.delete(taskId),
    );
    return p;
  };

  const inRuntime = async (task: TaskRecord): Promise<boolean> => {
    const messages = await runtime.messages(task.sessionId);
    return Array.isArray(messages) && messages.some((m) => (m as { info?: { id?: unknown } })?.info?.id === task.messageId);
  };

  /** Makes sure the runtime has the task: looks first when it may already have it. */
  const deliver = async (task: TaskRecord, look: boolean): Promise<TaskAccepted> => {
    if (look && (await inRuntime(task))) {
      ledger.confirm(task.taskId);
      return accepted(task);
    }
    try {
      const turn = defined({ messageId: task.messageId, agent: task.agent, model: task.model, variant: task.variant, files: task.files });
      if (task.command !== undefined) await runtime.command(task.sessionId, task.command, task.text, turn);
      else await runtime.prompt(task.sessionId, task.text, turn);
    } catch (err) {
      ledger.fail(task.taskId, err instanceof Error ? err.message : String(err));
      throw err;
    }
    ledger.confirm(task.taskId);
    return accepted(task);
  };

  const record = (taskId: string, sessionId: string, text: string, choice: TaskChoice): TaskRecord => {
    const acceptedAt = now();
    try {
      return ledger.accept(defined({ taskId, sessionId, text, acceptedAt, messageId: taskMessageId(taskId, acceptedAt), ...choice }));
    } catch (err) {
      throw new Error(`the host could not record the task durably, so it did not start it: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
    }
  };

  const settle = async (task: TaskRecord): Promise<void> => {
    if (inFlight.has(task.taskId) || ledger.get(task.taskId)?.state !== 'pending') return;
    const resend = now() - task.acceptedAt <= resendWithinMs;
    await track(task.taskId, async () => {
      if (resend) return deliver(task, true);
      if (await inRuntime(task)) ledger.confirm(task.taskId);
      else ledger.fail(task.taskId, 'the host stopped before the runtime took this task; it runs when its device sends it again');
      return accepted(task);
    });
  };

  return {
    submit(taskId, sessionId, text, choice = {}) {
      const running = inFlight.get(taskId);
      if (running) return running;
      const known = ledger.get(taskId);
      if (known?.state === 'confirmed') return Promise.resolve(accepted(known));
      return track(taskId, async () => (known ? deliver(known, true) : deliver(record(taskId, sessionId, text, choice), false)));
    },
    reconcile() {
      reconciling ??= (async () => {
        const pending = ledger.pending();
        if (pending.length) log.info('settling tasks the runtime may not have', { tasks: pending.length });
        for (const task of pending) {
          await settle(task).catch((err: unknown) => log.warn('could not settle a task; its device may resend it', { taskId: task.taskId, err }));
        }
      })().finally(() => (reconciling = undefined));
      return reconciling;
    },
  };
}

function accepted(task: TaskRecord): TaskAccepted {
  return { taskId: task.taskId, sessionId: task.sessionId, messageId: task.messageId, acceptedAt: task.acceptedAt };
}
