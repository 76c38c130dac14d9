/**
 * Every request a device may send, defined once: the scope it needs, the parser of its
 * parameters (the host runs it on every request, host/channel/connection.ts) and the parser of
 * its result (the device runs it on every answer, shared/channel/client.ts). The host's handler
 * for each is typed from the same entry (host/rpc/router.ts), and so is the device's `request()`.
 * Adding a request is one entry here and one handler there.
 * @module
 */
import { parseComposerOptions, parseModelRef, type ComposerOptions, type ModelRef } from './composer.ts';
import { ProtocolError, bool, int, num, obj, oneOf, optInt, optStr, str, type Obj } from './guard.ts';
import { parseMetricsSnapshot, type ReceivedMetrics } from './metrics.ts';
import { parsePushSettings, parsePushStatus, parsePushSubscription, type PushSettings, type PushStatus, type PushSubscriptionJson } from './push.ts';
import { CURSOR, parseSessionInfo, parseSessionsList, type SessionInfo, type SessionSummary, type SessionsList } from './sessions-list.ts';
import { parseFileContent, parseSessionChanges, type FileContent, type SessionChanges } from './changes.ts';
import { parseTranscript, type Transcript } from './transcript.ts';
import { parseQuestionReplyParams, type QuestionAnswers } from './questions.ts';
import { parseSessionUsage, type SessionUsage } from './usage.ts';
import { parseVcsStatus, type VcsStatus } from './vcs.ts';
import {
  ATTACHMENT_MAX_BYTES,
  parseAttachmentBytes,
  parseAttachmentIds,
  parseAttachmentChunk,
  parseAttachmentReceived,
  type AttachmentBytes,
  type AttachmentChunk,
  type AttachmentReceived,
} from './attachments.ts';

export const SCOPES = ['read', 'run', 'approve'] as const;
export type Scope = (typeof SCOPES)[number];
export const PERMISSION_REPLIES = ['once', 'session', 'reject'] as const;
export type PermissionReply = (typeof PERMISSION_REPLIES)[number];

/** Ids made by either side: request ids, task ids, session ids. */
export const ID = { min: 1, max: 128 };
const TEXT = { min: 1, max: 64 * 1024 };
/**
 * Ids the host puts into a runtime URL (sessions, permission requests): the runtime's own are a
 * prefix, `_`, letters and digits. Anything else (`..`, `/`, `%2e`) could aim elsewhere, so it is
 * refused here, before it reaches the task ledger or the runtime (host/policy/runtime-ids.ts checks again).
 */
const RUNTIME_ID = /^[A-Za-z0-9_-]{1,128}$/;

export function isRuntimeId(value: string): boolean {
  return RUNTIME_ID.test(value);
}

function runtimeId(o: Obj, key: string, path: string): string {
  const v = str(o, key, path, ID);
  if (!isRuntimeId(v)) throw new ProtocolError(`${path}.${key}`, 'ids are letters, digits, "_" and "-"');
  return v;
}

/**
 * The answer to `task.submit`, the same every time the task is submitted: `messageId` is the id
 * of the task's user message in the runtime's session (its replies name it as their parent).
 */
export interface TaskAccepted {
  taskId: string;
  sessionId: string;
  messageId: string;
  /** When the host first accepted the task (ms since the epoch). */
  acceptedAt: number;
}

/**
 * How a task runs, chosen in the composer; each is optional (the runtime's default). `command`
 * makes the task a command of the runtime (`/name`), its text the command's arguments.
 */
export interface TurnChoice {
  agent?: string;
  model?: ModelRef;
  /** The model's variant (reasoning effort), one of those `composer.options` lists. */
  variant?: string;
  command?: string;
}

/** `attachments`: ids of files the device sent with `attachment.put`, in the order they go to the model. */
export type TaskParams = { taskId: string; sessionId: string; text: string; attachments?: string[] } & TurnChoice;

const CHOICE_NAME = { min: 1, max: 200 };

function taskParams(o: Obj, p: string): TaskParams {
  const command = optStr(o, 'command', p, CHOICE_NAME);
  return {
    taskId: str(o, 'taskId', p, ID),
    sessionId: runtimeId(o, 'sessionId', p),
    // A command's arguments may be empty (`/init`); a prompt may not.
    text: str(o, 'text', p, command === undefined ? TEXT : { ...TEXT, min: 0 }),
    agent: optStr(o, 'agent', p, CHOICE_NAME),
    model: o.model === undefined || o.model === null ? undefined : parseModelRef(o.model, `${p}.model`),
    variant: optStr(o, 'variant', p, CHOICE_NAME),
    command,
    attachments: o.attachments === undefined ? undefined : parseAttachmentIds(o, p),
  };
}

