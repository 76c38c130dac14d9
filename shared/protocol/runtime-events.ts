/**
 * The host's own typed view of what the OpenCode runtime reports on its `/event` stream, shared
 * by the host (which maps and relays) and the client (which renders). Wire events are checked
 * with small hand-written guards: a known event with a bad shape throws a `TypeError` naming
 * the field, an event the host does not relay maps to nothing.
 * @module
 */
import { ProtocolError, list } from './guard.ts';
import { parseAnswers, parseQuestionInfo, QUESTION_LIMITS, type QuestionAskedEvent, type QuestionRejectedEvent, type QuestionRepliedEvent } from './questions.ts';

export type ToolStatus = 'pending' | 'running' | 'completed' | 'error';
export type PermissionReply = 'once' | 'always' | 'reject';
export type SessionStatusKind = 'busy' | 'idle' | 'retry';
export type TextKind = 'text' | 'reasoning';

export interface RelayError {
  name: string;
  message: string;
}

export interface TodoItem {
  content: string;
  /** pending, in_progress, completed or cancelled as OpenCode uses them; kept open for new ones. */
  status: string;
  /** high, medium or low as OpenCode uses them. */
  priority: string;
}

interface PartDelta<T extends string> {
  type: T;
  sessionId: string;
  messageId: string;
  partId: string;
  delta: string;
}

/** The whole text of a text or reasoning part: sent when it starts and when it ends, so a
 * consumer that missed deltas can catch up. */
interface PartSnapshot<T extends string> {
  type: T;
  sessionId: string;
  messageId: string;
  partId: string;
  text: string;
  done: boolean;
}

export type TextDeltaEvent = PartDelta<'message.text.delta'>;
export type ReasoningDeltaEvent = PartDelta<'message.reasoning.delta'>;
export type TextUpdatedEvent = PartSnapshot<'message.text.updated'>;
export type ReasoningUpdatedEvent = PartSnapshot<'message.reasoning.updated'>;

export interface MessageUpdatedEvent {
  type: 'message.updated';
  sessionId: string;
  messageId: string;
  role: 'user' | 'assistant';
  parentId?: string;
  time: { created: number; completed?: number };
  error?: RelayError;
}

export interface ToolUpdatedEvent {
  type: 'tool.updated';
  sessionId: string;
  messageId: string;
  partId: string;
  callId: string;
  tool: string;
  status: ToolStatus;
  input: Record<string, unknown>;
  title?: string;
  /** Final output when completed; the output so far while a command runs (bash streams it). */
  output?: string;
  error?: string;
  time?: { start: number; end?: number };
  /** The `question` tool's answers, one list per question, once it completed. */
  answers?: string[][];
}

export interface FileEditedEvent {
  type: 'file.edited';
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
}

export interface TodoUpdatedEvent {
  type: 'todo.updated';
  sessionId: string;
  items: TodoItem[];
}

export interface SessionStatusEvent {
  type: 'session.status';
  sessionId: string;
  status: SessionStatusKind;
  /** Only for `retry`. */
  attempt?: number;
  message?: string;
  next?: number;
}

export interface SessionIdleEvent {
  type: 'session.idle';
  sessionId: string;
}

export interface SessionErrorEvent {
  type: 'session.error';
  sessionId?: string;
  /** e.g. MessageAbortedError, APIError, ProviderAuthError. */
  name: string;
  message: string;
}

export interface SessionUpdatedEvent {
  type: 'session.updated';
  sessionId: string;
  title: string;
  directory?: string;
  parentId?: string;
  time: { created: number; updated: number };
}

export interface SessionDeletedEvent {
  type: 'session.deleted';
  sessionId: string;
}

