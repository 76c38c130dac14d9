/**
 * The one place where OpenCode's shapes become the relay's (shared/protocol/): its `/event`
 * stream into relay events, its sessions into summaries, its stored messages into transcripts,
 * its errors into run errors with a kind. Devices never see OpenCode's format, so a new runtime
 * version changes this module and nothing on the phone.
 *
 * OpenCode's data is read with the protocol's guards (shared/protocol/guard.ts): a relayed event
 * type with a malformed shape throws ProtocolError naming the field; an event type the host does
 * not relay maps to nothing.
 * @module
 */
import { RelayError } from '../../shared/protocol/errors.ts';
import { CHANGE_STATUSES, PATCH_MAX, type FileChange } from '../../shared/protocol/changes.ts';
import { ProtocolError, defined, isObj, list, num, obj, oneOf, optNum, optOneOf, optRecord, optStr, record, str, strItem, type Obj } from '../../shared/protocol/guard.ts';
import type { FileEditedEvent, PermissionAskedEvent, RelayRuntimeEvent, SessionUpdatedEvent, ToolUpdatedEvent } from '../../shared/protocol/runtime-events.ts';
import type { AgentChoice, CommandChoice, ComposerOptions, ModelChoice } from '../../shared/protocol/composer.ts';
import { toPreview, type SessionInfo, type SessionSummary } from '../../shared/protocol/sessions-list.ts';
import type { SessionUsage, TokenCounts } from '../../shared/protocol/usage.ts';
import { VCS_FILES_MAX, type VcsFile, type VcsStatus } from '../../shared/protocol/vcs.ts';
import { QUESTION_LIMITS, parseAnswers, parseQuestionInfo, type QuestionAskedEvent, type QuestionInfo } from '../../shared/protocol/questions.ts';
import { ATTACHMENT_MAX_BYTES, isImageType, type ImageType } from '../../shared/protocol/attachments.ts';
import { timeoutDenial } from '../policy/timeouts.ts';
import type { RuntimeChoices } from './port.ts';
import {
  TOOL_STATUSES,
  type MessageInfo,
  type ToolSubject,
  type Part,
  type RunError,
  type RunErrorKind,
  type SessionState,
  type TodoItem,
  type Transcript,
  type TranscriptMessage,
} from '../../shared/protocol/transcript.ts';

/** Tells which kind of part a delta belongs to: OpenCode's `message.part.delta` does not say. */
export type PartKindLookup = (partId: string) => 'text' | 'reasoning' | undefined;

const EDIT_TOOLS = new Set(['write', 'edit', 'multiedit', 'apply_patch', 'patch']);
/** OpenCode's tool that asks the person (its requests are `question.*` events). */
const QUESTION_TOOL = 'question';
/** OpenCode says only in words that a tool call failed because its permission was refused… */
const REFUSED = /reject|denied|permission/i;
/** …or that the person dismissed the question tool's question. */
const DISMISSED = /dismissed this question/i;
/** Where OpenCode's tools and permission requests name what they are about. */
const SUBJECT_FIELDS: Array<[keyof ToolSubject, string[]]> = [
  ['command', ['command']],
  ['description', ['description']],
  ['path', ['filePath', 'filepath', 'path']],
  ['content', ['content']],
  ['url', ['url']],
  ['diff', ['diff']],
];

/** What a tool's arguments (or a permission request's metadata) are about; undefined when nothing is known. */
export function toSubject(args: Obj): ToolSubject | undefined {
  const subject: ToolSubject = {};
  for (const [key, names] of SUBJECT_FIELDS) {
    const name = names.find((n) => typeof args[n] === 'string');
    if (name) subject[key] = args[name] as string;
  }
  return Object.keys(subject).length ? subject : undefined;
}

/** The tool whose input is the session's todo list. */
const TODO_TOOL = 'todowrite';

/**
 * Maps one raw `/event` payload to relay events (none for event types the host does not relay).
 * Deltas count as text unless `partKind` says the part is reasoning.
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

/** `at` names the properties object in error messages. */
type Mapper = (p: Obj, partKind: PartKindLookup, at: string) => RelayRuntimeEvent[];

