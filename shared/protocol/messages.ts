/**
 * Every application message that travels inside the encrypted channel, typed once and parsed at
 * both ends. Requests carry a client-chosen `id` and are answered by exactly one `result` with
 * that id. See docs/protocol.md for the sequence rules.
 * @module
 */
import { isErrorCode, type ErrorCode } from './errors.ts';
import { ProtocolError, bool, int, list, obj, oneOf, optInt, optStr, str, strItem, type Obj } from './guard.ts';
import type { PermissionAskedEvent } from './runtime-events.ts';
import { parsePendingQuestion, parseQuestionReplyParams, type QuestionAnswers, type QuestionAskedEvent } from './questions.ts';

export const PROTOCOL_VERSION = 1;
/** Ids made by either side: request ids, task ids, session ids. */
const ID = { min: 1, max: 128 };
const TEXT = { min: 1, max: 64 * 1024 };
/**
 * Ids the host puts into a runtime URL (sessions, permission requests): OpenCode's own are a
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

export const SCOPES = ['read', 'run', 'approve'] as const;
export type Scope = (typeof SCOPES)[number];
export const PERMISSION_REPLIES = ['once', 'session', 'reject'] as const;
export type PermissionReply = (typeof PERMISSION_REPLIES)[number];

// ---- requests: device → host ------------------------------------------------------------

export type Request =
  | { t: 'ping'; id: string; at: number }
  /** `withUnavailable`: answer `{ sessions, unavailable }` (sessions-list.ts), not the plain list. */
  | { t: 'sessions.list'; id: string; withUnavailable?: boolean }
  | { t: 'metrics.get'; id: string }
  /** `key`: made by the device; the same key from the same device always answers the same session. */
  | { t: 'session.create'; id: string; title?: string; workspace?: string; key?: string }
  | { t: 'session.messages'; id: string; sessionId: string }
  | { t: 'session.abort'; id: string; sessionId: string }
  | { t: 'task.submit'; id: string; taskId: string; sessionId: string; text: string }
  | { t: 'permission.reply'; id: string; requestId: string; reply: PermissionReply; message?: string }
  /** `answers`: one list per question, in order, of chosen labels or typed text (questions.ts). */
  | { t: 'question.reply'; id: string; requestId: string; answers: QuestionAnswers }
  /** Dismisses the question: the runtime ends the agent's turn. */
  | { t: 'question.reject'; id: string; requestId: string };

export type RequestType = Request['t'];

/** The scope a request needs; the host refuses it when the device lacks that scope. */
export const REQUEST_SCOPE: Record<RequestType, Scope | null> = {
  ping: null,
  'sessions.list': 'read',
  'metrics.get': 'read',
  'session.messages': 'read',
  'session.create': 'run',
  'session.abort': 'run',
  'task.submit': 'run',
  'permission.reply': 'approve',
  'question.reply': 'approve',
  'question.reject': 'approve',
};

export const REQUEST_TYPES = Object.keys(REQUEST_SCOPE) as RequestType[];

export function parseRequest(v: unknown): Request {
  const o = obj(v, 'request');
  const t = oneOf(o, 't', 'request', REQUEST_TYPES);
  const id = str(o, 'id', 'request', ID);
  const p = `request(${t})`;
  switch (t) {
    case 'ping':
      return { t, id, at: int(o, 'at', p, { min: 0 }) };
    case 'sessions.list':
      return o.withUnavailable === undefined ? { t, id } : { t, id, withUnavailable: bool(o, 'withUnavailable', p) };
    case 'metrics.get':
      return { t, id };
    case 'session.create':
      return { t, id, title: optStr(o, 'title', p, { max: 200 }), workspace: optStr(o, 'workspace', p, { max: 4096 }), key: optStr(o, 'key', p, ID) };
    case 'session.messages':
    case 'session.abort':
      return { t, id, sessionId: runtimeId(o, 'sessionId', p) };
    case 'task.submit':
      return { t, id, taskId: str(o, 'taskId', p, ID), sessionId: runtimeId(o, 'sessionId', p), text: str(o, 'text', p, TEXT) };
    case 'permission.reply':
      return {
        t, id,
        requestId: runtimeId(o, 'requestId', p),
        reply: oneOf(o, 'reply', p, PERMISSION_REPLIES),
        message: optStr(o, 'message', p, { max: 2000 }),
      };
    case 'question.reply':
      return { t, id, requestId: runtimeId(o, 'requestId', p), ...parseQuestionReplyParams(o, p) };
    case 'question.reject':
      return { t, id, requestId: runtimeId(o, 'requestId', p) };
  }
}

