/**
 * Every event the host relays to devices (inside `event` messages), defined once: its fields in
 * `RelayEventFields` and its parser in `EVENT_PARSERS`. The host makes them from the runtime's
 * own stream (host/runtime/to-relay.ts) and from its own records (`permission.expired`); the
 * device parses each with `parseEvent` as it arrives. Adding an event is one entry in each.
 * @module
 */
import { bool, defined, list, num, obj, oneOf, optInt, optRecord, optStr, record, str, strItem, type Obj } from './guard.ts';
import {
  RUN_ERROR_KINDS,
  parseInterruption,
  parseMessageInfo,
  parseSubject,
  parseSessionState,
  parseTodo,
  parseToolFields,
  parseFileFields,
  type FilePart,
  type Interruption,
  type MessageInfo,
  type RunError,
  type SessionState,
  type TodoItem,
  type ToolPart,
  type ToolSubject,
} from './transcript.ts';
import { parseSessionInfo, type SessionInfo } from './sessions-list.ts';
import type { ExpiryFields } from './errors.ts';
import { QUESTION_EVENT_PARSERS, questionRef, type QuestionEventFields } from './questions.ts';

export type { RunError, SessionState, TodoItem };

const ID = { min: 1, max: 128 };
const TEXT = { max: 4 * 1024 * 1024 };

type PartRef = {
  sessionId: string;
  messageId: string;
  partId: string;
};

/**
 * Why a permission request expired: `runtime-restarted`, the runtime process restarted;
 * `withdrawn`, the runtime no longer has it (found when the host looked again).
 */
export const EXPIRY_REASONS = ['runtime-restarted', 'withdrawn'] as const;
export type ExpiryReason = (typeof EXPIRY_REASONS)[number];

/** `at`: when the host saw it expire (ms since the epoch); `detail`: what happened to the runtime, for a person. */
export type PermissionExpiry = ExpiryFields;

export function parseExpiry(o: Obj, path: string): PermissionExpiry {
  return defined({ reason: oneOf(o, 'reason', path, EXPIRY_REASONS), at: num(o, 'at', path), detail: optStr(o, 'detail', path, { max: 4000 }) });
}

export type PermissionReplyKind = 'once' | 'always' | 'reject';

/** A permission request as devices see it (in `permission.asked` and in `resync.permissions`). */
export type PermissionRequest = {
  requestId: string;
  sessionId: string;
  /** The permission kind: bash, edit, webfetch, external_directory, … */
  permission: string;
  patterns: string[];
  /** Patterns an "always" answer would allow (the runtime's suggestion, e.g. `echo *`). */
  always: string[];
  /** The runtime's own details of the request, as it gave them. */
  metadata: Obj;
  /** What the tool wants to do: the command, the file and its diff, the page. */
  subject?: ToolSubject;
  tool?: { messageId: string; callId: string };
  /**
   * When the host will deny it for want of an answer (epoch ms, the host's clock), set by the
   * host's relay (host/policy/timeouts.ts); absent when the host is not timing it.
   */
  deadline?: number;
};