const MAPPERS: Record<string, Mapper> = {
  'message.part.delta': (p, partKind, at) => {
    if (str(p, 'field', at) !== 'text') return [];
    const partId = str(p, 'partID', at);
    const type = partKind(partId) === 'reasoning' ? 'message.reasoning.delta' : 'message.text.delta';
    return [{ type, sessionId: str(p, 'sessionID', at), messageId: str(p, 'messageID', at), partId, delta: str(p, 'delta', at) }];
  },
  'message.part.updated': (p, _k, at) => partEvents(obj(p.part, `${at}.part`), `${at}.part`),
  'message.updated': (p, _k, at) => {
    const info = obj(p.info, `${at}.info`);
    return [{ type: 'message.updated', sessionId: str(info, 'sessionID', `${at}.info`), ...toMessageInfo(info, `${at}.info`) }];
  },
  'session.diff': (p, _k, at) => {
    const sessionId = str(p, 'sessionID', at);
    return list(p, 'diff', at, (d) => d, 10_000).flatMap((d, i): FileEditedEvent[] => {
      const where = `${at}.diff[${i}]`;
      const entry = obj(d, where);
      const path = optStr(entry, 'file', where);
      if (path === undefined) return [];
      const status = optStr(entry, 'status', where);
      return [
        defined({
          type: 'file.edited' as const,
          sessionId,
          path,
          diff: optStr(entry, 'patch', where),
          additions: num(entry, 'additions', where),
          deletions: num(entry, 'deletions', where),
          status: status === 'added' || status === 'deleted' || status === 'modified' ? status : undefined,
          source: 'snapshot' as const,
        }),
      ];
    });
  },
  'todo.updated': (p, _k, at) => [{ type: 'todo.updated', sessionId: str(p, 'sessionID', at), items: list(p, 'todos', at, toTodo, 1000) }],
  'session.status': (p, _k, at) => [{ type: 'session.status', sessionId: str(p, 'sessionID', at), ...toSessionState(p.status, `${at}.status`) }],
  'session.idle': (p, _k, at) => [{ type: 'session.idle', sessionId: str(p, 'sessionID', at) }],
  'session.error': (p, _k, at) => {
    const error = p.error === undefined ? { kind: 'other' as const, name: 'UnknownError', message: '' } : toRunError(p.error, `${at}.error`);
    return [defined({ type: 'session.error' as const, sessionId: optStr(p, 'sessionID', at), ...error })];
  },
  'session.created': (p, _k, at) => [sessionUpdated(p.info, `${at}.info`)],
  'session.updated': (p, _k, at) => [sessionUpdated(p.info, `${at}.info`)],
  'session.deleted': (p, _k, at) => [{ type: 'session.deleted', sessionId: str(p, 'sessionID', at) }],
  'permission.asked': (p, _k, at) => [toPermissionAsked(p, at)],
  'permission.replied': (p, _k, at) => [
    {
      type: 'permission.replied',
      requestId: str(p, 'requestID', at),
      sessionId: str(p, 'sessionID', at),
      reply: oneOf(p, 'reply', at, ['once', 'always', 'reject'] as const),
    },
  ],
  'question.asked': (p, _k, at) => [toQuestionAsked(p, at)],
  'question.replied': (p, _k, at) => [
    { type: 'question.replied', requestId: str(p, 'requestID', at), sessionId: str(p, 'sessionID', at), answers: parseAnswers(p, 'answers', at) },
  ],
  'question.rejected': (p, _k, at) => [{ type: 'question.rejected', requestId: str(p, 'requestID', at), sessionId: str(p, 'sessionID', at) }],
};

function sessionUpdated(info: unknown, at: string): SessionUpdatedEvent {
  return { type: 'session.updated', ...toSessionInfo(info, at) };
}

/** The events one part makes: a text or reasoning snapshot, or a tool update (and the file it edited). */
function partEvents(raw: Obj, at: string): RelayRuntimeEvent[] {
  const part = toPart(raw, at);
  if (!part) return [];
  const ref = { sessionId: str(raw, 'sessionID', at), messageId: str(raw, 'messageID', at), partId: part.partId };
  if (part.kind === 'text' || part.kind === 'reasoning') {
    return [{ type: part.kind === 'text' ? 'message.text.updated' : 'message.reasoning.updated', ...ref, text: part.text, done: part.done }];
  }
  if (part.kind === 'file') {
    const { kind: _k, partId: _p, ...file } = part;
    return [{ type: 'message.file.updated', ...ref, ...file }];
  }
  if (part.kind !== 'tool') return [];
  const { kind: _k, partId: _p, diff, ...fields } = part;
  const tool: ToolUpdatedEvent = { type: 'tool.updated', ...ref, ...fields };
  const path = edited(raw, part.tool, part.status, fields.input, at);
  if (path === undefined) return [tool];
  return [tool, defined({ type: 'file.edited' as const, sessionId: ref.sessionId, path, diff, source: 'tool' as const, callId: part.callId })];
}

