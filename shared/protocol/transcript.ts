/**
 * The relay's own shapes for what a session holds: its live state, its messages and their parts,
 * its todo list, and why a turn failed. The host maps the runtime's data into these
 * (host/runtime/to-relay.ts); devices read only these, so a new runtime version changes the
 * host's mapping, never the phone or its cache. Each shape has its parser here, used at the wire.
 * @module
 */
import { bool, defined, int, list, num, obj, oneOf, optInt, optNum, optRecord, optStr, record, str, strItem, type Obj } from './guard.ts';
import { QUESTION_LIMITS, parseAnswers, parseQuestionInfo, type QuestionAnswers, type QuestionInfo } from './questions.ts';

const ID = { min: 1, max: 128 };
const TEXT = { max: 4 * 1024 * 1024 };

// ---- a session's live state --------------------------------------------------------------

export const SESSION_STATUSES = ['idle', 'busy', 'retry'] as const;
/** idle: its turn is over; busy: the agent works; retry: the model call failed and is retried. */
export type SessionStatusKind = (typeof SESSION_STATUSES)[number];

/** What the runtime says of a session now. */
export type SessionState =
  | { status: 'idle' | 'busy' }
  /** `next`: when the next attempt starts (ms since the epoch). */
  | { status: 'retry'; attempt: number; message: string; next: number };

export function parseSessionState(v: unknown, path: string): SessionState {
  const o = obj(v, path);
  const status = oneOf(o, 'status', path, SESSION_STATUSES);
  if (status !== 'retry') return { status };
  return { status, attempt: int(o, 'attempt', path, { min: 0 }), message: str(o, 'message', path, { max: 4000 }), next: num(o, 'next', path) };
}

// ---- why a turn failed -------------------------------------------------------------------

/**
 * aborted: a person stopped it; provider-auth: no model provider is signed in; provider: the
 * model provider answered with an error; other: anything else.
 */
export const RUN_ERROR_KINDS = ['aborted', 'provider-auth', 'provider', 'other'] as const;
export type RunErrorKind = (typeof RUN_ERROR_KINDS)[number];

export type RunError = {
  kind: RunErrorKind;
  /** The runtime's name for it, shown to people as a detail only. */
  name: string;
  message: string;
};

export function parseRunError(v: unknown, path: string): RunError {
  const o = obj(v, path);
  return { kind: oneOf(o, 'kind', path, RUN_ERROR_KINDS), name: str(o, 'name', path, { max: 200 }), message: str(o, 'message', path, { max: 64 * 1024 }) };
}

// ---- todos ---------------------------------------------------------------------------------

export type TodoItem = {
  content: string;
  /** pending, in_progress, completed or cancelled; kept open for new ones. */
  status: string;
  /** high, medium or low. */
  priority: string;
};

export function parseTodo(v: unknown, path: string): TodoItem {
  const o = obj(v, path);
  return { content: str(o, 'content', path, TEXT), status: str(o, 'status', path, { max: 64 }), priority: str(o, 'priority', path, { max: 64 }) };
}

// ---- messages and their parts --------------------------------------------------------------

/**
 * What a tool call or a permission request is about, read by the host from the tool's own
 * arguments, so a device shows it without knowing any tool's argument names.
 */
export type ToolSubject = {
  command?: string;
  /** What the agent said the command is for. */
  description?: string;
  path?: string;
  /** The whole new content of a file being written. */
  content?: string;
  url?: string;
  /** A unified diff of the change asked for. */
  diff?: string;
};

const SUBJECT_KEYS = ['command', 'description', 'path', 'content', 'url', 'diff'] as const;

export function parseSubject(o: Obj, path: string): ToolSubject | undefined {
  const subject = optRecord(o, 'subject', path);
  if (!subject) return undefined;
  const out: ToolSubject = {};
  for (const key of SUBJECT_KEYS) {
    const value = optStr(subject, key, `${path}.subject`, TEXT);
    if (value !== undefined) out[key] = value;
  }
  return out;
}

export const TOOL_STATUSES = ['pending', 'running', 'completed', 'error'] as const;
export type ToolStatus = (typeof TOOL_STATUSES)[number];
export type Role = 'user' | 'assistant';
const ROLES = ['user', 'assistant'] as const;