/** Each relayed event's fields, by type (the agent's questions: questions.ts). */
export interface RelayEventFields extends QuestionEventFields {
  'message.text.delta': PartRef & { delta: string };
  'message.reasoning.delta': PartRef & { delta: string };
  /** The whole text of a part, sent when it starts and ends, so a device that missed deltas catches up. */
  'message.text.updated': PartRef & { text: string; done: boolean };
  'message.reasoning.updated': PartRef & { text: string; done: boolean };
  /** A file sent with a prompt (an attachment): for an inline one its size, not its bytes. */
  'message.file.updated': PartRef & Omit<FilePart, 'kind' | 'partId'>;
  'message.updated': { sessionId: string } & MessageInfo;
  'tool.updated': PartRef & Omit<ToolPart, 'kind' | 'partId' | 'diff'>;
  'file.edited': {
    sessionId: string;
    path: string;
    /** Unified diff when the runtime gave one. */
    diff?: string;
    additions?: number;
    deletions?: number;
    status?: 'added' | 'deleted' | 'modified';
    /** `tool`: an edit tool finished (`callId` set); `snapshot`: the session's diff summary. */
    source: 'tool' | 'snapshot';
    callId?: string;
  };
  'todo.updated': { sessionId: string; items: TodoItem[] };
  /** The runtime's live state of a session: a device shows busy and retry as running. */
  'session.status': { sessionId: string } & SessionState;
  'session.idle': { sessionId: string };
  /** A turn failed (or was stopped: kind `aborted`). */
  'session.error': { sessionId?: string } & RunError;
  'session.updated': SessionInfo;
  'session.deleted': { sessionId: string };
  'permission.asked': PermissionRequest;
  /** `by: "timeout"`: the host denied it because nobody answered in time. */
  'permission.replied': { requestId: string; sessionId: string; reply: PermissionReplyKind; by?: 'timeout' };
  /** A request the runtime no longer has (or the host gave up on): answering it is refused with `permission.expired`. */
  'permission.expired': { requestId: string; sessionId: string } & PermissionExpiry;
  /** The host lost the runtime's event stream and is back: events in between may be missing, so reload what is shown. */
  'runtime.reconnected': Record<never, never>;
  /** The host found a turn the runtime will never finish (a restart cut it short): the session is idle. */
  'session.interrupted': { sessionId: string } & Interruption;
}

export type RelayRuntimeEventType = keyof RelayEventFields;
export type EventOf<K extends RelayRuntimeEventType> = { type: K } & RelayEventFields[K];
export type RelayRuntimeEvent = { [K in RelayRuntimeEventType]: EventOf<K> }[RelayRuntimeEventType];

export type TextDeltaEvent = EventOf<'message.text.delta'>;
export type ToolUpdatedEvent = EventOf<'tool.updated'>;
export type FileEditedEvent = EventOf<'file.edited'>;
export type SessionStatusEvent = EventOf<'session.status'>;
export type SessionUpdatedEvent = EventOf<'session.updated'>;
export type PermissionAskedEvent = EventOf<'permission.asked'>;
export type PermissionExpiredEvent = EventOf<'permission.expired'>;

const partRef = (o: Obj, p: string): PartRef => ({ sessionId: str(o, 'sessionId', p, ID), messageId: str(o, 'messageId', p, ID), partId: str(o, 'partId', p, ID) });
const delta = (o: Obj, p: string) => ({ ...partRef(o, p), delta: str(o, 'delta', p, TEXT) });
const snapshot = (o: Obj, p: string) => ({ ...partRef(o, p), text: str(o, 'text', p, TEXT), done: bool(o, 'done', p) });
const sessionRef = (o: Obj, p: string) => ({ sessionId: str(o, 'sessionId', p, ID) });

export function parsePermissionRequest(v: unknown, path: string): PermissionRequest {
  const o = obj(v, path);
  const tool = optRecord(o, 'tool', path);
  return defined({
    requestId: str(o, 'requestId', path, ID),
    sessionId: str(o, 'sessionId', path, ID),
    permission: str(o, 'permission', path, { min: 1, max: 200 }),
    patterns: list(o, 'patterns', path, strItem(), 1000),
    always: list(o, 'always', path, strItem(), 1000),
    metadata: record(o, 'metadata', path),
    subject: parseSubject(o, path),
    tool: tool && { messageId: str(tool, 'messageId', `${path}.tool`, ID), callId: str(tool, 'callId', `${path}.tool`, { min: 1, max: 256 }) },
    deadline: optInt(o, 'deadline', path, { min: 0 }),
  });
}