export interface PermissionAskedEvent {
  type: 'permission.asked';
  requestId: string;
  sessionId: string;
  /** The permission kind: bash, edit, webfetch, external_directory, … */
  permission: string;
  patterns: string[];
  /** Patterns an "always" answer would allow (OpenCode's suggestion, e.g. `echo *`). */
  always: string[];
  /** What the tool wants to do, e.g. `{command}` for bash, `{filepath, diff}` for edit. */
  metadata: Record<string, unknown>;
  tool?: { messageId: string; callId: string };
  /**
   * When the host will deny it for want of an answer (epoch ms, the host's clock), set by the
   * host's relay (host/policy/timeouts.ts); absent from the runtime's own event.
   */
  deadline?: number;
}

export interface PermissionRepliedEvent {
  type: 'permission.replied';
  requestId: string;
  sessionId: string;
  reply: PermissionReply;
  /** "timeout": the host denied it because nobody answered in time (set by the host's relay). */
  by?: 'timeout';
}

/** The host lost the runtime's event stream and is back: events in between may be missing,
 * so consumers should refetch what they show. */
export interface RuntimeReconnectedEvent {
  type: 'runtime.reconnected';
}

export type RelayRuntimeEvent =
  | TextDeltaEvent
  | ReasoningDeltaEvent
  | TextUpdatedEvent
  | ReasoningUpdatedEvent
  | MessageUpdatedEvent
  | ToolUpdatedEvent
  | FileEditedEvent
  | TodoUpdatedEvent
  | SessionStatusEvent
  | SessionIdleEvent
  | SessionErrorEvent
  | SessionUpdatedEvent
  | SessionDeletedEvent
  | PermissionAskedEvent
  | PermissionRepliedEvent
  | QuestionAskedEvent
  | QuestionRepliedEvent
  | QuestionRejectedEvent
  | RuntimeReconnectedEvent;

export type RelayRuntimeEventType = RelayRuntimeEvent['type'];

/** Tells which kind of part a delta belongs to: OpenCode's `message.part.delta` does not say. */
export type PartKindLookup = (partId: string) => TextKind | undefined;

const EDIT_TOOLS = new Set(['write', 'edit', 'multiedit', 'apply_patch', 'patch']);

/**
 * Maps one raw `/event` payload to host events (none for event types the host does not relay).
 * Deltas count as text unless `partKind` says the part is reasoning.
 * @throws TypeError naming the field when a relayed event type has a malformed shape.
 */
export function mapRuntimeEvent(raw: unknown, partKind: PartKindLookup = () => undefined): RelayRuntimeEvent[] {
  const event = obj(raw, 'event');
  const type = str(event, 'type', 'event');
  const mapper = MAPPERS[type];
  if (!mapper) return [];
  const at = `${type}.properties`;
  return mapper(obj(event.properties, at), partKind, at);
}

/**
 * A stateful `mapRuntimeEvent` for one event stream: remembers which parts are reasoning (from
 * their first snapshot) so their deltas come out as `message.reasoning.delta`.
 */
export function createRuntimeEventMapper(maxTrackedParts = 256): (raw: unknown) => RelayRuntimeEvent[] {
  const reasoning = new Set<string>();
  const lookup: PartKindLookup = (id) => (reasoning.has(id) ? 'reasoning' : undefined);
  return (raw) => {
    const events = mapRuntimeEvent(raw, lookup);
    for (const e of events) {
      if (e.type !== 'message.reasoning.updated') continue;
      if (e.done) reasoning.delete(e.partId);
      else reasoning.add(e.partId);
      // A part whose end we never saw (stream lost) must not pin memory forever.
      if (reasoning.size > maxTrackedParts) reasoning.delete(reasoning.values().next().value as string);
    }
    return events;
  };
}

type Obj = Record<string, unknown>;
/** `at` names the properties object in error messages. */
type Mapper = (p: Obj, partKind: PartKindLookup, at: string) => RelayRuntimeEvent[];

