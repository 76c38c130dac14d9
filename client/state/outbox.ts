/**
 * The outbox: every task the person writes goes here first, durably, and is sent from here, one at
 * a time in queue order, whenever the computer is reachable and its runtime ready. It leaves the
 * outbox only when the host accepted it. An item that must wait (its session is busy, or an earlier
 * item of its session failed) holds back only the later items of its own session, never another
 * session's.
 *
 * Exactly once rests on the task id, made when the task is queued and never changed: the host runs
 * each id once and answers a resend with the first result (docs/protocol.md, "Exactly-once
 * tasks"), so any failure or a closed app simply means "send again". A new task gets its session
 * at send time, created with the task id as its key (the host answers a key with the session it
 * made for it), and the session id is stored before the task is submitted, so neither a lost
 * answer nor a resend makes a second session for the same task.
 *
 * In order in the transcript, not only on the wire: OpenCode takes a prompt for a busy session
 * but then answers only the latest one of those waiting (checked with 1.18.33: of three prompts
 * sent back to back, the middle one got no reply of its own, and the first was stored after the
 * second). So an item for a session whose turn is still running waits until that turn ended, as
 * the host says (the runtime's state of the session, in `session.messages`).
 * @module
 */
import { createSignal, type Accessor } from 'solid-js';
import { RelayClosedError } from '../../shared/channel/errors.ts';
import type { ErrorCode } from '../../shared/protocol/errors.ts';
import type { TaskAccepted } from '../../shared/protocol/messages.ts';
import type { TaskParams, TurnChoice } from '../../shared/protocol/requests.ts';
import type { SessionState } from '../../shared/protocol/transcript.ts';
import { errorCode, NotConnected } from '../net/explain.ts';
import type { OutboxAttachment, OutboxRecord } from '../storage/db.ts';
import type { AttachmentChunk, AttachmentReceived } from '../../shared/protocol/attachments.ts';
import { uploadAttachment } from '../attachments/upload.ts';
import { formatBytes } from '../attachments/prepare.ts';

/**
 * Room for attached files waiting in the outbox (per computer): IndexedDB's quota is the browser's
 * to decide, and a phone offline for days should not fill it with photos unnoticed.
 */
export const OUTBOX_ATTACHMENTS_LIMIT = 50 * 1024 * 1024;

/** queued: waits its turn; waiting: its session is still busy; sending: in flight; failed: refused. */
export type OutboxPhase = 'queued' | 'waiting' | 'sending' | 'failed';

export interface OutboxItem extends OutboxRecord {
  readonly phase: OutboxPhase;
  /** Why a queued item has not gone yet, for people. */
  readonly note?: string;
  /** While its files go to the host: bytes the host holds of them all, and their total. */
  readonly upload?: { sent: number; total: number };
}

export interface OutboxStorage {
  /** The host's items in queue order. */
  load(hostId: string): Promise<OutboxRecord[]>;
  /** Resolves once the item is on disk. */
  put(item: OutboxRecord): Promise<void>;
  remove(key: string): Promise<void>;
}

export interface OutboxTransport {
  /** Connected to the computer in use, and its runtime ready. */
  ready(): boolean;
  /**
   * Makes a session; resolves with its id. The host makes one session per `key` (docs/protocol.md,
   * "Exactly-once sessions"), so asking again after a lost answer gets the same one.
   */
  createSession(key: string): Promise<string>;
  submit(task: TaskParams): Promise<TaskAccepted>;
  /** One chunk of an attached file (`attachment.put`); needed only for tasks with attachments. */
  putAttachment?(chunk: AttachmentChunk): Promise<AttachmentReceived>;
  /** The runtime's state of the session, as the host reads it now. */
  state(sessionId: string): Promise<SessionState>;
}

/** What happened next to an item (see `progress`). */
export type OutboxProgress =
  | { kind: 'session'; sessionId: string }
  | { kind: 'accepted'; accepted: TaskAccepted }
  /** Not sent this time for a reason that passes (no connection, no answer): it stays queued. */
  | { kind: 'held'; reason: string }
  | { kind: 'failed'; message: string }
  | { kind: 'removed' };