// ---- host → device ----------------------------------------------------------------------

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
 * Why the device must reload instead of continuing from its last event:
 *   new      the hello named no event to continue from (first connection, or a fresh app)
 *   restart  the hello's epoch is not this host run's (the host restarted)
 *   gap      events after the hello's `after` are no longer kept (or too many to replay)
 *   access   the device's scopes or workspaces changed since it last connected: what it shows
 *            may include what it may no longer see
 */
export const RESYNC_REASONS = ['new', 'restart', 'gap', 'access'] as const;
export type ResyncReason = (typeof RESYNC_REASONS)[number];

/** Sent right after a welcome with `resumed: false` (docs/protocol.md, "Resume rules"). */
export interface Resync {
  t: 'resync';
  reason: ResyncReason;
  /** The last event number given out before this message; every later event follows it. */
  seq: number;
  /** Sessions to reload (`session.messages`); absent: every session, and `sessions.list`. */
  sessions?: string[];
  /** Every permission request that waits for an answer now; any other the device shows is gone. */
  permissions: PermissionAskedEvent[];
  /** Every question of the agent that waits for an answer now (absent from hosts older than questions). */
  questions?: QuestionAskedEvent[];
}

/**
 * A host event (inside `event`, numbered like runtime events): a permission request the runtime
 * no longer has, usually because it restarted. Replying to it is refused with `permission.expired`.
 */
export interface PermissionExpiredEvent {
  type: 'permission.expired';
  requestId: string;
  sessionId: string;
  /** Why, for a person. */
  reason: string;
}

export interface HostInfo {
  hostId: string;
  name: string;
  version: string;
  /** Every address the device may try, best first (http:// or https:// base URLs; the socket is at `/relay`). */
  addresses: string[];
}

export interface RuntimeStatus {
  state: 'starting' | 'ready' | 'restarting' | 'failed';
  version?: string;
  error?: string;
  /** Model providers the runtime can use ("opencode" is OpenCode Zen's free tier, there with no setup). */
  providers?: string[];
}

export type HostMessage =
  | {
      t: 'welcome'; host: HostInfo; deviceId: string; scopes: Scope[]; workspaces: string[]; runtime: RuntimeStatus; protocol: number;
      /** Names this run of the host: event numbers continue only within one epoch. */
      epoch: string;
      /** True when every event after the hello's `after` follows; false: a `resync` follows instead. */
      resumed: boolean;
      /** The last event number given out: a resumed device is caught up once it applied this one. */
      seq?: number;
    }
  | { t: 'pair.pending'; code: string }
  | { t: 'pair.approved'; deviceId: string }
  | { t: 'result'; id: string; ok: true; data: unknown }
  | { t: 'result'; id: string; ok: false; error: { code: ErrorCode; message: string } }
  | { t: 'runtime'; runtime: RuntimeStatus }
  | { t: 'event'; seq: number; event: Obj }
  | Resync;

export type HostMessageType = HostMessage['t'];

const RUNTIME_STATES = ['starting', 'ready', 'restarting', 'failed'] as const;

function parseRuntime(v: unknown, path: string): RuntimeStatus {
  const o = obj(v, path);
  const providers = o.providers === undefined ? undefined : list(o, 'providers', path, strItem({ min: 1, max: 100 }), 200);
  return {
    state: oneOf(o, 'state', path, RUNTIME_STATES),
    version: optStr(o, 'version', path, { max: 64 }),
    error: optStr(o, 'error', path, { max: 4000 }),
    ...(providers ? { providers } : {}),
  };
}

function parseHost(v: unknown, path: string): HostInfo {
  const o = obj(v, path);
  return {
    hostId: str(o, 'hostId', path, ID),
    name: str(o, 'name', path, { min: 1, max: 200 }),
    version: str(o, 'version', path, { max: 64 }),
    addresses: list(o, 'addresses', path, strItem({ min: 1, max: 2048 }), 64),
  };
}

/**
 * Parses a host message. Event payloads are checked for an object with a string `type` here;
 * their fields are checked by the event's own parser where they are used.
 */
