/**
 * The session list of the computer in use: title, status and last activity per session, kept
 * current by relayed events and replaced wholesale by `sessions.list` answers, whose `state`
 * (the runtime's live state of each session, as the host read it) is the truth: a task already
 * running when the app opens shows as running before any event. Sub-sessions (an agent's own
 * helpers) are kept but not listed at the top: each is found from its parent (`children`).
 * @module
 */
import { batch } from 'solid-js';
import { createStore, reconcile } from 'solid-js/store';
import type { RelayRuntimeEvent, SessionUpdatedEvent } from '../../shared/protocol/runtime-events.ts';
import { toPreview, type SessionInfo, type SessionSummary as ListedSession } from '../../shared/protocol/sessions-list.ts';
import type { SessionState } from '../../shared/protocol/transcript.ts';
import { describeFailure, describeRetry, type SessionStatus } from './timeline.ts';

export interface SessionSummary {
  sessionId: string;
  title: string;
  createdAt: number;
  /** Last activity (ms). */
  updatedAt: number;
  status: Exclude<SessionStatus, 'waiting'>;
  /** Why it failed, or why it is retrying. */
  note?: string;
  directory?: string;
  parentId?: string;
  /** Set while the session is reverted: the message it was reverted to before. */
  revertedTo?: string;
  /** Its last message's text, on one line (sessions-list.ts `toPreview`). */
  preview?: string;
  /** A person stopped its last turn (with `status` idle). */
  stopped?: true;
}

/** A session as the host listed it: without `status` when the host did not say (`session.create`, an older host). */
export type HostSessionSummary = Omit<SessionSummary, 'status'> & Partial<Pick<SessionSummary, 'status'>>;

export interface SessionsStore {
  /** Top-level sessions, most recently active first. */
  list(): SessionSummary[];
  get(sessionId: string): SessionSummary | undefined;
  /** The sub-sessions (a task's sub-agents) of `parentId` this phone knows, oldest first. */
  children(parentId: string): SessionSummary[];
  /**
   * Replaces everything (a cached copy, or the host's answer). A status given is the truth, except
   * that `idle` leaves a known failure alone until the session was active again; a session
   * without one keeps its known status. A known session left out stays when `keep` says so.
   */
  replace(sessions: Array<SessionSummary | HostSessionSummary>, keep?: (known: SessionSummary) => boolean): void;
  /** Applies an event; true when it changed something worth saving. */
  apply(event: RelayRuntimeEvent): boolean;
  /**
   * The host's latest word on one session (its transcript, as the timeline read it): its status
   * from now on, so the list and the session's screen say the same. True when it changed.
   */
  settle(sessionId: string, status: SessionSummary['status'], note: string): boolean;
  clear(): void;
}

/** Whether `directory` is `workspace` or inside it; the host's paths may use either separator. */
export function inWorkspace(directory: string, workspace: string): boolean {
  const base = workspace.replace(/[\\/]+$/, '');
  return directory.startsWith(base) && (directory.length === base.length || directory[base.length] === '/' || directory[base.length] === '\\');
}

/** A workspace as a person names it: its last path segment. */
export function workspaceName(workspace: string): string {
  return workspace.split(/[\\/]/).filter(Boolean).at(-1) ?? workspace;
}

/** A session as the host listed it (with its state) or made it (without: `session.create`). */
export function summaryFromHost(s: ListedSession | SessionInfo): HostSessionSummary {
  const { sessionId, title, createdAt, updatedAt, directory, parentId, revertedTo } = s;
  const summary: HostSessionSummary = {
    sessionId,
    title,
    createdAt,
    updatedAt,
    ...(directory !== undefined ? { directory } : {}),
    ...(parentId !== undefined ? { parentId } : {}),
    ...(revertedTo !== undefined ? { revertedTo } : {}),
  };
  if (!('state' in s)) return summary;
  if (s.preview) summary.preview = s.preview;
  // A turn cut short is the state of an idle session until it runs again.
  if (s.interrupted && s.state.status === 'idle') return { ...summary, status: 'interrupted' };
  // How the last turn ended, which the runtime's idle state no longer tells.
  if (s.ended && s.state.status === 'idle') {
    return s.ended.kind === 'aborted' ? { ...summary, status: 'idle', stopped: true } : { ...summary, status: 'failed', note: describeFailure(s.ended) };
  }
  return withoutEmptyNote({ ...summary, ...statusOf(s.state) });
}

/** A runtime state as the list shows it: a retry is still running, with a note saying why. */
function statusOf(state: SessionState): Pick<SessionSummary, 'status' | 'note'> {
  if (state.status === 'idle') return { status: 'idle', note: undefined };
  return { status: 'running', note: state.status === 'retry' ? describeRetry(state.attempt, state.message) : undefined };
}