const MAPPERS: Record<string, Mapper> = {
  'message.part.delta': (p, partKind, at) => {
    if (str(p, 'field', at) !== 'text') return [];
    const partId = str(p, 'partID', at);
    const kind = partKind(partId) === 'reasoning' ? 'message.reasoning.delta' : 'message.text.delta';
    return [{ type: kind, sessionId: str(p, 'sessionID', at), messageId: str(p, 'messageID', at), partId, delta: str(p, 'delta', at) }];
  },
  'message.part.updated': (p, _k, at) => mapPart(obj(p.part, `${at}.part`), `${at}.part`),
  'message.updated': (p, _k, at) => {
    const info = obj(p.info, `${at}.info`);
    const where = `${at}.info`;
    const role = str(info, 'role', where);
    if (role !== 'user' && role !== 'assistant') throw new TypeError(`${where}.role must be "user" or "assistant"`);
    const time = obj(info.time, `${where}.time`);
    const completed = optNum(time, 'completed', `${where}.time`);
    const parentId = optStr(info, 'parentID', where);
    return [{
      type: 'message.updated',
      sessionId: str(info, 'sessionID', where),
      messageId: str(info, 'id', where),
      role,
      ...(parentId !== undefined ? { parentId } : {}),
      time: { created: num(time, 'created', `${where}.time`), ...(completed !== undefined ? { completed } : {}) },
      ...(info.error !== undefined ? { error: relayError(info.error, `${where}.error`) } : {}),
    }];
  },
  'session.diff': (p, _k, at) => {
    const sessionId = str(p, 'sessionID', at);
    return arr(p.diff, `${at}.diff`).flatMap((d, i): FileEditedEvent[] => {
      const where = `${at}.diff[${i}]`;
      const entry = obj(d, where);
      const path = optStr(entry, 'file', where);
      if (path === undefined) return [];
      const diff = optStr(entry, 'patch', where);
      const status = optStr(entry, 'status', where);
      return [{
        type: 'file.edited',
        sessionId,
        path,
        ...(diff !== undefined ? { diff } : {}),
        additions: num(entry, 'additions', where),
        deletions: num(entry, 'deletions', where),
        ...(status === 'added' || status === 'deleted' || status === 'modified' ? { status } : {}),
        source: 'snapshot',
      }];
    });
  },
  'todo.updated': (p, _k, at) => [{
    type: 'todo.updated',
    sessionId: str(p, 'sessionID', at),
    items: arr(p.todos, `${at}.todos`).map((t, i) => {
      const item = obj(t, `${at}.todos[${i}]`);
      const where = `${at}.todos[${i}]`;
      return { content: str(item, 'content', where), status: str(item, 'status', where), priority: str(item, 'priority', where) };
    }),
  }],
  'session.status': (p, _k, at) => {
    const status = obj(p.status, `${at}.status`);
    const kind = str(status, 'type', `${at}.status`);
    if (kind !== 'busy' && kind !== 'idle' && kind !== 'retry') throw new TypeError(`${at}.status.type must be busy, idle or retry`);
    const sessionId = str(p, 'sessionID', at);
    if (kind !== 'retry') return [{ type: 'session.status', sessionId, status: kind }];
    return [{
      type: 'session.status',
      sessionId,
      status: kind,
      attempt: num(status, 'attempt', `${at}.status`),
      message: str(status, 'message', `${at}.status`),
      next: num(status, 'next', `${at}.status`),
    }];
  },
  'session.idle': (p, _k, at) => [{ type: 'session.idle', sessionId: str(p, 'sessionID', at) }],
  'session.error': (p, _k, at) => {
    const sessionId = optStr(p, 'sessionID', at);
    const error = p.error === undefined ? { name: 'UnknownError', message: '' } : relayError(p.error, `${at}.error`);
    return [{ type: 'session.error', ...(sessionId !== undefined ? { sessionId } : {}), ...error }];
  },
  'session.created': (p, _k, at) => [sessionUpdated(obj(p.info, `${at}.info`), `${at}.info`)],
  'session.updated': (p, _k, at) => [sessionUpdated(obj(p.info, `${at}.info`), `${at}.info`)],
  'session.deleted': (p, _k, at) => [{ type: 'session.deleted', sessionId: str(p, 'sessionID', at) }],
  'permission.asked': (p, _k, at) => {
    const tool = p.tool === undefined ? undefined : obj(p.tool, `${at}.tool`);
    return [{
      type: 'permission.asked',
      requestId: str(p, 'id', at),
      sessionId: str(p, 'sessionID', at),
      permission: str(p, 'permission', at),
      patterns: strings(p.patterns, `${at}.patterns`),
      always: p.always === undefined ? [] : strings(p.always, `${at}.always`),
      metadata: p.metadata === undefined ? {} : obj(p.metadata, `${at}.metadata`),
      ...(tool ? { tool: { messageId: str(tool, 'messageID', `${at}.tool`), callId: str(tool, 'callID', `${at}.tool`) } } : {}),
    }];
  },
  'permission.replied': (p, _k, at) => {
    const reply = str(p, 'reply', at);
    if (reply !== 'once' && reply !== 'always' && reply !== 'reject') throw new TypeError(`${at}.reply must be once, always or reject`);
    return [{ type: 'permission.replied', requestId: str(p, 'requestID', at), sessionId: str(p, 'sessionID', at), reply }];
  },
  'question.asked': (p, _k, at) => {
    const tool = p.tool === undefined ? undefined : obj(p.tool, `${at}.tool`);
    return [{
      type: 'question.asked',
      requestId: str(p, 'id', at),
      sessionId: str(p, 'sessionID', at),
      questions: guarded(() => list(p, 'questions', at, parseQuestionInfo, QUESTION_LIMITS.questions)),
      ...(tool ? { tool: { messageId: str(tool, 'messageID', `${at}.tool`), callId: str(tool, 'callID', `${at}.tool`) } } : {}),
    }];
  },
  'question.replied': (p, _k, at) => [{
    type: 'question.replied',
    requestId: str(p, 'requestID', at),
    sessionId: str(p, 'sessionID', at),
    answers: guarded(() => parseAnswers(p, 'answers', at)),
  }],
  'question.rejected': (p, _k, at): QuestionRejectedEvent[] => [{ type: 'question.rejected', requestId: str(p, 'requestID', at), sessionId: str(p, 'sessionID', at) }],
};