export function parseHostMessage(v: unknown): HostMessage {
  const o = obj(v, 'message');
  const t = oneOf(o, 't', 'message', ['welcome', 'pair.pending', 'pair.approved', 'result', 'runtime', 'event', 'resync'] as const);
  const p = `message(${t})`;
  switch (t) {
    case 'welcome':
      return {
        t,
        host: parseHost(o.host, `${p}.host`),
        deviceId: str(o, 'deviceId', p, ID),
        scopes: list(o, 'scopes', p, (x, path) => oneOf({ x }, 'x', path, SCOPES), 8),
        workspaces: list(o, 'workspaces', p, strItem({ min: 1, max: 4096 }), 64),
        runtime: parseRuntime(o.runtime, `${p}.runtime`),
        protocol: int(o, 'protocol', p, { min: 1 }),
        epoch: str(o, 'epoch', p, ID),
        resumed: bool(o, 'resumed', p),
        seq: optInt(o, 'seq', p, { min: 0 }),
      };
    case 'pair.pending':
      return { t, code: str(o, 'code', p, { min: 6, max: 6 }) };
    case 'pair.approved':
      return { t, deviceId: str(o, 'deviceId', p, ID) };
    case 'result': {
      const id = str(o, 'id', p, ID);
      if (bool(o, 'ok', p)) return { t, id, ok: true, data: o.data };
      const e = obj(o.error, `${p}.error`);
      const code = e.code;
      if (!isErrorCode(code)) throw new ProtocolError(`${p}.error.code`, `unknown error code ${JSON.stringify(code)}`);
      return { t, id, ok: false, error: { code, message: str(e, 'message', `${p}.error`, { max: 4000 }) } };
    }
    case 'runtime':
      return { t, runtime: parseRuntime(o.runtime, `${p}.runtime`) };
    case 'event': {
      const event = obj(o.event, `${p}.event`);
      str(event, 'type', `${p}.event`, { min: 1, max: 64 });
      return { t, seq: int(o, 'seq', p, { min: 1 }), event };
    }
    case 'resync': {
      const sessions = o.sessions === undefined ? undefined : list(o, 'sessions', p, strItem(ID), 100_000);
      return {
        t,
        reason: oneOf(o, 'reason', p, RESYNC_REASONS),
        seq: int(o, 'seq', p, { min: 0 }),
        ...(sessions ? { sessions } : {}),
        permissions: list(o, 'permissions', p, parsePendingPermission, 1000),
        ...(o.questions === undefined ? {} : { questions: list(o, 'questions', p, parsePendingQuestion, 1000) }),
      };
    }
  }
}

/** A pending request as `resync` lists it: the fields a device needs to show and answer it. */
function parsePendingPermission(v: unknown, path: string): PermissionAskedEvent {
  const o = obj(v, path);
  if (o.type !== 'permission.asked') throw new ProtocolError(`${path}.type`, 'expected "permission.asked"');
  str(o, 'requestId', path, ID);
  str(o, 'sessionId', path, ID);
  str(o, 'permission', path, { min: 1, max: 200 });
  list(o, 'patterns', path, strItem(), 1000);
  list(o, 'always', path, strItem(), 1000);
  obj(o.metadata, `${path}.metadata`);
  optInt(o, 'deadline', path, { min: 0 });
  return o as unknown as PermissionAskedEvent;
}

/** Reads a `permission.expired` event; throws ProtocolError naming the field when it is malformed. */
export function parsePermissionExpired(event: Obj): PermissionExpiredEvent {
  const p = 'event(permission.expired)';
  if (event.type !== 'permission.expired') throw new ProtocolError(`${p}.type`, 'expected "permission.expired"');
  return { type: 'permission.expired', requestId: str(event, 'requestId', p, ID), sessionId: str(event, 'sessionId', p, ID), reason: str(event, 'reason', p, { max: 4000 }) };
}

// ---- the handshake's first payloads (inside Noise message 1) ---------------------------

export interface DeviceHello {
  /** Which offer this pairing answers (pairing only). */
  offer?: string;
  name: string;
  platform: string;
  protocol: number;
  /** The last event number this device applied (reconnects only)… */
  after?: number;
  /** …and the `epoch` of the welcome it came after. */
  epoch?: string;
}

export function parseDeviceHello(v: unknown): DeviceHello {
  const o = obj(v, 'hello');
  return {
    offer: optStr(o, 'offer', 'hello', ID),
    name: str(o, 'name', 'hello', { min: 1, max: 100 }),
    platform: str(o, 'platform', 'hello', { max: 100 }),
    protocol: int(o, 'protocol', 'hello', { min: 1 }),
    after: optInt(o, 'after', 'hello', { min: 0 }),
    epoch: optStr(o, 'epoch', 'hello', ID),
  };
}

// ---- JSON text inside the channel --------------------------------------------------------

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

export function encodeMessage(m: Request | HostMessage | DeviceHello): Uint8Array {
  return encoder.encode(JSON.stringify(m));
}

/** UTF-8 JSON → unknown; the caller parses the shape. Bad text is a ProtocolError, never a crash. */
export function decodeJson(bytes: Uint8Array, path: string): unknown {
  try {
    return JSON.parse(decoder.decode(bytes));
  } catch {
    throw new ProtocolError(path, 'is not valid UTF-8 JSON');
  }
}
