/**
 * The durable record of every task the host accepted, so a task resent by a device (it never saw
 * the answer) or after a host restart is answered with its first result instead of running again;
 * and of every session a device created with a key (`session.create { key }`), recorded as an
 * intent before the runtime is asked and as a session once it made it, so creating it again
 * answers the same session instead of making an empty second one (host/tasks/keyed-sessions.ts).
 *
 * `<data-dir>/tasks/<YYYY-MM-DD>.jsonl` (UTC day of writing), mode 0600, one JSON object a line:
 *   {"op":"accept","taskId","sessionId","messageId","acceptedAt","text","agent"?,"model"?,
 *    "variant"?,"command"?,"files"?}                written and fsynced before the runtime hears
 *                                                   of the task (the last five: how it runs and
 *                                                   the attached files on the host it sends)
 *   {"op":"confirm","taskId","at"}                  the runtime has the task's message
 *   {"op":"fail","taskId","at","error"}             the runtime refused or could not be reached
 *   {"op":"finish","taskId","at"}                   the task's turn ended in the runtime (answered,
 *                                                   failed or stopped)
 *   {"op":"interrupt","sessionId","messageId","replyId"?,"taskId"?,"at","reason","detail"?}  written and
 *                                                   fsynced when a turn was found cut short by a
 *                                                   runtime or host restart (interruptions.ts)
 *   {"op":"resume","sessionId","at"}                the session ran again after its interruption
 *   {"op":"session-intent","deviceId","key","directory"?,"at"}  written and fsynced before the
 *                                                   runtime is asked to make the session
 *   {"op":"session","deviceId","key","sessionId","createdAt"}  written and fsynced once the
 *                                                   runtime made (or was found to have) the session
 * A task's lines may span days; files older than the retention (7 days) are deleted, and a
 * line cut short by a crash (never fsynced, so never acted on) is dropped when the file is read.
 * Confirmations, failures, finishes and resumes are not fsynced: losing one only means looking in
 * the session again.
 * @module
 */
import type { TurnFile } from '../runtime/port.ts';
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, readdirSync, truncateSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '../log.ts';
import { INTERRUPT_REASONS, type InterruptReason, type Interruption as TurnInterruption } from '../../shared/protocol/transcript.ts';
import type { TurnChoice } from '../../shared/protocol/requests.ts';

export type TaskState =
  /** Recorded, but nobody knows yet whether the runtime has it (a crash or a cut call in between). */
  | 'pending'
  | 'confirmed'
  /** The last attempt failed; the runtime may still have it (e.g. a timeout after it accepted). */
  | 'failed';

export interface NewTask extends TurnChoice {
  taskId: string;
  sessionId: string;
  messageId: string;
  acceptedAt: number;
  /** The prompt, or a command's arguments. */
  text: string;
  /** Attached files (paths in the host's data directory), sent with the prompt. */
  files?: TurnFile[];
}

export interface TaskRecord extends NewTask {
  state: TaskState;
  /** Why the last attempt failed (state `failed`). */
  error?: string;
  /** When its turn ended in the runtime, or was found cut short (undefined: it may still run). */
  finishedAt?: number;
}

/** A turn that can no longer finish (a restart cut it short), found by interruptions.ts. */
export type Interruption = { sessionId: string } & TurnInterruption;

/** A session a device created with its own key (keys are per device: another's is another key). */
export interface SessionRecord {
  deviceId: string;
  key: string;
  sessionId: string;
  createdAt: number;
}

/**
 * A keyed session asked of the runtime whose outcome is not recorded (yet): after a crash, the
 * session it may have made is looked for before another is made.
 */
export interface SessionIntent {
  deviceId: string;
  key: string;
  /** The workspace it was asked in (undefined: the runtime's default). */
  directory?: string;
  at: number;
}

