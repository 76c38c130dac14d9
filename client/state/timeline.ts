/**
 * One session as the phone shows it: its parts in order (text, reasoning, tool calls, notices),
 * its todo list and its status. Built from the events the host relays and from the
 * `session.messages` transcript, whose messages and parts are applied as the same events, so both
 * paths meet in one `apply`.
 *
 * Streaming is cheap by construction: a delta changes one text signal and nothing else, so only
 * the view of that part reacts; the list of items changes only when a part appears. Deltas reach
 * that signal once per frame (frame.ts): a reconnect's replay of a hundred deltas renders once.
 * @module
 */
import { batch, createSignal, type Accessor } from 'solid-js';
import { createStore, reconcile } from 'solid-js/store';
import type { RelayRuntimeEvent } from '../../shared/protocol/runtime-events.ts';
import type { Interruption, Part, RunError, TodoItem, ToolStatus, ToolSubject, Transcript } from '../../shared/protocol/transcript.ts';
import type { QuestionAnswers, QuestionInfo } from '../../shared/protocol/questions.ts';
import { beforeQuietPaint, type Schedule } from './frame.ts';

export type Role = 'user' | 'assistant';
/** interrupted: its last turn was cut short by a restart and will not finish (the session is idle). */
export type SessionStatus = 'running' | 'waiting' | 'idle' | 'failed' | 'interrupted';

interface ItemBase {
  /** Unique within the session; the part id for parts. */
  readonly key: string;
  readonly messageId: string;
}

export interface TextItem extends ItemBase {
  readonly kind: 'text' | 'reasoning';
  readonly role: Accessor<Role>;
  readonly text: Accessor<string>;
  readonly done: Accessor<boolean>;
}

export interface ToolView {
  tool: string;
  callId: string;
  status: ToolStatus;
  input: Record<string, unknown>;
  subject?: ToolSubject;
  title?: string;
  output?: string;
  error?: string;
  /** The error is a refusal of the permission it needed: by the person or a rule, or the host's timeout. */
  denied?: 'refused' | 'timeout';
  /** A unified diff of the file this call changed, when the runtime gave one. */
  diff?: string;
  /** The `question` tool's questions and the answers given, one list per question. */
  questions?: QuestionInfo[];
  answers?: QuestionAnswers;
}

export interface ToolItem extends ItemBase {
  readonly kind: 'tool';
  readonly state: ToolView;
}

export interface NoticeItem extends ItemBase {
  readonly kind: 'notice';
  readonly tone: 'info' | 'error';
  readonly text: string;
  /** A turn cut short: the id of its prompt, which Retry sends again. */
  readonly retry?: string;
}

/** A file sent with a prompt (an attachment): its name, type and size; its bytes stay on the computer. */
export interface FileItem extends ItemBase {
  readonly kind: 'file';
  readonly name: string;
  readonly mime: string;
  readonly size?: number;
}

export type TimelineItem = TextItem | ToolItem | NoticeItem | FileItem;

export interface Timeline {
  readonly sessionId: string;
  /** In conversation order (message id, then part id: OpenCode's ids sort by creation). */
  readonly items: Accessor<readonly TimelineItem[]>;
  readonly todos: Accessor<readonly TodoItem[]>;
  /** From the runtime alone; "waiting" (for an approval) is added by whoever knows the requests. */
  readonly status: Accessor<Exclude<SessionStatus, 'waiting'>>;
  /** Why the session failed, or that it is retrying; empty otherwise. */
  readonly statusNote: Accessor<string>;
  /** Whether a snapshot has been applied (from the host or the cache). */
  readonly loaded: Accessor<boolean>;
  apply(event: RelayRuntimeEvent): void;
  /** Applies a `session.messages` answer (or the cached copy of one). */
  applySnapshot(transcript: Transcript): void;
  /** Adds a page of earlier messages (`session.messages` with `before`); the session's state stays the newest page's. */
  applyEarlier(transcript: Transcript): void;
  /** Attaches a diff (e.g. from a permission request) to the tool call that made it. */
  attachDiff(callId: string, diff: string): void;
  /** The text of a prompt (a user message) as shown; empty when it is not shown. */
  promptText(messageId: string): string;
}