function fromEvent(e: SessionUpdatedEvent, known?: SessionSummary): SessionSummary {
  return {
    sessionId: e.sessionId,
    title: e.title,
    createdAt: e.createdAt,
    updatedAt: Math.max(e.updatedAt, known?.updatedAt ?? 0),
    status: known?.status ?? 'idle',
    ...(known?.note ? { note: known.note } : {}),
    ...(e.directory !== undefined ? { directory: e.directory } : {}),
    ...(e.parentId !== undefined ? { parentId: e.parentId } : {}),
    // Always set: the store merges, and an unreverted session's event no longer names one.
    revertedTo: e.revertedTo,
  };
}

/** The stored form: no `note: undefined` left behind. */
function withoutEmptyNote(s: SessionSummary): SessionSummary {
  const { note, ...rest } = s;
  return note ? { ...rest, note } : rest;
}

/** What the list shows for `s` given what the store knew of it (see `replace`). */
function merged(s: SessionSummary | HostSessionSummary, known: SessionSummary | undefined): SessionSummary {
  if (!known) return withoutEmptyNote({ ...s, status: s.status ?? 'idle' });
  if (!s.status) return withoutEmptyNote({ ...s, status: known.status, note: known.note });
  // The runtime forgets a failure once idle; it still stands while nothing happened since. So does
  // an interruption told by its event, when the list was made before the host recorded it.
  if (s.status === 'idle' && (known.status === 'failed' || known.status === 'interrupted') && s.updatedAt <= known.updatedAt) {
    return withoutEmptyNote({ ...s, status: known.status, note: known.note, updatedAt: known.updatedAt });
  }
  return withoutEmptyNote({ ...s, status: s.status });
}

export function createSessionsStore(now: () => number = Date.now): SessionsStore {
  const [state, setState] = createStore<{ byId: Record<string, SessionSummary> }>({ byId: {} });

  const patch = (id: string, change: Partial<SessionSummary>): boolean => {
    if (!state.byId[id]) return false;
    setState('byId', id, { ...change, updatedAt: Math.max(state.byId[id]!.updatedAt, now()) });
    return true;
  };

  return {
    list: () =>
      Object.values(state.byId)
        .filter((s) => !s.parentId)
        .sort((a, b) => b.updatedAt - a.updatedAt),
    get: (id) => state.byId[id],
    children: (parentId) =>
      Object.values(state.byId)
        .filter((s) => s.parentId === parentId)
        .sort((a, b) => a.createdAt - b.createdAt),
    replace(sessions, keep) {
      batch(() => {
        const next: Record<string, SessionSummary> = {};
        if (keep) for (const s of Object.values(state.byId)) if (keep(s)) next[s.sessionId] = { ...s };
        for (const s of sessions) next[s.sessionId] = merged(s, state.byId[s.sessionId]);
        setState('byId', reconcile(next));
      });
    },
    apply(e) {
      switch (e.type) {
        case 'session.updated':
          setState('byId', e.sessionId, fromEvent(e, state.byId[e.sessionId]));
          return true;
        case 'session.deleted':
          if (!state.byId[e.sessionId]) return false;
          setState('byId', e.sessionId, undefined!);
          return true;
        case 'session.status':
          // Interrupted is idle too, with more to say: only a new turn ends it.
          if (e.status === 'idle' && state.byId[e.sessionId]?.status === 'interrupted') return false;
          // Running again: whatever stopped the last turn is over.
          return patch(e.sessionId, e.status === 'idle' ? statusOf(e) : { ...statusOf(e), stopped: undefined });
        case 'session.idle':
          return ['failed', 'interrupted'].includes(state.byId[e.sessionId]?.status ?? '') ? false : patch(e.sessionId, { status: 'idle' });
        case 'session.interrupted':
          return patch(e.sessionId, { status: 'interrupted', note: undefined });
        case 'session.error':
          if (!e.sessionId) return false;
          if (e.kind === 'aborted') return patch(e.sessionId, { status: 'idle', note: undefined, stopped: true });
          return patch(e.sessionId, { status: 'failed', note: describeFailure(e) });
        case 'message.updated':
          // The stopped reply says so itself (the runtime's session.error may name no session).
          return e.error?.kind === 'aborted' ? patch(e.sessionId, { stopped: true }) : false;
        case 'message.text.updated':
          return e.done && e.text.trim() !== '' ? patch(e.sessionId, { preview: toPreview(e.text) }) : false;
        default:
          return false;
      }
    },
    settle(sessionId, status, note) {
      const known = state.byId[sessionId];
      if (!known || (known.status === status && (known.note ?? '') === note)) return false;
      setState('byId', sessionId, { status, note: note || undefined, ...(status === 'idle' ? {} : { stopped: undefined }) });
      return true;
    },
    clear: () => setState('byId', reconcile({})),
  };
}