export interface TaskLedger {
  get(taskId: string): TaskRecord | undefined;
  /** Records a new task durably (fsync) and returns it as `pending`. */
  accept(task: NewTask): TaskRecord;
  confirm(taskId: string): void;
  fail(taskId: string, error: string): void;
  /** Tasks in state `pending`, oldest first. */
  pending(): TaskRecord[];
  /** Records that a task's turn ended. */
  finish(taskId: string): void;
  /** Confirmed tasks whose turn has not been seen to end, oldest first. */
  unfinished(): TaskRecord[];
  /** Records durably (fsync) that a turn was cut short; its task, if any, is finished. */
  interrupt(record: Interruption): void;
  /** The session's interruption, until the session runs again. */
  interruption(sessionId: string): Interruption | undefined;
  /** Every session's interruption, until it runs again. */
  interruptions(): Interruption[];
  /** Every turn of the session recorded as cut short (within the retention), oldest first: its history. */
  interruptedTurns(sessionId: string): Interruption[];
  /** Records that the session ran again: its interruption is over. */
  resume(sessionId: string): void;
  /** The session `deviceId` created with `key`, while within the retention. */
  session(deviceId: string, key: string): SessionRecord | undefined;
  /** Records a keyed session durably (fsync); its intent is settled. */
  recordSession(record: SessionRecord): void;
  /** The latest intent for `deviceId`'s `key` with no session recorded, while within the retention. */
  sessionIntent(deviceId: string, key: string): SessionIntent | undefined;
  /** Records durably (fsync) that a keyed session is about to be asked of the runtime. */
  intendSession(intent: SessionIntent): void;
  /** Tasks remembered. */
  readonly size: number;
  close(): void;
}

export interface TaskLedgerOptions {
  /** The directory of day files (`<data-dir>/tasks`); made if missing. */
  dir: string;
  log: Logger;
  /** How long accepted tasks and keyed sessions are remembered (default 7 days). */
  retentionMs?: number;
  now?: () => number;
}

export const TASK_RETENTION_MS = 7 * 24 * 60 * 60 * 1000;
const DAY_FILE = /^(\d{4}-\d{2}-\d{2})\.jsonl$/;
const DAY_MS = 24 * 60 * 60 * 1000;

type Line =
  | ({ op: 'accept' } & NewTask)
  | { op: 'confirm'; taskId: string; at: number }
  | { op: 'fail'; taskId: string; at: number; error: string }
  | { op: 'finish'; taskId: string; at: number }
  | ({ op: 'interrupt' } & Interruption)
  | { op: 'resume'; sessionId: string; at: number }
  | ({ op: 'session' } & SessionRecord)
  | ({ op: 'session-intent' } & SessionIntent);