/** The file a finished edit tool changed, when it says. */
function edited(raw: Obj, tool: string, status: string, input: Obj, at: string): string | undefined {
  if (status !== 'completed' || !EDIT_TOOLS.has(tool)) return undefined;
  const metadata = optRecord(obj(raw.state, `${at}.state`), 'metadata', `${at}.state`) ?? {};
  if (typeof metadata.filepath === 'string') return metadata.filepath;
  return typeof input.filePath === 'string' ? input.filePath : undefined;
}

/**
 * One OpenCode part as a transcript part; undefined for kinds the relay does not carry
 * (snapshots, agents, compaction markers, …).
 */
function toPart(part: Obj, at: string): Part | undefined {
  const kind = str(part, 'type', at);
  const partId = str(part, 'id', at);
  switch (kind) {
    case 'text':
    case 'reasoning': {
      const time = optRecord(part, 'time', at);
      // A user's text part has no time at all: it is complete when it appears.
      return { kind, partId, text: str(part, 'text', at), done: time === undefined || optNum(time, 'end', `${at}.time`) !== undefined };
    }
    case 'tool':
      return toToolPart(part, partId, at);
    case 'file': {
      // Up to a 10 MiB attachment as base64, and its data: prefix.
      const url = str(part, 'url', at, { max: 16 * 1024 * 1024 });
      // An attachment comes inline as a data: URL of up to 10 MB: devices get its size, not its bytes.
      const inline = url.startsWith('data:');
      return defined({
        kind: 'file' as const,
        partId,
        mime: str(part, 'mime', at),
        url: inline ? undefined : url,
        filename: optStr(part, 'filename', at),
        size: inline ? dataUrlBytes(url) : undefined,
      });
    }
    case 'step-start':
      return { kind: 'step', partId, phase: 'start' };
    case 'step-finish':
      return defined({ kind: 'step' as const, partId, phase: 'finish' as const, reason: optStr(part, 'reason', at) });
    case 'patch':
      return { kind: 'patch', partId, files: list(part, 'files', at, strItem(), 10_000) };
    default:
      return undefined;
  }
}

/** The decoded size of a base64 data: URL (its text length for a plain one). */
function dataUrlBytes(url: string): number {
  const comma = url.indexOf(',');
  const head = url.slice(0, comma);
  const body = url.length - comma - 1;
  if (!head.endsWith(';base64')) return body;
  const padding = url.endsWith('==') ? 2 : url.endsWith('=') ? 1 : 0;
  return Math.floor((body * 3) / 4) - padding;
}

/** How each picture type begins: the stored type is only what the device said the file was. */
const IMAGE_MAGIC: Record<ImageType, (head: Buffer) => boolean> = {
  'image/png': (b) => b.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])),
  'image/jpeg': (b) => b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff,
  'image/gif': (b) => b.subarray(0, 4).toString('latin1') === 'GIF8',
  'image/webp': (b) => b.subarray(0, 4).toString('latin1') === 'RIFF' && b.subarray(8, 12).toString('latin1') === 'WEBP',
};

/**
 * The picture in file part `partId` of message `messageId`, read from the data: URL the runtime
 * stores for an attachment (host/runtime/bridge.ts sends them inline). A file the runtime holds as
 * a link or path is refused, never read: the host reads no path for a device.
 */
export function toImage(messages: unknown, messageId: string, partId: string): { mime: ImageType; bytes: Buffer } {
  const entries = Array.isArray(messages) ? messages : [];
  const message = entries.find((m) => isObj(m) && isObj(m.info) && m.info.id === messageId) as Obj | undefined;
  const part = (Array.isArray(message?.parts) ? message.parts : []).find((p) => isObj(p) && p.id === partId);
  if (!isObj(part)) throw new RelayError('request.unknown', `message ${messageId} of this session has no part ${partId}; load the session's messages again`);
  const notImage = (why: string) => new RelayError('attachment.not-image', `${why}; the host sends back only png, jpeg, webp and gif pictures sent with a task`);
  if (part.type !== 'file') throw notImage('that part is not a file');
  const url = typeof part.url === 'string' ? part.url : '';
  const comma = url.indexOf(',');
  const head = comma < 0 ? '' : url.slice(0, comma);
  if (!head.startsWith('data:') || !head.endsWith(';base64')) throw notImage('that file was not sent with the task (the runtime holds a link to it)');
  const mime = head.slice('data:'.length, -';base64'.length).toLowerCase();
  if (!isImageType(mime)) throw notImage(`that file is ${mime || 'of no stated type'}`);
  // Told from the URL's length before anything is decoded.
  const size = dataUrlBytes(url);
  if (size > ATTACHMENT_MAX_BYTES) throw new RelayError('attachment.too-large', `that picture is ${size} bytes; the host sends back pictures up to ${ATTACHMENT_MAX_BYTES} bytes`);
  const bytes = Buffer.from(url.slice(comma + 1), 'base64');
  if (bytes.length === 0 || !IMAGE_MAGIC[mime](bytes)) throw notImage(`that file is labelled ${mime} but its bytes are not`);
  return { mime, bytes };
}