/** The protocol's own guards throw ProtocolError; this module's contract is a TypeError naming the field. */
function guarded<T>(read: () => T): T {
  try {
    return read();
  } catch (err) {
    if (err instanceof ProtocolError) throw new TypeError(err.message);
    throw err;
  }
}

function mapPart(part: Obj, at: string): RelayRuntimeEvent[] {
  const kind = str(part, 'type', at);
  if (kind === 'text' || kind === 'reasoning') {
    const time = part.time === undefined ? undefined : obj(part.time, `${at}.time`);
    return [{
      type: kind === 'text' ? 'message.text.updated' : 'message.reasoning.updated',
      sessionId: str(part, 'sessionID', at),
      messageId: str(part, 'messageID', at),
      partId: str(part, 'id', at),
      text: str(part, 'text', at),
      // A user's text part has no time at all: it is complete when it appears.
      done: time === undefined || optNum(time, 'end', `${at}.time`) !== undefined,
    }];
  }
  if (kind !== 'tool') return [];
  const tool = toolUpdated(part, at);
  const edit = tool.status === 'completed' && EDIT_TOOLS.has(tool.tool) ? fileEditedByTool(tool, obj(part.state, `${at}.state`)) : undefined;
  return edit ? [tool, edit] : [tool];
}

function toolUpdated(part: Obj, at: string): ToolUpdatedEvent {
  const where = `${at}.state`;
  const state = obj(part.state, where);
  const status = str(state, 'status', where);
  if (status !== 'pending' && status !== 'running' && status !== 'completed' && status !== 'error') {
    throw new TypeError(`${where}.status must be pending, running, completed or error`);
  }
  const metadata = state.metadata === undefined ? undefined : obj(state.metadata, `${where}.metadata`);
  const title = optStr(state, 'title', where);
  const output = status === 'completed' ? str(state, 'output', where) : status === 'running' ? optStr(metadata ?? {}, 'output', `${where}.metadata`) : undefined;
  const time = state.time === undefined ? undefined : obj(state.time, `${where}.time`);
  const end = time && optNum(time, 'end', `${where}.time`);
  const tool = str(part, 'tool', at);
  // The question tool keeps the answers given in its metadata; its output is prose for the model.
  const answers = tool === 'question' && status === 'completed' && metadata?.answers !== undefined ? guarded(() => parseAnswers(metadata, 'answers', `${where}.metadata`)) : undefined;
  return {
    type: 'tool.updated',
    sessionId: str(part, 'sessionID', at),
    messageId: str(part, 'messageID', at),
    partId: str(part, 'id', at),
    callId: str(part, 'callID', at),
    tool,
    status,
    input: state.input === undefined ? {} : obj(state.input, `${where}.input`),
    ...(title !== undefined ? { title } : {}),
    ...(output !== undefined ? { output } : {}),
    ...(status === 'error' ? { error: str(state, 'error', where) } : {}),
    ...(time ? { time: { start: num(time, 'start', `${where}.time`), ...(end !== undefined ? { end } : {}) } } : {}),
    ...(answers ? { answers } : {}),
  };
}