export function openTaskLedger(opts: TaskLedgerOptions): TaskLedger {
  const { dir, log } = opts;
  const retentionMs = opts.retentionMs ?? TASK_RETENTION_MS;
  const now = opts.now ?? Date.now;
  const tasks = new Map<string, TaskRecord>();
  const sessions = new Map<string, SessionRecord>();
  const intents = new Map<string, SessionIntent>();
  /** sessionId → its interruption, until it runs again. */
  const interrupted = new Map<string, Interruption>();
  /** sessionId → every turn of it cut short, oldest first (one record per prompt). */
  const cutTurns = new Map<string, Interruption[]>();
  const sessionKey = (deviceId: string, key: string) => JSON.stringify([deviceId, key]);
  mkdirSync(dir, { recursive: true, mode: 0o700 });

  /** Deletes day files wholly older than the retention; returns the rest, oldest first. */
  const keptFiles = (): string[] => {
    const oldestKept = dayOf(now() - retentionMs);
    const kept: string[] = [];
    for (const name of readdirSync(dir).sort()) {
      const day = DAY_FILE.exec(name)?.[1];
      if (!day) continue;
      if (day >= oldestKept) kept.push(name);
      else unlinkSync(join(dir, name));
    }
    return kept;
  };

  const apply = (line: Line) => {
    if (line.op === 'session') {
      const { op: _op, ...record } = line;
      sessions.set(sessionKey(record.deviceId, record.key), record);
      intents.delete(sessionKey(record.deviceId, record.key));
      return;
    }
    if (line.op === 'session-intent') {
      const { op: _op, ...intent } = line;
      intents.set(sessionKey(intent.deviceId, intent.key), intent);
      return;
    }
    if (line.op === 'accept') {
      const { op: _op, ...task } = line;
      tasks.set(task.taskId, { ...task, state: 'pending' });
      return;
    }
    if (line.op === 'interrupt') {
      const { op: _op, ...record } = line;
      interrupted.set(record.sessionId, record);
      cutTurns.set(record.sessionId, [...(cutTurns.get(record.sessionId) ?? []).filter((r) => r.messageId !== record.messageId), record]);
      const task = record.taskId === undefined ? undefined : tasks.get(record.taskId);
      if (task && task.finishedAt === undefined) task.finishedAt = record.at;
      return;
    }
    if (line.op === 'resume') {
      interrupted.delete(line.sessionId);
      return;
    }
    const task = tasks.get(line.taskId);
    if (!task) return; // its accept line was in a file past the retention
    if (line.op === 'finish') {
      task.finishedAt ??= line.at;
    } else if (line.op === 'confirm') {
      task.state = 'confirmed';
      delete task.error;
    } else if (task.state !== 'confirmed') {
      task.state = 'failed';
      task.error = line.error;
    }
  };

  for (const name of keptFiles()) {
    const path = join(dir, name);
    let text = readFileSync(path, 'utf8');
    const end = text.lastIndexOf('\n') + 1;
    if (end < text.length) {
      // A write cut short by a crash: it was never fsynced, so nothing was done on its strength.
      log.warn('dropped an incomplete last line of the task ledger', { file: path, bytes: Buffer.byteLength(text.slice(end)) });
      truncateSync(path, Buffer.byteLength(text.slice(0, end)));
      text = text.slice(0, end);
    }
    let bad = 0;
    for (const raw of text.split('\n')) {
      if (!raw) continue;
      const line = parseLine(raw);
      if (line) apply(line);
      else bad++;
    }
    if (bad) log.warn('skipped unreadable lines of the task ledger', { file: path, lines: bad });
  }
  dropExpired();

  let fd: number | undefined;
  let fdDay = '';

  function dropExpired(): void {
    const cutoff = now() - retentionMs;
    for (const [id, task] of tasks) if (task.acceptedAt < cutoff) tasks.delete(id);
    for (const [key, record] of sessions) if (record.createdAt < cutoff) sessions.delete(key);
    for (const [key, intent] of intents) if (intent.at < cutoff) intents.delete(key);
    for (const [id, record] of interrupted) if (record.at < cutoff) interrupted.delete(id);
    for (const [id, records] of cutTurns) {
      const kept = records.filter((r) => r.at >= cutoff);
      if (kept.length) cutTurns.set(id, kept);
      else cutTurns.delete(id);
    }
  }

  const write = (line: Line, durable: boolean) => {
    const day = dayOf(now());
    if (fd === undefined || day !== fdDay) {
      if (fd !== undefined) closeSync(fd);
      fd = openSync(join(dir, `${day}.jsonl`), 'a', 0o600);
      fdDay = day;
      // The new file's name must survive a crash as much as its content.
      syncDir(dir);
      keptFiles();
      dropExpired();
    }
    writeSync(fd, `${JSON.stringify(line)}\n`);
    if (durable) fsyncSync(fd);
  };

  return {
    get: (taskId) => tasks.get(taskId),
    accept(task) {
      if (tasks.has(task.taskId)) throw new RangeError(`task ${task.taskId} is already recorded`);
      write({ op: 'accept', ...task }, true);
      const record: TaskRecord = { ...task, state: 'pending' };
      tasks.set(task.taskId, record);
      return record;
    },
    confirm(taskId) {
      const task = tasks.get(taskId);
      if (!task || task.state === 'confirmed') return;
      const line: Line = { op: 'confirm', taskId, at: now() };
      write(line, false);
      apply(line);
    },
    fail(taskId, error) {
      const task = tasks.get(taskId);
      if (!task || task.state === 'confirmed') return;
      const line: Line = { op: 'fail', taskId, at: now(), error: error.slice(0, 2000) };
      write(line, false);
      apply(line);
    },
    pending: () => [...tasks.values()].filter((t) => t.state === 'pending').sort((a, b) => a.acceptedAt - b.acceptedAt),
    finish(taskId) {
      const task = tasks.get(taskId);
      if (!task || task.finishedAt !== undefined) return;
      const line: Line = { op: 'finish', taskId, at: now() };
      write(line, false);
      apply(line);
    },
    unfinished: () => [...tasks.values()].filter((t) => t.state === 'confirmed' && t.finishedAt === undefined).sort((a, b) => a.acceptedAt - b.acceptedAt),
    interrupt(record) {
      const line: Line = { op: 'interrupt', ...record, ...(record.detail !== undefined ? { detail: record.detail.slice(0, 2000) } : {}) };
      write(line, true);
      apply(line);
    },
    interruption: (sessionId) => interrupted.get(sessionId),
    interruptions: () => [...interrupted.values()],
    interruptedTurns: (sessionId) => cutTurns.get(sessionId) ?? [],
    resume(sessionId) {
      if (!interrupted.has(sessionId)) return;
      const line: Line = { op: 'resume', sessionId, at: now() };
      write(line, false);
      apply(line);
    },
    session: (deviceId, key) => sessions.get(sessionKey(deviceId, key)),
    recordSession(record) {
      const line: Line = { op: 'session', ...record };
      write(line, true);
      apply(line);
    },
    sessionIntent: (deviceId, key) => intents.get(sessionKey(deviceId, key)),
    intendSession(intent) {
      const line: Line = { op: 'session-intent', ...intent };
      write(line, true);
      apply(line);
    },
    get size() {
      return tasks.size;
    },
    close() {
      if (fd !== undefined) closeSync(fd);
      fd = undefined;
    },
  };
}