function toToolPart(part: Obj, partId: string, at: string): Part {
  const where = `${at}.state`;
  const state = obj(part.state, where);
  const status = oneOf(state, 'status', where, TOOL_STATUSES);
  const metadata = optRecord(state, 'metadata', where);
  const time = optRecord(state, 'time', where);
  const tool = str(part, 'tool', at);
  // bash streams what it printed so far into the metadata while it runs.
  const output = status === 'completed' ? str(state, 'output', where) : status === 'running' ? optStr(metadata ?? {}, 'output', `${where}.metadata`) : undefined;
  const completedEdit = status === 'completed' && EDIT_TOOLS.has(tool);
  const rawError = status === 'error' ? str(state, 'error', where) : undefined;
  const timedOut = rawError === undefined ? undefined : timeoutDenial(rawError);
  const error = timedOut ?? rawError;
  const input = state.input === undefined ? {} : record(state, 'input', where);
  return defined({
    kind: 'tool' as const,
    partId,
    callId: str(part, 'callID', at),
    tool,
    status,
    input,
    subject: toSubject(input),
    title: optStr(state, 'title', where),
    output,
    error,
    denied: timedOut ? 'timeout' : rawError !== undefined && (REFUSED.test(rawError) || (tool === QUESTION_TOOL && DISMISSED.test(rawError))) ? 'refused' : undefined,
    time: time && defined({ start: num(time, 'start', `${where}.time`), end: optNum(time, 'end', `${where}.time`) }),
    diff: completedEdit && typeof metadata?.diff === 'string' ? metadata.diff : undefined,
    questions: tool === QUESTION_TOOL ? askedQuestions(input) : undefined,
    // The question tool keeps the answers given in its metadata; its output is prose for the model.
    answers: tool === QUESTION_TOOL && status === 'completed' && metadata?.answers !== undefined ? parseAnswers(metadata, 'answers', `${where}.metadata`) : undefined,
  });
}

function toMessageInfo(info: Obj, at: string): MessageInfo {
  const time = obj(info.time, `${at}.time`);
  return defined({
    messageId: str(info, 'id', at),
    role: oneOf(info, 'role', at, ['user', 'assistant'] as const),
    parentId: optStr(info, 'parentID', at),
    time: defined({ created: num(time, 'created', `${at}.time`), completed: optNum(time, 'completed', `${at}.time`) }),
    error: info.error === undefined ? undefined : toRunError(info.error, `${at}.error`),
  });
}

/** OpenCode names its errors; the relay says which kind each is, so devices act on a code. */
const ERROR_KINDS: Record<string, RunErrorKind> = {
  MessageAbortedError: 'aborted',
  ProviderAuthError: 'provider-auth',
  APIError: 'provider',
};

/** OpenCode's errors are `{name, data: {message}}`; anything else still yields a readable error. */
export function toRunError(value: unknown, at: string): RunError {
  const error = obj(value, at);
  const name = optStr(error, 'name', at) ?? 'UnknownError';
  const data = error.data && typeof error.data === 'object' ? (error.data as Obj) : {};
  const message = typeof data.message === 'string' ? data.message : typeof error.message === 'string' ? error.message : '';
  return { kind: ERROR_KINDS[name] ?? 'other', name, message };
}

function toTodo(v: unknown, at: string): TodoItem {
  const item = obj(v, at);
  return { content: str(item, 'content', at), status: str(item, 'status', at), priority: str(item, 'priority', at) };
}

/** OpenCode's `{type: idle | busy | retry, …}` status of a session. */
export function toSessionState(value: unknown, at: string): SessionState {
  const status = obj(value, at);
  const kind = oneOf(status, 'type', at, ['idle', 'busy', 'retry'] as const);
  if (kind !== 'retry') return { status: kind };
  return { status: kind, attempt: num(status, 'attempt', at), message: str(status, 'message', at), next: num(status, 'next', at) };
}