/** An answer that says only "done". */
export type Done = Record<never, never>;

interface RequestDef<P, R> {
  /** The scope a device needs; null: any device, even before approval. */
  scope: Scope | null;
  /** Reads the parameters (every field but `t` and `id`); throws ProtocolError naming a bad one. */
  params(o: Obj, path: string): P;
  /** Reads the answer; throws ProtocolError naming a bad field. */
  result(v: unknown, path: string): R;
}

/** `P` and `R` are spelled out where a parser's inferred type would be wider than the wire's. */
const define = <P, R>(def: RequestDef<P, R>): RequestDef<P, R> => def;
const done = (v: unknown, path: string): Done => {
  obj(v, path);
  return {};
};
const sessionParams = (o: Obj, p: string) => ({ sessionId: runtimeId(o, 'sessionId', p) });
const optRuntimeId = (o: Obj, key: string, p: string) => (o[key] === undefined ? undefined : runtimeId(o, key, p));
/** The most messages one `session.messages` page may ask for. */
export const MESSAGES_PAGE_MAX = 1000;

export const REQUESTS = {
  ping: define({
    scope: null,
    params: (o, p) => ({ at: int(o, 'at', p, { min: 0 }) }),
    result: (v, p) => ({ at: int(obj(v, p), 'at', p, { min: 0 }) }),
  }),
  /**
   * The sessions of every workspace the device may see, most recently updated first, a page at a
   * time (`next` names the following page: pass it as `cursor`), and the workspaces that did not
   * answer. `search`: only sessions whose title contains it (the runtime's own search).
   */
  'sessions.list': define<{ cursor?: string; search?: string }, SessionsList<SessionSummary>>({
    scope: 'read',
    params: (o, p) => {
      const cursor = optStr(o, 'cursor', p, CURSOR);
      if (cursor !== undefined && !/^\d{1,9}$/.test(cursor)) throw new ProtocolError(`${p}.cursor`, 'not a cursor this host gave: pass `next` from an earlier answer');
      return { cursor, search: optStr(o, 'search', p, { min: 1, max: 200 }) };
    },
    result: parseSessionsList,
  }),
  'metrics.get': define<Done, ReceivedMetrics>({
    scope: 'read',
    params: () => ({}),
    result: (v) => parseMetricsSnapshot(v),
  }),
  /** `key`: made by the device; the same key from the same device always answers the same session. */
  'session.create': define<{ title?: string; workspace?: string; key?: string }, SessionInfo>({
    scope: 'run',
    params: (o, p) => ({ title: optStr(o, 'title', p, { max: 200 }), workspace: optStr(o, 'workspace', p, { max: 4096 }), key: optStr(o, 'key', p, ID) }),
    result: parseSessionInfo,
  }),
  /**
   * The session's transcript and the runtime's state of it. With `limit`, its last messages (at
   * most that many, fewer when they would not fit a message), and `more` when earlier ones exist:
   * ask again with `before` set to the first message's id. A long session does not fit one message.
   */
  'session.messages': define<{ sessionId: string; limit?: number; before?: string }, Transcript>({
    scope: 'read',
    params: (o, p) => ({ ...sessionParams(o, p), limit: optInt(o, 'limit', p, { min: 1, max: MESSAGES_PAGE_MAX }), before: optRuntimeId(o, 'before', p) }),
    result: parseTranscript,
  }),
  /** `running`: whether the runtime was running a turn; false: nothing was left to stop (it had ended, or a restart cut it). */
  'session.abort': define<{ sessionId: string }, { running: boolean }>({
    scope: 'run',
    params: sessionParams,
    result: (v, p) => ({ running: bool(obj(v, p), 'running', p) }),
  }),
  /**
   * The files the session changed, each with its counts and unified diff; with `messageId`, what
   * the session changed from that message on (what reverting to it would undo).
   */
  'session.diff': define<{ sessionId: string; messageId?: string }, SessionChanges>({
    scope: 'read',
    params: (o, p) => ({ sessionId: runtimeId(o, 'sessionId', p), messageId: optRuntimeId(o, 'messageId', p) }),
    result: parseSessionChanges,
  }),
  /**
   * A text file in one of the device's workspaces, read by the host: `path` is relative to
   * `workspace` (default: the device's first) or absolute inside one of its workspaces.
   */
  'file.read': define<{ path: string; workspace?: string }, FileContent>({
    scope: 'read',
    params: (o, p) => ({ path: str(o, 'path', p, { min: 1, max: 4096 }), workspace: optStr(o, 'workspace', p, { max: 4096 }) }),
    result: parseFileContent,
  }),
  /** Undoes the session from `messageId` on (its file changes too); refused while the session runs. */
  'session.revert': define<{ sessionId: string; messageId: string; partId?: string }, SessionInfo>({
    scope: 'run',
    params: (o, p) => ({ sessionId: runtimeId(o, 'sessionId', p), messageId: runtimeId(o, 'messageId', p), partId: optRuntimeId(o, 'partId', p) }),
    result: parseSessionInfo,
  }),
  /** Brings back what `session.revert` undid; refused while the session runs. */
  'session.unrevert': define<{ sessionId: string }, SessionInfo>({
    scope: 'run',
    params: sessionParams,
    result: parseSessionInfo,
  }),
  'session.rename': define<{ sessionId: string; title: string }, SessionInfo>({
    scope: 'run',
    params: (o, p) => ({ sessionId: runtimeId(o, 'sessionId', p), title: str(o, 'title', p, { min: 1, max: 200 }) }),
    result: parseSessionInfo,
  }),
  /** Every device then gets `session.deleted`. */
  'session.delete': define<{ sessionId: string }, Done>({
    scope: 'run',
    params: sessionParams,
    result: done,
  }),
  /** A new session with the transcript up to `messageId` (default: all of it). */
  'session.fork': define<{ sessionId: string; messageId?: string }, SessionInfo>({
    scope: 'run',
    params: (o, p) => ({ sessionId: runtimeId(o, 'sessionId', p), messageId: optRuntimeId(o, 'messageId', p) }),
    result: parseSessionInfo,
  }),
  /** Summarizes the session with the model it last used, so it takes less context; refused while it runs. */
  'session.compact': define<{ sessionId: string }, Done>({
    scope: 'run',
    params: sessionParams,
    result: done,
  }),
  /**
   * Tokens and cost of the session's replies, and how full the model's context was at the latest
   * one (usage.ts). Ask again when a turn ends: the host adds it up from the runtime's replies.
   */
  'session.usage': define<{ sessionId: string }, SessionUsage>({
    scope: 'read',
    params: sessionParams,
    result: parseSessionUsage,
  }),
  /**
   * The version-control status (branch, changed files) of a session's directory, or of a
   * workspace (default: the device's first) when no `sessionId` is given. Read-only.
   */
  'workspace.vcs': define<{ sessionId?: string; workspace?: string }, VcsStatus>({
    scope: 'read',
    params: (o, p) => ({ sessionId: optRuntimeId(o, 'sessionId', p), workspace: optStr(o, 'workspace', p, { max: 4096 }) }),
    result: parseVcsStatus,
  }),
  /** The agents, models and commands the composer may offer for the session (or a new one, without `sessionId`). */
  'composer.options': define<{ sessionId?: string }, ComposerOptions>({
    scope: 'read',
    params: (o, p) => {
      const sessionId = optStr(o, 'sessionId', p, ID);
      if (sessionId !== undefined && !isRuntimeId(sessionId)) throw new ProtocolError(`${p}.sessionId`, 'ids are letters, digits, "_" and "-"');
      return { sessionId };
    },
    result: parseComposerOptions,
  }),
  /**
   * One chunk of a file for a later `task.submit` (attachments.ts): sent again, it changes nothing;
   * the answer says how much of the file the host holds. Answered while the runtime is down too.
   */
  'attachment.put': define<AttachmentChunk, AttachmentReceived>({
    scope: 'run',
    params: parseAttachmentChunk,
    result: parseAttachmentReceived,
  }),
  /**
   * A picture sent with a task, read back from the session's stored prompt (the transcript carries
   * only its name and size): the chunk from `offset` (attachments.ts). Only png, jpeg, webp and gif
   * files sent inline, up to 10 MB.
   */
  'attachment.get': define<{ sessionId: string; messageId: string; partId: string; offset: number }, AttachmentBytes>({
    scope: 'read',
    params: (o, p) => ({
      sessionId: runtimeId(o, 'sessionId', p),
      messageId: runtimeId(o, 'messageId', p),
      partId: runtimeId(o, 'partId', p),
      offset: int(o, 'offset', p, { min: 0, max: ATTACHMENT_MAX_BYTES }),
    }),
    result: parseAttachmentBytes,
  }),
  'task.submit': define<TaskParams, TaskAccepted>({
    scope: 'run',
    params: taskParams,
    result: (v, p) => {
      const o = obj(v, p);
      return { taskId: str(o, 'taskId', p, ID), sessionId: str(o, 'sessionId', p, ID), messageId: str(o, 'messageId', p, ID), acceptedAt: num(o, 'acceptedAt', p) };
    },
  }),
  /** A `permission.expired` refusal carries `expiry` (why and when) in its error. */
  'permission.reply': define<{ requestId: string; reply: PermissionReply; message?: string }, Done>({
    scope: 'approve',
    params: (o, p) => ({ requestId: runtimeId(o, 'requestId', p), reply: oneOf(o, 'reply', p, PERMISSION_REPLIES), message: optStr(o, 'message', p, { max: 2000 }) }),
    result: done,
  }),
  /**
   * `answers`: one list per question, in order, of chosen labels or typed text (questions.ts).
   * Refused like `permission.reply` when the question expired.
   */
  'question.reply': define<{ requestId: string; answers: QuestionAnswers }, Done>({
    scope: 'approve',
    params: (o, p) => ({ requestId: runtimeId(o, 'requestId', p), ...parseQuestionReplyParams(o, p) }),
    result: done,
  }),
  /** Dismisses the question: the runtime ends the agent's turn. */
  'question.reject': define<{ requestId: string }, Done>({
    scope: 'approve',
    params: (o, p) => ({ requestId: runtimeId(o, 'requestId', p) }),
    result: done,
  }),
  /** The host's notification key and this device's notification settings. */
  'push.status': define<Done, PushStatus>({
    scope: 'read',
    params: () => ({}),
    result: parsePushStatus,
  }),
  /** Notifications to this push subscription from now on (replacing the device's earlier one). */
  'push.subscribe': define<{ subscription: PushSubscriptionJson } & PushSettings, PushStatus>({
    scope: 'read',
    params: (o, p) => ({ subscription: parsePushSubscription(o.subscription, `${p}.subscription`), ...parsePushSettings(o, p) }),
    result: parsePushStatus,
  }),
  /** Which kinds notify, and lock-screen privacy, for this device's subscription. */
  'push.settings': define<PushSettings, PushStatus>({
    scope: 'read',
    params: (o, p) => parsePushSettings(o, p),
    result: parsePushStatus,
  }),
  /** No more notifications to this device. */
  'push.unsubscribe': define<Done, Done>({
    scope: 'read',
    params: () => ({}),
    result: done,
  }),
  /**
   * Whether the app is on screen on this connection: the host does not notify a device while one of
   * its connections says it is visible. A new connection starts as not visible.
   */
  'app.visibility': define<{ visible: boolean }, Done>({
    scope: 'read',
    params: (o, p) => ({ visible: bool(o, 'visible', p) }),
    result: done,
  }),
};

