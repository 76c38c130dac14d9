/**
 * The tasks the person writes, on the computer in use: the outbox (outbox.ts) wired to IndexedDB,
 * to the link and to the top bar's counts, and a new task's wait for its session.
 * @module
 */
import type { TaskAccepted } from '../../shared/protocol/messages.ts';
import type { TurnChoice } from '../../shared/protocol/requests.ts';
import { explainRequest } from '../net/explain.ts';
import type { HostLink } from '../net/host-link.ts';
import type { OutboxAttachment, OutboxRecord } from '../storage/db.ts';
import { deleteOutboxItem, loadOutbox, putOutboxItem } from '../storage/outbox.ts';
import { saveSessionChoice } from '../storage/choices.ts';
import type { ConnectionStore } from './connection.ts';
import { createOutbox, type Outbox, type OutboxProgress } from './outbox.ts';
import { rememberSent } from '../attachments/previews.ts';
import type { WithDb } from './with-db.ts';

export interface TasksDeps {
  withDb: WithDb;
  request: HostLink['request'];
  connection: ConnectionStore;
  /** Whether tasks can go out now (connected, and the runtime ready). */
  ready(): boolean;
  /** Makes a session for a new task, keyed by its task id; resolves with the session's id. */
  createSession(key: string): Promise<string>;
  /** The host accepted a task: its session is busy from now on. */
  /** `resent`: its turn may have run and ended already (outbox.ts `onAccepted`). */
  onAccepted(accepted: TaskAccepted, item: OutboxRecord, resent: boolean): void;
  now: () => number;
}

export interface Tasks {
  readonly outbox: Outbox;
  /**
   * Queues `text` as the first task of a new session (made when it is sent), run with `choice` and
   * carrying `attachments` like a follow-up's; with `choice.command`, the session's first turn is
   * that command and `text` its arguments. Resolves once it is stored, with the new session's id
   * when the task went out at once, undefined when it waits. The agent, model and variant are
   * remembered for the session as soon as it is made, as if chosen on its screen.
   */
  newTask(text: string, choice?: TurnChoice, attachments?: OutboxAttachment[]): Promise<string | undefined>;
  /**
   * Queues a task for a session; resolves once it is stored (it is sent from the outbox). `choice`:
   * its agent, model and variant, or the command it runs with `text` as the arguments.
   */
  sendTask(sessionId: string, text: string, choice?: TurnChoice, attachments?: OutboxAttachment[]): Promise<void>;
}

export function createTasks(deps: TasksDeps): Tasks {
  const { withDb, request, ready } = deps;
  const outbox = createOutbox({
    storage: {
      load: async (hostId) => (await withDb((db) => loadOutbox(db, hostId))) ?? [],
      // Without storage (private mode, quota) the outbox still works, from memory only.
      put: async (item) => void (await withDb((db) => putOutboxItem(db, item))),
      remove: async (key) => void (await withDb((db) => deleteOutboxItem(db, key))),
    },
    transport: {
      ready,
      createSession: deps.createSession,
      submit: (task) => request({ t: 'task.submit', ...task }),
      putAttachment: (chunk) => request({ t: 'attachment.put', ...chunk }),
      // Every page carries the session's state: ask for the smallest. The whole transcript of a
      // long session is megabytes (over the 4 MiB a message may carry, refused with frame.size).
      state: async (sessionId) => (await request({ t: 'session.messages', sessionId, limit: 1 })).state,
    },
    explain: explainRequest,
    now: deps.now,
    // Stored with the item's own computer: the person may have switched to another meanwhile.
    onSession: async ({ hostId, choice }, sessionId) => {
      // A command is chosen anew each time (SessionChoice); the rest becomes the session's own.
      const { command: _command, ...kept } = choice ?? {};
      // Nothing chosen (the runtime's defaults): nothing to remember, and no write to wait for.
      if (Object.keys(kept).length) await withDb((db) => saveSessionChoice(db, hostId, sessionId, kept));
    },
    onAccepted: (item, accepted, resent) => {
      rememberSent(accepted.messageId, item.attachments ?? []);
      deps.onAccepted(accepted, item, resent);
    },
    onChange: (items) => deps.connection.outbox({ queued: items.filter((i) => i.phase !== 'failed').length, failed: items.filter((i) => i.phase === 'failed').length }),
  });

  return {
    outbox,

    async newTask(text, choice, attachments) {
      const { record, next } = await outbox.add({ text, ...(choice ? { choice } : {}), ...(attachments?.length ? { attachments } : {}) });
      // Only a task that goes out now is worth waiting for; others show as queued in the list.
      if (!ready() || outbox.items()[0]?.key !== record.key) return undefined;
      // A passing failure while still connected is retried shortly: keep waiting while connected
      // (looking again now and then, as nothing may happen to it once the connection is gone).
      let progress = await next;
      while (progress.kind === 'held' && ready()) {
        progress = await Promise.race([outbox.progress(record.key), new Promise<OutboxProgress>((r) => setTimeout(() => r(progress), 15_000))]);
      }
      if (progress.kind === 'session') return progress.sessionId;
      return progress.kind === 'accepted' ? progress.accepted.sessionId : undefined;
    },

    async sendTask(sessionId, text, choice, attachments) {
      await outbox.add({ sessionId, text, ...(choice ? { choice } : {}), ...(attachments?.length ? { attachments } : {}) });
    },
  };
}