/** An OpenCode session (as listed, created or in `session.updated`). */
export function toSessionInfo(value: unknown, at = 'session'): SessionInfo {
  const info = obj(value, at);
  const time = obj(info.time, `${at}.time`);
  return defined({
    sessionId: str(info, 'id', at),
    title: str(info, 'title', at),
    createdAt: num(time, 'created', `${at}.time`),
    updatedAt: num(time, 'updated', `${at}.time`),
    directory: optStr(info, 'directory', at),
    parentId: optStr(info, 'parentID', at),
    revertedTo: revertedTo(info, at),
  });
}

/**
 * What a session changed, per file, from its stored messages: OpenCode keeps each turn's diff
 * (`SnapshotFileDiff`s) on the turn's user message (`summary.diffs`). With `from` (a message id),
 * the turns from the one holding that message on: what reverting to it would undo. A file changed
 * in several turns is one entry: its counts summed, its turns' diffs one after the other.
 */
export function toSessionChanges(messages: unknown, from: string | undefined, skipped: (err: unknown) => void = () => {}): FileChange[] {
  const infos = (Array.isArray(messages) ? messages : []).map((m) => (isObj(m) && isObj(m.info) ? m.info : {}));
  let start = 0;
  if (from !== undefined) {
    const at = infos.findIndex((info) => info.id === from);
    if (at < 0) throw new RelayError('request.unknown', `the session has no message ${from}`);
    // The turn that holds the message starts at the user message at or before it.
    start = Math.max(
      0,
      infos.slice(0, at + 1).findLastIndex((info) => info.role === 'user'),
    );
  }
  const byPath = new Map<string, FileChange>();
  for (const info of infos.slice(start)) {
    if (info.role !== 'user' || !isObj(info.summary) || !Array.isArray(info.summary.diffs)) continue;
    for (const change of toFileChanges(info.summary.diffs, skipped)) {
      const before = byPath.get(change.path);
      byPath.set(change.path, before ? mergeChanges(before, change) : change);
    }
  }
  return [...byPath.values()];
}

function mergeChanges(before: FileChange, after: FileChange): FileChange {
  const patch = before.patch !== undefined && after.patch !== undefined ? `${before.patch}\n${after.patch}` : undefined;
  const omitted = before.patchOmitted === true || after.patchOmitted === true || (patch !== undefined && patch.length > PATCH_MAX);
  return defined({
    path: after.path,
    // Made by the session and not deleted since: still new.
    status: before.status === 'added' && after.status !== 'deleted' ? 'added' : after.status,
    additions: before.additions + after.additions,
    deletions: before.deletions + after.deletions,
    patch: omitted ? undefined : patch,
    patchOmitted: omitted ? true : undefined,
  });
}

/**
 * OpenCode's `SnapshotFileDiff`s as the relay's file changes. A malformed entry is left out (and
 * reported to `skipped`); a diff over `PATCH_MAX` is left out of its entry.
 */
function toFileChanges(diffs: readonly unknown[], skipped: (err: unknown) => void = () => {}): FileChange[] {
  return diffs.flatMap((value, i) => {
    const at = `diff[${i}]`;
    try {
      const d = obj(value, at);
      // Any length: one over PATCH_MAX is left out below, not the whole file with it.
      const patch = optStr(d, 'patch', at, { max: Number.POSITIVE_INFINITY });
      const big = patch !== undefined && patch.length > PATCH_MAX;
      return [
        defined({
          path: str(d, 'file', at),
          status: optOneOf(d, 'status', at, CHANGE_STATUSES),
          additions: num(d, 'additions', at),
          deletions: num(d, 'deletions', at),
          patch: big ? undefined : patch,
          patchOmitted: big ? true : undefined,
        }),
      ];
    } catch (err) {
      skipped(err);
      return [];
    }
  });
}

/** The model of the session's latest message that names one (OpenCode's user messages carry `model`, its replies `providerID`/`modelID`). */
export function lastModel(messages: unknown): { providerID: string; modelID: string } | undefined {
  const entries = Array.isArray(messages) ? messages : [];
  for (let i = entries.length - 1; i >= 0; i--) {
    const info = isObj(entries[i]) ? (entries[i] as Obj).info : undefined;
    if (!isObj(info)) continue;
    const from = isObj(info.model) ? info.model : info;
    if (typeof from.providerID === 'string' && typeof from.modelID === 'string') return { providerID: from.providerID, modelID: from.modelID };
  }
  return undefined;
}