export type RequestType = keyof typeof REQUESTS;
type Def<T extends RequestType> = (typeof REQUESTS)[T];
export type ParamsOf<T extends RequestType> = ReturnType<Def<T>['params']>;
export type ResultOf<T extends RequestType> = ReturnType<Def<T>['result']>;
export type RequestOf<T extends RequestType> = { t: T; id: string } & ParamsOf<T>;
export type Request = { [T in RequestType]: RequestOf<T> }[RequestType];
/** A request as the caller writes it; the channel adds the id. */
export type RequestBody<T extends RequestType = RequestType> = { [K in T]: { t: K } & ParamsOf<K> }[T];

export const REQUEST_TYPES = Object.keys(REQUESTS) as RequestType[];

/** The scope each request needs; the host refuses it when the device lacks that scope. */
export const REQUEST_SCOPE = Object.fromEntries(REQUEST_TYPES.map((t) => [t, REQUESTS[t].scope])) as Record<RequestType, Scope | null>;

export function parseRequest(v: unknown): Request {
  const o = obj(v, 'request');
  const t = oneOf(o, 't', 'request', REQUEST_TYPES);
  const id = str(o, 'id', 'request', ID);
  const params: object = REQUESTS[t].params(o, `request(${t})`);
  // Absent optional parameters stay absent rather than `undefined`.
  const set = Object.entries(params).filter(([, value]) => value !== undefined);
  return { t, id, ...Object.fromEntries(set) } as Request;
}

/** Reads the answer to a request of type `t`; throws ProtocolError naming a bad field. */
export function parseResult<T extends RequestType>(t: T, data: unknown): ResultOf<T> {
  return REQUESTS[t].result(data, `result(${t})`) as ResultOf<T>;
}