export type TextPart = {
  kind: 'text' | 'reasoning';
  partId: string;
  text: string;
  /** False while the agent is still writing it. */
  done: boolean;
};

export type ToolPart = {
  kind: 'tool';
  partId: string;
  callId: string;
  tool: string;
  status: ToolStatus;
  /** The tool's own arguments, as the agent gave them (shown as they are for tools the app does not know). */
  input: Obj;
  /** What the call is about (the command, the file, …). */
  subject?: ToolSubject;
  title?: string;
  /** Final output when completed; the output so far while a command runs. */
  output?: string;
  error?: string;
  /**
   * Set when the error is a refused permission: `refused` by a person or a rule, `timeout` by the
   * host because nobody answered in time (then `error` is the host's own words for it).
   */
  denied?: 'refused' | 'timeout';
  time?: { start: number; end?: number };
  /** A unified diff of the file this call changed, when the runtime gave one. */
  diff?: string;
  /** The `question` tool's questions, read by the host from its arguments. */
  questions?: QuestionInfo[];
  /** The `question` tool's answers, one list per question, once it completed. */
  answers?: QuestionAnswers;
};

export type FilePart = {
  kind: 'file';
  partId: string;
  mime: string;
  /** Absent for a file sent inline (an attachment): its bytes stay on the host (a picture's come with `attachment.get`). */
  url?: string;
  filename?: string;
  /** An inline file's size in bytes. */
  size?: number;
};

/** The agent began or finished one step (one model call) of its turn. */
export type StepPart = {
  kind: 'step';
  partId: string;
  phase: 'start' | 'finish';
  /** Why a finished step ended (e.g. stop, tool-calls), as the runtime says. */
  reason?: string;
};

/** The files a step changed (a snapshot the runtime can revert to). */
export type PatchPart = {
  kind: 'patch';
  partId: string;
  files: string[];
};

export type Part = TextPart | ToolPart | FilePart | StepPart | PatchPart;
export const PART_KINDS = ['text', 'reasoning', 'tool', 'file', 'step', 'patch'] as const;

export type MessageInfo = {
  messageId: string;
  role: Role;
  /** The user message an assistant message answers. */
  parentId?: string;
  time: { created: number; completed?: number };
  error?: RunError;
};

export interface TranscriptMessage extends MessageInfo {
  parts: Part[];
}

// ---- a turn cut short ----------------------------------------------------------------------

/**
 * Why a turn can no longer finish: `host-restarted`, the host (and the runtime it ran) stopped
 * while it ran; `runtime-restarted`, the runtime process stopped and was started again;
 * `runtime-lost`, the runtime no longer runs it, found later (the host lost contact with it).
 */
export const INTERRUPT_REASONS = ['host-restarted', 'runtime-restarted', 'runtime-lost'] as const;
export type InterruptReason = (typeof INTERRUPT_REASONS)[number];

/**
 * A turn the runtime stopped running without finishing it (a restart cut it short): its reply, if
 * it had begun one, stays as far as it got, and the session is idle. It is the session's state
 * until the session runs again.
 */
export type Interruption = {
  /** The turn's prompt (the user message). */
  messageId: string;
  /** The reply that was cut short, when the runtime had begun one. */
  replyId?: string;
  /** The task whose turn it was, when a device sent it through the host. */
  taskId?: string;
  /** When the host found it (ms since the epoch). */
  at: number;
  reason: InterruptReason;
  /** What happened to the runtime, for a person. */
  detail?: string;
};

export function parseInterruption(o: Obj, path: string): Interruption {
  return defined({
    messageId: str(o, 'messageId', path, ID),
    replyId: optStr(o, 'replyId', path, ID),
    taskId: optStr(o, 'taskId', path, ID),
    at: num(o, 'at', path),
    reason: oneOf(o, 'reason', path, INTERRUPT_REASONS),
    detail: optStr(o, 'detail', path, { max: 4000 }),
  });
}

/** The answer to `session.messages`: the session's messages in order, its todo list and its state. */
export interface Transcript {
  sessionId: string;
  state: SessionState;
  messages: TranscriptMessage[];
  todos: TodoItem[];
  /** The session's last turn was cut short (its state is idle). */
  interrupted?: Interruption;
  /** Every turn of the session the host recorded as cut short, oldest first, also once it ran again. */
  interruptions?: Interruption[];
  /** A page (`limit`): messages earlier than the first one exist. */
  more?: boolean;
}