/**
 * A session's usage from its stored messages (OpenCode's replies carry `tokens` and `cost`) and
 * the runtime's providers (`/config/providers`, whose models carry `limit.context`). The context
 * in use is the latest reply that produced output: its whole model call, as OpenCode's own TUI
 * counts it. A malformed reply is left out (and reported to `skipped`).
 */
export function toSessionUsage(messages: unknown, providers: unknown, skipped: (err: unknown) => void = () => {}): SessionUsage {
  const tokens: TokenCounts = { input: 0, output: 0, reasoning: 0, cacheRead: 0, cacheWrite: 0 };
  let cost = 0;
  let latest: { providerId: string; modelId: string; used: number } | undefined;
  (Array.isArray(messages) ? messages : []).forEach((entry, i) => {
    const at = `messages[${i}].info`;
    const info = isObj(entry) && isObj(entry.info) ? entry.info : undefined;
    if (info?.role !== 'assistant') return;
    try {
      const t = obj(info.tokens, `${at}.tokens`);
      const cache = optRecord(t, 'cache', `${at}.tokens`) ?? {};
      const counts: TokenCounts = {
        input: count(t, 'input', `${at}.tokens`),
        output: count(t, 'output', `${at}.tokens`),
        reasoning: count(t, 'reasoning', `${at}.tokens`),
        cacheRead: count(cache, 'read', `${at}.tokens.cache`),
        cacheWrite: count(cache, 'write', `${at}.tokens.cache`),
      };
      const priced = optNum(info, 'cost', at) ?? 0;
      const model = { providerId: str(info, 'providerID', at), modelId: str(info, 'modelID', at) };
      for (const key of Object.keys(tokens) as Array<keyof TokenCounts>) tokens[key] += counts[key];
      cost += priced;
      if (counts.output > 0) latest = { ...model, used: counts.input + counts.output + counts.reasoning + counts.cacheRead + counts.cacheWrite };
    } catch (err) {
      skipped(err);
    }
  });
  const limit = latest && contextLimit(providers, latest.providerId, latest.modelId);
  return defined({ tokens, cost: cost > 0 ? cost : undefined, context: latest && defined({ ...latest, limit }) });
}

/** A token count: OpenCode's are whole numbers, but a provider's may not be. */
function count(o: Obj, key: string, at: string): number {
  return Math.max(0, Math.round(optNum(o, key, at) ?? 0));
}

/** The model's context window from `/config/providers`; undefined when unknown (OpenCode says 0 then). */
function contextLimit(providers: unknown, providerId: string, modelId: string): number | undefined {
  const list = isObj(providers) && Array.isArray(providers.providers) ? providers.providers : [];
  const provider = list.find((p): p is Obj => isObj(p) && p.id === providerId);
  const models = provider && isObj(provider.models) ? Object.entries(provider.models) : [];
  const model = models.find(([key, m]) => key === modelId || (isObj(m) && m.id === modelId))?.[1];
  const limit = isObj(model) && isObj(model.limit) ? model.limit.context : undefined;
  return typeof limit === 'number' && Number.isSafeInteger(limit) && limit > 0 ? limit : undefined;
}

/**
 * A directory's version-control status from OpenCode's `/vcs` (`{branch, default_branch}`) and
 * `/vcs/status` (`VcsFileStatus`es). A malformed entry is left out (and reported to `skipped`);
 * beyond `VCS_FILES_MAX` files the rest are counted.
 */
export function toVcsStatus(directory: string, info: unknown, files: unknown, skipped: (err: unknown) => void = () => {}): VcsStatus {
  const about = isObj(info) ? info : {};
  const changed = (Array.isArray(files) ? files : []).flatMap((value, i): VcsFile[] => {
    const at = `vcs.status[${i}]`;
    try {
      const f = obj(value, at);
      return [{ path: str(f, 'file', at), status: oneOf(f, 'status', at, CHANGE_STATUSES), additions: count(f, 'additions', at), deletions: count(f, 'deletions', at) }];
    } catch (err) {
      skipped(err);
      return [];
    }
  });
  const name = (v: unknown) => (typeof v === 'string' && v.length > 0 ? v : undefined);
  return defined({
    directory,
    branch: name(about.branch),
    defaultBranch: name(about.default_branch),
    files: changed.slice(0, VCS_FILES_MAX),
    omitted: changed.length > VCS_FILES_MAX ? changed.length - VCS_FILES_MAX : undefined,
  });
}