/** One parser per event type: reads the fields (not `type`) and throws ProtocolError naming a bad one. */
const EVENT_PARSERS: { [K in RelayRuntimeEventType]: (o: Obj, path: string) => RelayEventFields[K] } = {
  'message.text.delta': delta,
  'message.reasoning.delta': delta,
  'message.text.updated': snapshot,
  'message.reasoning.updated': snapshot,
  'message.file.updated': (o, p) => ({ ...partRef(o, p), ...parseFileFields(o, p) }),
  'message.updated': (o, p) => ({ sessionId: str(o, 'sessionId', p, ID), ...parseMessageInfo(o, p) }),
  'tool.updated': (o, p) => {
    const { diff: _none, ...tool } = parseToolFields(o, p);
    return { ...partRef(o, p), ...tool };
  },
  'file.edited': (o, p) =>
    defined({
      sessionId: str(o, 'sessionId', p, ID),
      path: str(o, 'path', p, { min: 1, max: 4096 }),
      diff: optStr(o, 'diff', p, TEXT),
      additions: optInt(o, 'additions', p, { min: 0 }),
      deletions: optInt(o, 'deletions', p, { min: 0 }),
      status: o.status === undefined ? undefined : oneOf(o, 'status', p, ['added', 'deleted', 'modified'] as const),
      source: oneOf(o, 'source', p, ['tool', 'snapshot'] as const),
      callId: optStr(o, 'callId', p, { min: 1, max: 256 }),
    }),
  'todo.updated': (o, p) => ({ sessionId: str(o, 'sessionId', p, ID), items: list(o, 'items', p, parseTodo, 1000) }),
  'session.status': (o, p) => ({ sessionId: str(o, 'sessionId', p, ID), ...parseSessionState(o, p) }),
  'session.idle': sessionRef,
  'session.error': (o, p) =>
    defined({
      sessionId: optStr(o, 'sessionId', p, ID),
      kind: oneOf(o, 'kind', p, RUN_ERROR_KINDS),
      name: str(o, 'name', p, { max: 200 }),
      message: str(o, 'message', p, { max: 64 * 1024 }),
    }),
  'session.updated': (o, p) => parseSessionInfo(o, p),
  'session.deleted': sessionRef,
  'permission.asked': (o, p) => parsePermissionRequest(o, p),
  'permission.replied': (o, p) =>
    defined({
      requestId: str(o, 'requestId', p, ID),
      sessionId: str(o, 'sessionId', p, ID),
      reply: oneOf(o, 'reply', p, ['once', 'always', 'reject'] as const),
      by: o.by === undefined ? undefined : oneOf(o, 'by', p, ['timeout'] as const),
    }),
  'permission.expired': (o, p) => ({ requestId: str(o, 'requestId', p, ID), sessionId: str(o, 'sessionId', p, ID), ...parseExpiry(o, p) }),
  ...QUESTION_EVENT_PARSERS,
  'question.expired': (o, p) => ({ ...questionRef(o, p), ...parseExpiry(o, p) }),
  'runtime.reconnected': () => ({}),
  'session.interrupted': (o, p) => ({ sessionId: str(o, 'sessionId', p, ID), ...parseInterruption(o, p) }),
};

export const EVENT_TYPES = Object.keys(EVENT_PARSERS) as RelayRuntimeEventType[];

export function isEventType(type: unknown): type is RelayRuntimeEventType {
  return typeof type === 'string' && Object.hasOwn(EVENT_PARSERS, type);
}

/**
 * Reads a relayed event. Undefined for a type this side does not know (a newer host's: the device
 * skips it); a known type with a malformed field throws ProtocolError naming the field.
 */
export function parseEvent(v: unknown, path = 'event'): RelayRuntimeEvent | undefined {
  const o = obj(v, path);
  const type = str(o, 'type', path, { min: 1, max: 64 });
  if (!isEventType(type)) return undefined;
  return { type, ...EVENT_PARSERS[type](o, `${path}(${type})`) } as RelayRuntimeEvent;
}