function dayOf(ms: number): string {
  return new Date(Math.floor(ms / DAY_MS) * DAY_MS).toISOString().slice(0, 10);
}

function syncDir(dir: string): void {
  const d = openSync(dir, 'r');
  try {
    fsyncSync(d);
  } finally {
    closeSync(d);
  }
}

function parseLine(raw: string): Line | undefined {
  let v: unknown;
  try {
    v = JSON.parse(raw);
  } catch {
    return undefined;
  }
  if (!v || typeof v !== 'object') return undefined;
  const o = v as Record<string, unknown>;
  const s = (k: string) => typeof o[k] === 'string' && (o[k] as string).length > 0;
  const n = (k: string) => typeof o[k] === 'number' && Number.isFinite(o[k]);
  if (o.op === 'session' && s('deviceId') && s('key') && s('sessionId') && n('createdAt')) {
    return { op: 'session', deviceId: o.deviceId as string, key: o.key as string, sessionId: o.sessionId as string, createdAt: o.createdAt as number };
  }
  if (o.op === 'session-intent' && s('deviceId') && s('key') && n('at') && (o.directory === undefined || s('directory'))) {
    const intent: Line = { op: 'session-intent', deviceId: o.deviceId as string, key: o.key as string, at: o.at as number };
    if (o.directory !== undefined) intent.directory = o.directory as string;
    return intent;
  }
  if (
    o.op === 'interrupt' &&
    s('sessionId') &&
    s('messageId') &&
    n('at') &&
    INTERRUPT_REASONS.includes(o.reason as InterruptReason) &&
    (o.replyId === undefined || s('replyId')) &&
    (o.taskId === undefined || s('taskId')) &&
    (o.detail === undefined || typeof o.detail === 'string')
  ) {
    const record: Line = { op: 'interrupt', sessionId: o.sessionId as string, messageId: o.messageId as string, at: o.at as number, reason: o.reason as InterruptReason };
    if (o.replyId !== undefined) record.replyId = o.replyId as string;
    if (o.taskId !== undefined) record.taskId = o.taskId as string;
    if (o.detail !== undefined) record.detail = o.detail as string;
    return record;
  }
  if (o.op === 'resume' && s('sessionId') && n('at')) return { op: 'resume', sessionId: o.sessionId as string, at: o.at as number };
  if (!s('taskId')) return undefined;
  if (o.op === 'accept' && s('sessionId') && s('messageId') && n('acceptedAt') && typeof o.text === 'string') {
    const line: Line = {
      op: 'accept',
      taskId: o.taskId as string,
      sessionId: o.sessionId as string,
      messageId: o.messageId as string,
      acceptedAt: o.acceptedAt as number,
      text: o.text,
    };
    for (const key of ['agent', 'variant', 'command'] as const) if (s(key)) line[key] = o[key] as string;
    const model = o.model as Record<string, unknown> | undefined;
    if (model && typeof model.providerId === 'string' && typeof model.modelId === 'string') line.model = { providerId: model.providerId, modelId: model.modelId };
    return line;
  }
  if (o.op === 'finish' && n('at')) return { op: 'finish', taskId: o.taskId as string, at: o.at as number };
  if (o.op === 'confirm' && n('at')) return { op: 'confirm', taskId: o.taskId as string, at: o.at as number };
  if (o.op === 'fail' && n('at') && typeof o.error === 'string') return { op: 'fail', taskId: o.taskId as string, at: o.at as number, error: o.error };
  return undefined;
}