function revertedTo(info: Obj, at: string): string | undefined {
  const revert = optRecord(info, 'revert', at);
  return revert && str(revert, 'messageID', `${at}.revert`);
}

/**
 * Listed sessions (the bridge's: OpenCode's sessions, each with its `relayStatus`) as summaries,
 * `waiting` when one of the session's permission requests waits. A malformed session is left out
 * (and reported to `skipped`) rather than hiding the others.
 */
export function toSessionSummaries(listed: readonly unknown[], waiting: ReadonlySet<string>, skipped: (err: unknown) => void = () => {}): SessionSummary[] {
  return listed.flatMap((session, i) => {
    try {
      const info = toSessionInfo(session, `sessions[${i}]`);
      const status = obj(session, `sessions[${i}]`).relayStatus;
      const state = status === undefined ? { status: 'idle' as const } : toSessionState(status, `sessions[${i}].relayStatus`);
      return [{ ...info, state, waiting: waiting.has(info.sessionId) }];
    } catch (err) {
      skipped(err);
      return [];
    }
  });
}

/** The longest error message a session summary carries (the whole one is in the transcript). */
const ENDED_MESSAGE_MAX = 1000;

/**
 * The end of a session for the list, from its newest messages (oldest first): the text of the
 * last one that has any, as a preview, and how its last turn ended when that was a stop or a
 * failure (an answer still being written, or a prompt not answered yet, ended nothing).
 */
export function toLastMessage(messages: unknown, skipped: (err: unknown) => void = () => {}): Pick<SessionSummary, 'preview' | 'ended'> {
  const { messages: list } = toTranscript('', messages, { status: 'idle' }, skipped);
  const texts = (m: (typeof list)[number]) => m.parts.flatMap((p) => (p.kind === 'text' && p.text.trim() ? [p.text] : []));
  const withText = list.findLast((m) => texts(m).length > 0);
  const last = list.at(-1);
  const ended = last?.role === 'assistant' ? last.error : undefined;
  return defined({
    preview: withText && toPreview(texts(withText).join(' ')),
    ended: ended && { ...ended, message: ended.message.slice(0, ENDED_MESSAGE_MAX) },
  });
}

/** OpenCode's permission request (its `permission.asked` event's properties, or an entry of its list). */
export function toPermissionAsked(value: unknown, at = 'permission'): PermissionAskedEvent {
  const p = obj(value, at);
  const tool = optRecord(p, 'tool', at);
  const metadata = optRecord(p, 'metadata', at) ?? {};
  return defined({
    type: 'permission.asked' as const,
    requestId: str(p, 'id', at),
    sessionId: str(p, 'sessionID', at),
    permission: str(p, 'permission', at),
    patterns: list(p, 'patterns', at, strItem()),
    always: p.always === undefined ? [] : list(p, 'always', at, strItem()),
    metadata,
    subject: toSubject(metadata),
    tool: tool && { messageId: str(tool, 'messageID', `${at}.tool`), callId: str(tool, 'callID', `${at}.tool`) },
  });
}

/** The question tool's questions from its arguments; undefined while they are not (all) there yet. */
function askedQuestions(input: Obj): QuestionInfo[] | undefined {
  if (input.questions === undefined) return undefined;
  try {
    return list(input, 'questions', 'input', parseQuestionInfo, QUESTION_LIMITS.questions);
  } catch (err) {
    // The model's arguments, not the runtime's shape: a malformed one leaves the card without them, not the part out.
    if (err instanceof ProtocolError) return undefined;
    throw err;
  }
}

/** OpenCode's question request (its `question.asked` event's properties, or an entry of its list). */
export function toQuestionAsked(value: unknown, at = 'question'): QuestionAskedEvent {
  const p = obj(value, at);
  const tool = optRecord(p, 'tool', at);
  return defined({
    type: 'question.asked' as const,
    requestId: str(p, 'id', at),
    sessionId: str(p, 'sessionID', at),
    questions: list(p, 'questions', at, parseQuestionInfo, QUESTION_LIMITS.questions),
    tool: tool && { messageId: str(tool, 'messageID', `${at}.tool`), callId: str(tool, 'callID', `${at}.tool`) },
  });
}

/**
 * A session's stored messages (`GET /session/{id}/message`: `{info, parts}` entries) as a
 * transcript. A malformed message or part is left out (and reported to `skipped`) rather than
 * hiding the rest of the session. The todo list is the last one the agent wrote.
 */