export interface Timers {
  set(run: () => void, ms: number): unknown;
  clear(timer: unknown): void;
}

export interface OutboxOptions {
  storage: OutboxStorage;
  transport: OutboxTransport;
  /** A failure in words for people (client/net/explain.ts `explainRequest`). */
  explain(err: unknown): string;
  /**
   * The host accepted a task: it is running from now on, unless `resent` (an earlier attempt may
   * have reached the host, whose answer was lost): then its turn may have run and ended already.
   */
  onAccepted?(item: OutboxRecord, accepted: TaskAccepted, resent: boolean): void;
  /**
   * A new task's session was made (`item` names it now); awaited before anyone is told of the
   * session or the task is submitted, so what it stores is there once the session can be opened.
   */
  onSession?(item: OutboxRecord, sessionId: string): Promise<void> | void;
  onChange?(items: readonly OutboxItem[]): void;
  now?: () => number;
  newTaskId?: () => string;
  timers?: Timers;
  /** A request without an answer this long counts as lost; the item is sent again (default 45 s). */
  timeoutMs?: number;
  /** First wait after a passing failure, doubled up to `maxRetryMs` (defaults 2 s, 30 s). */
  retryMs?: number;
  maxRetryMs?: number;
  /** How often a busy session is looked at again, besides the kicks of its events (default 10 s). */
  pollMs?: number;
  /**
   * `runtime.error` usually passes (the runtime was restarting) but may not: after this many in a
   * row the item is marked failed, so the person decides (default 3).
   */
  runtimeErrorLimit?: number;
}

export interface Outbox {
  /** The items of the computer in use, in queue order. */
  readonly items: Accessor<readonly OutboxItem[]>;
  /** Switches to another computer's items (undefined: none); resolves once they are loaded. */
  use(hostId: string | undefined): Promise<void>;
  /**
   * Queues a task (a new session's when `sessionId` is missing); resolves once it is stored, with
   * the first thing that happens to it next (its session made, accepted, held, failed, removed).
   */
  add(task: { sessionId?: string; text: string; choice?: TurnChoice; attachments?: OutboxAttachment[] }): Promise<{ record: OutboxRecord; next: Promise<OutboxProgress> }>;
  /** Changes a queued item's text; refused once it may have reached the computer. */
  edit(key: string, text: string): Promise<void>;
  /** Cancels a queued item or deletes a failed one; refused once it may have reached the computer. */
  remove(key: string): Promise<void>;
  /** Queues a failed item again. */
  retry(key: string): Promise<void>;
  /** Sends what can be sent now (call on connecting, the runtime becoming ready, a session going idle). */
  kick(): void;
  /** The next thing that happens to the item. */
  progress(key: string): Promise<OutboxProgress>;
  /** Stops timers (tests, teardown). */
  close(): void;
}

/** Its text may change and it may be cancelled: not in flight, and certainly not at the host yet. */
export function changeable(item: OutboxItem): boolean {
  return (item.phase === 'queued' || item.phase === 'waiting') && !item.submitted;
}

/** The item as the person typed it: a command with its arguments (`/review src`), or the prompt. */
export function typedText(item: Pick<OutboxRecord, 'text' | 'choice'>): string {
  return item.choice?.command ? `/${item.choice.command} ${item.text}`.trim() : item.text;
}

/** A request that did not get an answer in time. */
export class OutboxTimeout extends Error {
  constructor() {
    super('Your computer did not answer in time; the task stays queued and is sent again.');
    this.name = 'OutboxTimeout';
  }
}

const PASSING_CODES: ReadonlySet<ErrorCode> = new Set(['runtime.not-ready', 'host.shutting-down', 'connection.slow']);
/** Refusals that come before the host records a task: such a task certainly did not run. */
const REFUSED_UNRECORDED: ReadonlySet<ErrorCode> = new Set(['runtime.not-ready', 'scope.denied', 'protocol.invalid', 'frame.size']);