export function parseMessageInfo(o: Obj, path: string): MessageInfo {
  const time = obj(o.time, `${path}.time`);
  return defined({
    messageId: str(o, 'messageId', path, ID),
    role: oneOf(o, 'role', path, ROLES),
    parentId: optStr(o, 'parentId', path, ID),
    time: defined({ created: num(time, 'created', `${path}.time`), completed: optNum(time, 'completed', `${path}.time`) }),
    error: o.error === undefined ? undefined : parseRunError(o.error, `${path}.error`),
  });
}

function parseTime(o: Obj, path: string): { start: number; end?: number } | undefined {
  const time = optRecord(o, 'time', path);
  return time && defined({ start: num(time, 'start', `${path}.time`), end: optNum(time, 'end', `${path}.time`) });
}

/** The fields a tool call has, in a transcript part and in a `tool.updated` event alike. */
export function parseToolFields(o: Obj, path: string): Omit<ToolPart, 'kind' | 'partId'> {
  return defined({
    callId: str(o, 'callId', path, { min: 1, max: 256 }),
    tool: str(o, 'tool', path, { min: 1, max: 256 }),
    status: oneOf(o, 'status', path, TOOL_STATUSES),
    input: record(o, 'input', path),
    subject: parseSubject(o, path),
    title: optStr(o, 'title', path, { max: 4000 }),
    output: optStr(o, 'output', path, TEXT),
    error: optStr(o, 'error', path, TEXT),
    denied: o.denied === undefined ? undefined : oneOf(o, 'denied', path, ['refused', 'timeout'] as const),
    time: parseTime(o, path),
    diff: optStr(o, 'diff', path, TEXT),
    questions: o.questions === undefined ? undefined : list(o, 'questions', path, parseQuestionInfo, QUESTION_LIMITS.questions),
    answers: o.answers === undefined ? undefined : parseAnswers(o, 'answers', path),
  });
}

export function parseFileFields(o: Obj, path: string): Omit<FilePart, 'kind' | 'partId'> {
  return defined({
    mime: str(o, 'mime', path, { max: 200 }),
    url: optStr(o, 'url', path, TEXT),
    filename: optStr(o, 'filename', path, { max: 4096 }),
    size: optInt(o, 'size', path, { min: 0 }),
  });
}

export function parsePart(v: unknown, path: string): Part {
  const o = obj(v, path);
  const kind = oneOf(o, 'kind', path, PART_KINDS);
  const partId = str(o, 'partId', path, ID);
  switch (kind) {
    case 'text':
    case 'reasoning':
      return { kind, partId, text: str(o, 'text', path, TEXT), done: bool(o, 'done', path) };
    case 'tool':
      return { kind, partId, ...parseToolFields(o, path) };
    case 'file':
      return { kind, partId, ...parseFileFields(o, path) };
    case 'step':
      return defined({ kind, partId, phase: oneOf(o, 'phase', path, ['start', 'finish'] as const), reason: optStr(o, 'reason', path, { max: 200 }) });
    case 'patch':
      return { kind, partId, files: list(o, 'files', path, strItem({ max: 4096 }), 10_000) };
  }
}

function parseMessage(v: unknown, path: string): TranscriptMessage {
  const o = obj(v, path);
  return { ...parseMessageInfo(o, path), parts: list(o, 'parts', path, parsePart, 100_000) };
}

export function parseTranscript(v: unknown, path: string): Transcript {
  const o = obj(v, path);
  return {
    sessionId: str(o, 'sessionId', path, ID),
    state: parseSessionState(o.state, `${path}.state`),
    messages: list(o, 'messages', path, parseMessage, 100_000),
    todos: list(o, 'todos', path, parseTodo, 1000),
    ...(o.interrupted === undefined ? {} : { interrupted: parseInterruption(obj(o.interrupted, `${path}.interrupted`), `${path}.interrupted`) }),
    ...(o.interruptions === undefined ? {} : { interruptions: list(o, 'interruptions', path, (v, p) => parseInterruption(obj(v, p), p), 10_000) }),
    ...(o.more === true ? { more: true } : {}),
  };
}