export function toTranscript(sessionId: string, messages: unknown, state: SessionState, skipped: (err: unknown) => void = () => {}): Transcript {
  const out: TranscriptMessage[] = [];
  let todos: TodoItem[] = [];
  const entries = Array.isArray(messages) ? messages : [];
  entries.forEach((entry, i) => {
    const at = `messages[${i}]`;
    try {
      const o = obj(entry, at);
      const info = toMessageInfo(obj(o.info, `${at}.info`), `${at}.info`);
      const parts = Array.isArray(o.parts) ? o.parts : [];
      const mapped = parts.flatMap((raw, j): Part[] => {
        try {
          const part = toPart(obj(raw, `${at}.parts[${j}]`), `${at}.parts[${j}]`);
          return part ? [part] : [];
        } catch (err) {
          skipped(err);
          return [];
        }
      });
      for (const part of mapped) if (part.kind === 'tool' && part.tool === TODO_TOOL) todos = todosOf(part.input) ?? todos;
      out.push({ ...info, parts: mapped });
    } catch (err) {
      skipped(err);
    }
  });
  return { sessionId, state, messages: out, todos };
}

function todosOf(input: Obj): TodoItem[] | undefined {
  try {
    return list(input, 'todos', 'todowrite.input', toTodo, 1000);
  } catch {
    return undefined; // a todo call still being written: the last complete list stands
  }
}

/**
 * The composer's options: the agents a person picks (primary, not hidden; subagents are the
 * agents' own tools), every configured provider's models with their variant names, and the
 * runtime's commands. An entry that cannot be read is left out (and told to `skipped`).
 */
export function toComposerOptions(raw: RuntimeChoices, skipped: (err: unknown) => void = () => {}): ComposerOptions {
  const each = <T>(items: unknown, at: string, map: (v: unknown, at: string) => T | undefined): T[] =>
    (Array.isArray(items) ? items : []).flatMap((v, i) => {
      try {
        const mapped = map(v, `${at}[${i}]`);
        return mapped === undefined ? [] : [mapped];
      } catch (err) {
        skipped(err);
        return [];
      }
    });
  const agents = each(raw.agents, 'agent', (v, at): AgentChoice | undefined => {
    const o = obj(v, at);
    if (o.mode === 'subagent' || o.hidden === true) return undefined;
    return defined({ name: str(o, 'name', at, { min: 1, max: 200 }), description: optStr(o, 'description', at) });
  });
  const commands = each(raw.commands, 'command', (v, at): CommandChoice => {
    const o = obj(v, at);
    const source = o.source === 'command' || o.source === 'mcp' || o.source === 'skill' ? o.source : undefined;
    return defined({ name: str(o, 'name', at, { min: 1, max: 200 }), description: optStr(o, 'description', at), source });
  });
  const providers = isObj(raw.providers) ? (raw.providers as Obj).providers : undefined;
  const models = each(providers, 'providers', (v, at) => {
    const p = obj(v, at);
    const providerId = str(p, 'id', at, { min: 1, max: 200 });
    const providerName = optStr(p, 'name', at) || providerId;
    return Object.entries(record(p, 'models', at)).flatMap(([key, m]): ModelChoice[] => {
      const mo = obj(m, `${at}.models.${key}`);
      const variants = isObj(mo.variants) ? Object.keys(mo.variants as Obj) : [];
      // OpenCode's capabilities say whether the model reads images; unknown (an older runtime) stays unsaid.
      const input = isObj(mo.capabilities) && isObj((mo.capabilities as Obj).input) ? ((mo.capabilities as Obj).input as Obj) : undefined;
      const images = typeof input?.image === 'boolean' ? input.image : undefined;
      return [defined({ providerId, providerName, modelId: optStr(mo, 'id', at) || key, name: optStr(mo, 'name', at) || key, variants, images })];
    });
  }).flat();
  const [providerId, ...rest] = typeof raw.model === 'string' ? raw.model.split('/') : [];
  const defaultModel = providerId && rest.length ? { providerId, modelId: rest.join('/') } : undefined;
  const named = typeof raw.defaultAgent === 'string' ? raw.defaultAgent : undefined;
  // The runtime's own default is its `build` agent unless the config names another.
  const defaultAgent = agents.find((a) => a.name === (named ?? 'build'))?.name ?? agents[0]?.name;
  return defined({ agents, defaultAgent, models, defaultModel, commands });
}