/** A failure that sending again later can fix: no connection, a dropped one, no answer, runtime starting. */
export function isTransient(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  if (err instanceof NotConnected || err instanceof RelayClosedError || err instanceof OutboxTimeout) return true;
  const code = errorCode(err);
  return code !== undefined && PASSING_CODES.has(code);
}

function randomTaskId(): string {
  const random = new Uint8Array(8);
  crypto.getRandomValues(random);
  return `tsk_${Date.now().toString(36)}_${[...random].map((b) => b.toString(16).padStart(2, '0')).join('')}`;
}

const defaultTimers: Timers = { set: (run, ms) => setTimeout(run, ms), clear: (t) => clearTimeout(t as ReturnType<typeof setTimeout>) };

function stored(item: OutboxItem): OutboxRecord {
  const { phase: _p, note: _n, upload: _u, ...record } = item;
  return record;
}

export function createOutbox(opts: OutboxOptions): Outbox {
  const { storage, transport } = opts;
  const now = opts.now ?? Date.now;
  const newTaskId = opts.newTaskId ?? randomTaskId;
  const timers = opts.timers ?? defaultTimers;
  const timeoutMs = opts.timeoutMs ?? 45_000;
  const retryMs = opts.retryMs ?? 2000;
  const maxRetryMs = opts.maxRetryMs ?? 30_000;
  const pollMs = opts.pollMs ?? 10_000;
  const runtimeErrorLimit = opts.runtimeErrorLimit ?? 3;

  const [items, setItems] = createSignal<readonly OutboxItem[]>([]);
  let hostId: string | undefined;
  /** Bumped on every switch of computer: work for the previous one stops touching the list. */
  let generation = 0;
  let lastOrder = 0;
  let draining = false;
  let again = false;
  let timer: unknown;
  let retryDelay = retryMs;
  const waiters = new Map<string, ((p: OutboxProgress) => void)[]>();
  /** Runtime errors in a row per item: a restarting runtime fails calls for a moment. */
  const runtimeErrors = new Map<string, number>();

  const show = (next: readonly OutboxItem[]) => {
    setItems(next);
    opts.onChange?.(next);
  };
  const patch = (key: string, change: Partial<OutboxItem>) => show(items().map((i) => (i.key === key ? { ...i, ...change } : i)));
  const find = (key: string) => items().find((i) => i.key === key);
  const tell = (key: string, p: OutboxProgress) => {
    const list = waiters.get(key);
    waiters.delete(key);
    for (const resolve of list ?? []) resolve(p);
  };

  const withTimeout = <T>(p: Promise<T>) =>
    new Promise<T>((resolve, reject) => {
      const t = timers.set(() => reject(new OutboxTimeout()), timeoutMs);
      p.then(
        (v) => {
          timers.clear(t);
          resolve(v);
        },
        (e: unknown) => {
          timers.clear(t);
          reject(e);
        },
      );
    });

  /**
   * The first item that may go: failed items hold back the later items of their session, and so
   * does a session found busy in this pass (`busy`); other sessions' items go meanwhile.
   */
  const nextItem = (busy: ReadonlySet<string>): OutboxItem | undefined => {
    const held = new Set(busy);
    for (const item of items()) {
      if (item.phase === 'failed') {
        if (item.sessionId) held.add(item.sessionId);
      } else if (!item.sessionId || !held.has(item.sessionId)) {
        return item;
      }
    }
    return undefined;
  };

  /** The host's answer, from the runtime: busy and retrying sessions are still in their turn. */
  const sessionBusy = async (sessionId: string): Promise<boolean> => (await withTimeout(transport.state(sessionId))).status !== 'idle';

  type Sent = 'next' | 'busy' | 'retry' | 'stale';

  const sendOne = async (item: OutboxItem, gen: number): Promise<Sent> => {
    const stale = () => gen !== generation;
    const { key } = item;
    const wasSubmitted = item.submitted === true;
    let current = stored(item);
    patch(key, { phase: 'sending', note: undefined });
    try {
      let sessionId = current.sessionId;
      if (sessionId === undefined) {
        sessionId = await withTimeout(transport.createSession(key));
        current = { ...current, sessionId };
        await storage.put(current); // before the task naming it is submitted, whatever happens next
        await opts.onSession?.(current, sessionId);
        if (stale()) return 'stale';
        patch(key, { sessionId });
        tell(key, { kind: 'session', sessionId });
      } else if (!current.newSession && (await sessionBusy(sessionId))) {
        if (!stale()) patch(key, { phase: 'waiting', note: 'Waits until the task before it in this session has finished.' });
        return 'busy';
      }
      if (stale()) return 'stale';
      const files = current.attachments ?? [];
      if (files.length) {
        // Before the task is marked submitted: until the host has the task, it may still change.
        const put = transport.putAttachment;
        if (!put) throw new Error('This app cannot send attached files.');
        const total = files.reduce((sum, f) => sum + f.size, 0);
        let done = 0;
        for (const file of files) {
          await uploadAttachment(
            file,
            (chunk) => withTimeout(put(chunk)),
            (received) => {
              if (!stale()) patch(key, { upload: { sent: done + received, total } });
            },
          );
          done += file.size;
        }
        if (stale()) return 'stale';
      }
      if (!wasSubmitted) {
        current = { ...current, submitted: true };
        await storage.put(current);
        patch(key, { submitted: true });
      }
      const attachments = files.length ? { attachments: files.map((f) => f.id) } : {};
      const accepted = await withTimeout(transport.submit({ taskId: key, sessionId, text: current.text, ...current.choice, ...attachments }));
      await storage.remove(key);
      retryDelay = retryMs;
      runtimeErrors.delete(key);
      if (!stale()) {
        show(items().filter((i) => i.key !== key));
        opts.onAccepted?.(current, accepted, wasSubmitted);
      }
      tell(key, { kind: 'accepted', accepted });
      return 'next';
    } catch (err) {
      const code = errorCode(err);
      const notSent = err instanceof NotConnected || (code !== undefined && REFUSED_UNRECORDED.has(code));
      const submitted = notSent ? wasSubmitted : current.submitted === true;
      const message = opts.explain(err);
      const errors = code === 'runtime.error' ? (runtimeErrors.get(key) ?? 0) + 1 : 0;
      runtimeErrors.set(key, errors);
      if (isTransient(err) || (errors > 0 && errors < runtimeErrorLimit)) {
        current = { ...current, submitted };
        await storage.put(current);
        if (stale()) return 'stale';
        patch(key, { phase: 'queued', submitted, note: message, upload: undefined });
        tell(key, { kind: 'held', reason: message });
        return 'retry';
      }
      current = { ...current, submitted, failed: { message, ...(code ? { code } : {}) } };
      await storage.put(current);
      if (stale()) return 'stale';
      patch(key, { phase: 'failed', submitted, failed: current.failed, note: undefined, upload: undefined });
      tell(key, { kind: 'failed', message });
      return 'next';
    }
  };

  const schedule = (ms: number) => {
    timers.clear(timer);
    timer = timers.set(() => void drain(), ms);
  };

  const drain = async (): Promise<void> => {
    if (draining) {
      again = true;
      return;
    }
    draining = true;
    const gen = generation;
    /** Sessions found still in their turn in this pass: their items wait, the others' go. */
    const busy = new Set<string>();
    try {
      while (gen === generation && transport.ready()) {
        if (again) busy.clear(); // a kick: a session may have ended its turn since
        again = false;
        const item = nextItem(busy);
        if (!item) {
          if (busy.size) schedule(pollMs);
          return;
        }
        const sent = await sendOne(item, gen);
        if (sent === 'busy') {
          busy.add(item.sessionId!);
          continue;
        }
        if (sent === 'next' || again) continue;
        if (sent === 'retry') {
          schedule(retryDelay);
          retryDelay = Math.min(retryDelay * 2, maxRetryMs);
        }
        return;
      }
    } finally {
      draining = false;
      // A kick for another computer, or one that came while the last send finished.
      if (gen !== generation || again) {
        again = false;
        void drain();
      }
    }
  };

  const kick = () => {
    timers.clear(timer);
    void drain();
  };

  const editable = (key: string): OutboxItem => {
    const item = find(key);
    if (!item) throw new Error('This task is no longer queued.');
    if (item.phase === 'sending') throw new Error('This task is being sent right now; it can no longer be changed.');
    if (item.submitted && item.phase !== 'failed') throw new Error('This task may already have reached your computer, so it can no longer be changed or cancelled.');
    return item;
  };

  return {
    items,

    async use(next) {
      generation++;
      hostId = next;
      timers.clear(timer);
      retryDelay = retryMs;
      for (const key of waiters.keys()) tell(key, { kind: 'removed' });
      show([]);
      if (next === undefined) return;
      const gen = generation;
      const loaded = await storage.load(next);
      if (gen !== generation) return;
      lastOrder = Math.max(lastOrder, ...loaded.map((r) => r.order));
      show(loaded.map((r) => ({ ...r, phase: r.failed ? 'failed' : 'queued' })));
      kick();
    },

    async add(task) {
      const text = task.text.trim();
      // A command may run without arguments; a prompt needs words.
      if (!text && !task.choice?.command) throw new RangeError('text: a task needs some text');
      if (hostId === undefined) throw new Error('Not paired with a computer yet');
      const files = task.attachments ?? [];
      if (files.length) {
        const waiting = items().reduce((sum, i) => sum + (i.attachments ?? []).reduce((s, f) => s + f.size, 0), 0);
        const adding = files.reduce((sum, f) => sum + f.size, 0);
        if (waiting + adding > OUTBOX_ATTACHMENTS_LIMIT) {
          throw new RangeError(
            `Attached files waiting to be sent may take up to ${formatBytes(OUTBOX_ATTACHMENTS_LIMIT)} on this phone; ${formatBytes(waiting)} already wait. Send once connected, or attach less.`,
          );
        }
      }
      const at = now();
      lastOrder = Math.max(at, lastOrder + 1);
      const record: OutboxRecord = {
        key: newTaskId(),
        hostId,
        order: lastOrder,
        text,
        createdAt: at,
        ...(task.sessionId ? { sessionId: task.sessionId } : { newSession: true }),
        ...(task.choice && Object.keys(task.choice).length ? { choice: task.choice } : {}),
        ...(files.length ? { attachments: files } : {}),
      };
      await storage.put(record);
      if (record.hostId !== hostId) return { record, next: Promise.resolve({ kind: 'removed' }) }; // it waits for its computer
      show([...items(), { ...record, phase: 'queued' }]);
      const next = this.progress(record.key);
      kick();
      return { record, next };
    },

    async edit(key, raw) {
      const text = raw.trim();
      if (!text) throw new RangeError('text: a task needs some text');
      const item = editable(key);
      if (item.phase === 'failed') throw new Error('Retry or delete this task; its text cannot change.');
      patch(key, { text });
      await storage.put({ ...stored(item), text });
    },

    async remove(key) {
      editable(key);
      show(items().filter((i) => i.key !== key));
      tell(key, { kind: 'removed' });
      await storage.remove(key);
      kick(); // the session's later items may go now
    },

    async retry(key) {
      const item = find(key);
      if (item?.phase !== 'failed') return;
      const { failed: _f, ...rest } = stored(item);
      runtimeErrors.delete(key);
      show(items().map((i) => (i.key === key ? { ...rest, phase: 'queued' as const } : i)));
      await storage.put(rest);
      kick();
    },

    kick,

    progress(key) {
      if (!find(key)) return Promise.resolve({ kind: 'removed' });
      return new Promise((resolve) => waiters.set(key, [...(waiters.get(key) ?? []), resolve]));
    },

    close() {
      generation++;
      timers.clear(timer);
    },
  };
}
