/**
 * Every application message that travels inside the encrypted channel, typed once and parsed at
 * both ends. Requests carry a client-chosen `id` and are answered by exactly one `result` with
 * that id. See docs/protocol.md for the sequence rules.
 * @module
 */
import { isErrorCode, type ErrorCode } from './errors.ts';
import { ProtocolError, bool, int, list, obj, oneOf, optInt, optStr, str, strItem } from './guard.ts';
import { ID } from './requests.ts';
import { parseEvent, parseExpiry, parsePermissionRequest, type PermissionAskedEvent, type PermissionExpiry, type RelayRuntimeEvent } from './runtime-events.ts';

export {
  PERMISSION_REPLIES,
  REQUESTS,
  REQUEST_SCOPE,
  REQUEST_TYPES,
  SCOPES,
  isRuntimeId,
  parseRequest,
  parseResult,
  type Done,
  type PermissionReply,
  type Request,
  type RequestBody,
  type RequestOf,
  type RequestType,
  type ResultOf,
  type Scope,
  type TaskAccepted,
} from './requests.ts';
import { SCOPES, type Request, type Scope } from './requests.ts';
import { parsePendingQuestion, type QuestionAskedEvent } from './questions.ts';

export const PROTOCOL_VERSION = 1;

// ---- host → device ----------------------------------------------------------------------

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
      t: 'welcome';
      host: HostInfo;
      deviceId: string;
      scopes: Scope[];
      workspaces: string[];
      runtime: RuntimeStatus;
      protocol: number;
      /** Names this run of the host: event numbers continue only within one epoch. */
      epoch: string;
      /** True when every event after the hello's `after` follows; false: a `resync` follows instead. */
      resumed: boolean;
      /** The last event number given out: a resumed device is caught up once it applied this one. */
      seq?: number;
    }
  | { t: 'pair.pending'; code: string }
  | { t: 'pair.approved'; deviceId: string }
  /** `data` is read by the request's own result parser (requests.ts), which only the asker knows. */
  | { t: 'result'; id: string; ok: true; data: unknown }
  | { t: 'result'; id: string; ok: false; error: ResultError }
  | { t: 'runtime'; runtime: RuntimeStatus }
  /**
   * `event`: undefined when this side cannot read it (a newer host's type, or a malformed field:
   * `skipped` says which); its `seq` still counts, and one bad event does not end the connection.
   */
  | { t: 'event'; seq: number; event: RelayRuntimeEvent | undefined; skipped?: string }
  | Resync;

/** A refused request: `code` says what to do; `message` is for a person. */
export interface ResultError {
  code: ErrorCode;
  message: string;
  /** With `permission.expired`: why and when the request expired. */
  expiry?: PermissionExpiry;
}

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
 * Parses a host message, events included (runtime-events.ts). A result's `data` is left to the
 * request's result parser: only the asker knows which request it answers.
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
      const message = str(e, 'message', `${p}.error`, { max: 4000 });
      if (e.expiry === undefined) return { t, id, ok: false, error: { code, message } };
      return { t, id, ok: false, error: { code, message, expiry: parseExpiry(obj(e.expiry, `${p}.error.expiry`), `${p}.error.expiry`) } };
    }
    case 'runtime':
      return { t, runtime: parseRuntime(o.runtime, `${p}.runtime`) };
    case 'event': {
      const seq = int(o, 'seq', p, { min: 1 });
      try {
        const event = parseEvent(o.event, `${p}.event`);
        return event ? { t, seq, event } : { t, seq, event, skipped: `${p}.event: a type this side does not know` };
      } catch (err) {
        if (!(err instanceof ProtocolError)) throw err;
        return { t, seq, event: undefined, skipped: err.message };
      }
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

/** A waiting request as `resync` lists it: a `permission.asked` event. */
function parsePendingPermission(v: unknown, path: string): PermissionAskedEvent {
  const o = obj(v, path);
  if (o.type !== 'permission.asked') throw new ProtocolError(`${path}.type`, 'expected "permission.asked"');
  return { type: 'permission.asked', ...parsePermissionRequest(o, path) };
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
  /**
   * The device reads several host messages from one frame (`joinMessages`); absent from apps
   * older than batching, which the host sends one message per frame (docs/protocol.md, "Batched frames").
   */
  batch?: boolean;
  /**
   * The device puts back the ids a delta leaves out when they equal the previous delta's
   * (shared/protocol/compact-deltas.ts); absent from older apps, which get every delta whole
   * (docs/protocol.md, "Compact deltas").
   */
  compactDeltas?: boolean;
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
    ...(o.batch === undefined ? {} : { batch: bool(o, 'batch', 'hello') }),
    ...(o.compactDeltas === undefined ? {} : { compactDeltas: bool(o, 'compactDeltas', 'hello') }),
  };
}

// ---- JSON text inside the channel --------------------------------------------------------

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

export function encodeMessage(m: Request | HostMessage | DeviceHello): Uint8Array {
  return encoder.encode(JSON.stringify(m));
}

/**
 * What separates the messages of a batched frame: a line feed, which JSON.stringify never writes
 * (inside strings it is escaped), so no message contains it and splitting needs no parsing.
 */
const SEPARATOR = 0x0a;

/** Several encoded messages as one plaintext, for a device whose hello said `batch`. */
export function joinMessages(messages: readonly Uint8Array[]): Uint8Array {
  if (messages.length === 1) return messages[0]!;
  const out = new Uint8Array(messages.reduce((n, m) => n + m.length + 1, -1));
  let at = 0;
  for (const m of messages) {
    if (at > 0) out[at++] = SEPARATOR;
    out.set(m, at);
    at += m.length;
  }
  return out;
}

/** The messages of one plaintext (one, from a host that does not batch); each is then read by `decodeJson`. */
export function splitMessages(plaintext: Uint8Array): Uint8Array[] {
  const parts: Uint8Array[] = [];
  let from = 0;
  for (let at = plaintext.indexOf(SEPARATOR); at >= 0; at = plaintext.indexOf(SEPARATOR, from)) {
    parts.push(plaintext.subarray(from, at));
    from = at + 1;
  }
  parts.push(from === 0 ? plaintext : plaintext.subarray(from));
  return parts;
}

/** UTF-8 JSON → unknown; the caller parses the shape. Bad text is a ProtocolError, never a crash. */
export function decodeJson(bytes: Uint8Array, path: string): unknown {
  try {
    return JSON.parse(decoder.decode(bytes));
  } catch {
    throw new ProtocolError(path, 'is not valid UTF-8 JSON');
  }
}