export interface TimelineOptions {
  /** When text grown by deltas is shown (default: before the next paint that shows no key press, frame.ts). */
  schedule?: Schedule;
}

interface TextEntry {
  item: TextItem;
  /** The part's text as of the last event; `item.text` catches up with it when shown. */
  value: string;
  setText(v: string): void;
  setDone(v: boolean): void;
  setRole(v: Role): void;
}

function sortKey(item: TimelineItem): string {
  // '~' sorts after the runtime's part ids ("prt_…"), so a message's notice follows its parts.
  return `${item.messageId}\u0000${item.kind === 'notice' ? '~' : ''}${item.key}`;
}

export function describeFailure({ kind, name, message }: RunError): string {
  if (kind === 'provider-auth') return `No working model provider on your computer: ${message || 'sign in to one with opencode auth login'}`;
  if (kind === 'provider') return `The model provider answered with an error: ${message}`;
  return message ? `${message} (${name})` : name;
}

/** What a turn cut short says; starts with "Interrupted". */
export function describeInterruption({ reason, detail }: Pick<Interruption, 'reason' | 'detail'>): string {
  if (reason === 'host-restarted') return 'Interrupted: the host on your computer stopped while this task ran, so it did not finish.';
  if (reason === 'runtime-restarted') return `Interrupted: the coding runtime stopped${detail ? ` (${detail})` : ''} while this task ran, so it did not finish.`;
  return 'Interrupted: the coding runtime no longer runs this task, so it did not finish.';
}

/** What a session retrying its model call says (the runtime's `retry` state). */
export function describeRetry(attempt: number | undefined, message: string | undefined): string {
  return `Retrying (attempt ${attempt ?? '?'}): ${message ?? ''}`;
}

/** The newest prompt (user message) a transcript holds. */
function lastPrompt(transcript: Transcript): string | undefined {
  return transcript.messages.findLast((m) => m.role === 'user')?.messageId;
}