function fileEditedByTool(tool: ToolUpdatedEvent, state: Obj): FileEditedEvent | undefined {
  const metadata = state.metadata && typeof state.metadata === 'object' ? (state.metadata as Obj) : {};
  const path = typeof metadata.filepath === 'string' ? metadata.filepath : typeof tool.input.filePath === 'string' ? tool.input.filePath : undefined;
  if (path === undefined) return undefined;
  return {
    type: 'file.edited',
    sessionId: tool.sessionId,
    path,
    ...(typeof metadata.diff === 'string' ? { diff: metadata.diff } : {}),
    source: 'tool',
    callId: tool.callId,
  };
}

function sessionUpdated(info: Obj, at: string): SessionUpdatedEvent {
  const time = obj(info.time, `${at}.time`);
  const directory = optStr(info, 'directory', at);
  const parentId = optStr(info, 'parentID', at);
  return {
    type: 'session.updated',
    sessionId: str(info, 'id', at),
    title: str(info, 'title', at),
    ...(directory !== undefined ? { directory } : {}),
    ...(parentId !== undefined ? { parentId } : {}),
    time: { created: num(time, 'created', `${at}.time`), updated: num(time, 'updated', `${at}.time`) },
  };
}

/** OpenCode's errors are `{name, data: {message}}`; anything else still yields a readable pair. */
function relayError(value: unknown, at: string): RelayError {
  const error = obj(value, at);
  const name = optStr(error, 'name', at) ?? 'UnknownError';
  const data = error.data && typeof error.data === 'object' ? (error.data as Obj) : {};
  const message = typeof data.message === 'string' ? data.message : typeof error.message === 'string' ? error.message : '';
  return { name, message };
}

function obj(value: unknown, at: string): Obj {
  if (!value || typeof value !== 'object' || Array.isArray(value)) throw new TypeError(`${at} must be an object`);
  return value as Obj;
}

function arr(value: unknown, at: string): unknown[] {
  if (!Array.isArray(value)) throw new TypeError(`${at} must be an array`);
  return value;
}

function strings(value: unknown, at: string): string[] {
  return arr(value, at).map((v, i) => {
    if (typeof v !== 'string') throw new TypeError(`${at}[${i}] must be a string`);
    return v;
  });
}

function str(o: Obj, key: string, at: string): string {
  const v = o[key];
  if (typeof v !== 'string') throw new TypeError(`${at}.${key} must be a string`);
  return v;
}

function optStr(o: Obj, key: string, at: string): string | undefined {
  return o[key] === undefined ? undefined : str(o, key, at);
}

function num(o: Obj, key: string, at: string): number {
  const v = o[key];
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new TypeError(`${at}.${key} must be a number`);
  return v;
}

function optNum(o: Obj, key: string, at: string): number | undefined {
  return o[key] === undefined ? undefined : num(o, key, at);
}