export function createTimeline(sessionId: string, opts: TimelineOptions = {}): Timeline {
  const schedule = opts.schedule ?? beforeQuietPaint;
  const [items, setItems] = createSignal<readonly TimelineItem[]>([]);
  const [todos, setTodos] = createSignal<readonly TodoItem[]>([]);
  const [status, setStatus] = createSignal<Exclude<SessionStatus, 'waiting'>>('idle');
  const [statusNote, setStatusNote] = createSignal('');
  const [loaded, setLoaded] = createSignal(false);
  const texts = new Map<string, TextEntry>();
  /** The text parts of each message, so a message's role reaches its parts without a scan of all. */
  const textsOf = new Map<string, TextEntry[]>();
  const tools = new Map<string, { item: ToolItem; set: (v: ToolView) => void }>();
  const byCall = new Map<string, string>();
  const notices = new Set<string>();
  const files = new Set<string>();
  const roles = new Map<string, Role>();
  const diffs = new Map<string, string>();
  /** Items made while applying a snapshot, inserted in one go. */
  let pending: TimelineItem[] | undefined;
  /** Parts whose text grew since it was last shown. */
  const grown = new Set<TextEntry>();
  let showing = false;

  const showGrown = () => {
    showing = false;
    batch(() => {
      for (const entry of grown) entry.setText(entry.value);
      grown.clear();
    });
  };

  const grow = (entry: TextEntry, delta: string) => {
    entry.value += delta;
    grown.add(entry);
    if (!showing) {
      showing = true;
      schedule(showGrown);
    }
  };

  const replaceText = (entry: TextEntry, text: string) => {
    entry.value = text;
    grown.delete(entry);
    entry.setText(text);
  };

  const insert = (item: TimelineItem) => {
    if (pending) {
      pending.push(item);
      return;
    }
    const list = items();
    const key = sortKey(item);
    // Nearly always the newest part: check the end first.
    let at = list.length;
    while (at > 0 && sortKey(list[at - 1]!) > key) at--;
    setItems([...list.slice(0, at), item, ...list.slice(at)]);
  };

  const textEntry = (kind: 'text' | 'reasoning', messageId: string, partId: string): TextEntry => {
    let entry = texts.get(partId);
    if (entry) return entry;
    const [text, setText] = createSignal('');
    const [done, setDone] = createSignal(false);
    const [role, setRole] = createSignal<Role>(roles.get(messageId) ?? 'assistant');
    entry = { item: { kind, key: partId, messageId, text, done, role }, value: '', setText, setDone, setRole };
    texts.set(partId, entry);
    const ofMessage = textsOf.get(messageId);
    if (ofMessage) ofMessage.push(entry);
    else textsOf.set(messageId, [entry]);
    insert(entry.item);
    return entry;
  };

  const notice = (messageId: string, tone: NoticeItem['tone'], text: string, retry?: string) => {
    const key = `${messageId}:notice`;
    if (notices.has(key)) return;
    notices.add(key);
    insert({ kind: 'notice', key, messageId, tone, text, ...(retry ? { retry } : {}) });
  };

  /** A turn cut short, shown after what it had written so far: its reply if it began one, else its prompt. */
  /** The prompt of the turn an interruption event cut, while the session reads interrupted. */
  let cutPrompt: string | undefined;
  const cutNotice = (i: Interruption) => notice(i.replyId ?? i.messageId, 'error', describeInterruption(i), i.messageId);

  const apply = (e: RelayRuntimeEvent) => {
    if ('sessionId' in e && e.sessionId !== sessionId) return;
    switch (e.type) {
      case 'message.updated': {
        roles.set(e.messageId, e.role);
        for (const entry of textsOf.get(e.messageId) ?? []) entry.setRole(e.role);
        if (e.error) {
          if (e.error.kind === 'aborted') notice(e.messageId, 'info', 'Stopped.');
          else notice(e.messageId, 'error', describeFailure(e.error));
        }
        return;
      }
      case 'message.text.delta':
      case 'message.reasoning.delta': {
        const entry = textEntry(e.type === 'message.text.delta' ? 'text' : 'reasoning', e.messageId, e.partId);
        grow(entry, e.delta);
        return;
      }
      case 'message.text.updated':
      case 'message.reasoning.updated': {
        const entry = textEntry(e.type === 'message.text.updated' ? 'text' : 'reasoning', e.messageId, e.partId);
        // A snapshot may be older than the deltas that already arrived: never step back.
        if (e.done || !entry.value.startsWith(e.text)) replaceText(entry, e.text);
        if (e.done) entry.setDone(true);
        return;
      }
      case 'tool.updated': {
        const view: ToolView = {
          tool: e.tool,
          callId: e.callId,
          status: e.status,
          input: e.input,
          ...(e.subject !== undefined ? { subject: e.subject } : {}),
          ...(e.title !== undefined ? { title: e.title } : {}),
          ...(e.output !== undefined ? { output: e.output } : {}),
          ...(e.error !== undefined ? { error: e.error } : {}),
          ...(e.denied ? { denied: e.denied } : {}),
          ...(e.questions !== undefined ? { questions: e.questions } : {}),
          ...(e.answers !== undefined ? { answers: e.answers } : {}),
          ...(diffs.has(e.callId) ? { diff: diffs.get(e.callId) } : {}),
        };
        const known = tools.get(e.partId);
        if (known) {
          known.set(view);
          return;
        }
        const [state, setState] = createStore<ToolView>(view);
        const item: ToolItem = { kind: 'tool', key: e.partId, messageId: e.messageId, state };
        tools.set(e.partId, { item, set: (v) => setState(reconcile(v)) });
        byCall.set(e.callId, e.partId);
        insert(item);
        return;
      }
      case 'message.file.updated':
        if (files.has(e.partId)) return;
        files.add(e.partId);
        insert({ kind: 'file', key: e.partId, messageId: e.messageId, name: e.filename ?? e.mime, mime: e.mime, ...(e.size !== undefined ? { size: e.size } : {}) });
        return;
      case 'file.edited':
        if (e.source === 'tool' && e.callId && e.diff) attachDiff(e.callId, e.diff);
        return;
      case 'todo.updated':
        setTodos(e.items);
        return;
      case 'session.status':
        if (e.status === 'idle') {
          // Interrupted is idle too, with more to say: only a new turn ends it.
          if (status() !== 'interrupted') setStatus('idle');
          setStatusNote('');
        } else {
          setStatus('running');
          setStatusNote(e.status === 'retry' ? describeRetry(e.attempt, e.message) : '');
        }
        return;
      case 'session.idle':
        if (status() !== 'failed' && status() !== 'interrupted') setStatus('idle');
        if (status() === 'idle') setStatusNote('');
        return;
      case 'session.interrupted':
        cutNotice(e);
        cutPrompt = e.messageId;
        setStatus('interrupted');
        setStatusNote('');
        return;
      case 'session.error':
        if (e.kind === 'aborted') {
          setStatus('idle');
          return;
        }
        setStatus('failed');
        setStatusNote(describeFailure(e));
        return;
      default:
        return;
    }
  };

  const attachDiff = (callId: string, diff: string) => {
    diffs.set(callId, diff);
    const partId = byCall.get(callId);
    const tool = partId && tools.get(partId);
    if (tool) tool.set({ ...tool.item.state, diff });
  };

  return {
    sessionId,
    items,
    todos,
    status,
    statusNote,
    loaded,
    apply: (e) => batch(() => apply(e)),
    attachDiff,
    promptText: (messageId) =>
      items()
        .flatMap((i) => (i.kind === 'text' && i.messageId === messageId && i.role() === 'user' ? [i.text()] : []))
        .join('\n')
        .trim(),
    applyEarlier(transcript) {
      batch(() => addMessages(transcript.messages));
    },
    applySnapshot(transcript) {
      batch(() => {
        addMessages(transcript.messages, () => {
          for (const cut of transcript.interruptions ?? []) cutNotice(cut);
          if (transcript.interrupted && transcript.state.status === 'idle') apply({ type: 'session.interrupted', sessionId, ...transcript.interrupted });
        });
        if (transcript.todos.length) setTodos(transcript.todos);
        const last = transcript.messages.at(-1);
        // The host's answer says whether the turn is over; a failed last reply says how it ended.
        // (A turn cut short set its own status above.)
        if (transcript.state.status !== 'idle') apply({ type: 'session.status', sessionId, ...transcript.state });
        else if (transcript.interrupted) setStatusNote('');
        else if (last?.role === 'assistant' && last.error && last.error.kind !== 'aborted') setStatus('failed');
        // An answer made before the host recorded the interruption its event told leaves it
        // standing while nothing was prompted since the cut turn.
        else if (last && !(status() === 'interrupted' && lastPrompt(transcript) === cutPrompt)) setStatus('idle');
        setLoaded(true);
      });
    },
  };

  /** Applies messages (and `then`) as events, and inserts the items they make in one go. */
  function addMessages(messages: Transcript['messages'], then?: () => void): void {
    pending = [];
    for (const m of messages) {
      const { parts, ...info } = m;
      apply({ type: 'message.updated', sessionId, ...info });
      for (const part of parts) applyPart(m.messageId, part);
    }
    then?.();
    const made = pending;
    pending = undefined;
    if (!made.length) return;
    // Keys made once per item, not once per comparison: a snapshot can hold thousands of parts.
    const keyed = [...items(), ...made].map((item) => ({ item, key: sortKey(item) }));
    setItems(keyed.sort((a, b) => (a.key < b.key ? -1 : 1)).map((k) => k.item));
  }

  /** A transcript part, applied as the event that would have carried it. */
  function applyPart(messageId: string, part: Part): void {
    const ref = { sessionId, messageId, partId: part.partId };
    if (part.kind === 'text' || part.kind === 'reasoning') {
      apply({ type: part.kind === 'text' ? 'message.text.updated' : 'message.reasoning.updated', ...ref, text: part.text, done: part.done });
    } else if (part.kind === 'tool') {
      const { kind: _k, partId: _p, diff, ...tool } = part;
      if (diff) attachDiff(tool.callId, diff);
      apply({ type: 'tool.updated', ...ref, ...tool });
    } else if (part.kind === 'file') {
      const { kind: _k, partId: _p, ...file } = part;
      apply({ type: 'message.file.updated', ...ref, ...file });
    }
    // Step and patch parts are carried for features to come; the timeline does not show them yet.
  }
}
