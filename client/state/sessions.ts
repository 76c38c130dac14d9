/**
 * The session list of the computer in use: title, status and last activity per session, kept
 * current by runtime events and replaced wholesale by `sessions.list` answers. Sub-sessions
 * (an agent's own helpers) are kept but not listed.
 * @module
 */
import { batch } from 'solid-js';
import { createStore, reconcile } from 'solid-js/store';
import { mapRuntimeEvent, type RelayRuntimeEvent, type SessionUpdatedEvent } from '../../shared/protocol/runtime-events.ts';
import { describeFailure, type SessionStatus } from './timeline.ts';

export interface SessionSummary {
  sessionId: string;
  title: string;
  createdAt: number;
  /** Last activity (ms). */
  updatedAt: number;
  status: Exclude<SessionStatus, 'waiting'>;
  /** Why it failed. */
  note?: string;
  directory?: string;
  parentId?: string;
}

export interface SessionsStore {
  /** Top-level sessions, most recently active first. */
  list(): SessionSummary[];
  get(sessionId: string): SessionSummary | undefined;
  /** Replaces everything (a cached copy, or the host's answer, which keeps known statuses). */
  replace(sessions: SessionSummary[]): void;
  /** Applies an event; true when it changed something worth saving. */
  apply(event: RelayRuntimeEvent): boolean;
  clear(): void;
}

/** `sessions.list` / `session.create` answers (raw OpenCode sessions) → summaries; malformed ones are skipped. */
export function summariesFromHost(raw: unknown): SessionSummary[] {
  const list = Array.isArray(raw) ? raw : [raw];
  return list.flatMap((info) => {
    try {
      return mapRuntimeEvent({ type: 'session.updated', properties: { info } }).flatMap((e) => (e.type === 'session.updated' ? [fromEvent(e)] : []));
    } catch {
      return [];
    }
  });
}

function fromEvent(e: SessionUpdatedEvent, known?: SessionSummary): SessionSummary {
  return {
    sessionId: e.sessionId,
    title: e.title,
    createdAt: e.time.created,
    updatedAt: Math.max(e.time.updated, known?.updatedAt ?? 0),
    status: known?.status ?? 'idle',
    ...(known?.note ? { note: known.note } : {}),
    ...(e.directory !== undefined ? { directory: e.directory } : {}),
    ...(e.parentId !== undefined ? { parentId: e.parentId } : {}),
  };
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
    replace(sessions) {
      batch(() => {
        const next: Record<string, SessionSummary> = {};
        for (const s of sessions) {
          const known = state.byId[s.sessionId];
          next[s.sessionId] = known && s.status === 'idle' && !s.note ? { ...s, status: known.status, ...(known.note ? { note: known.note } : {}) } : s;
        }
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
          return patch(e.sessionId, e.status === 'idle' ? { status: 'idle', note: undefined } : { status: 'running', note: undefined });
        case 'session.idle':
          return state.byId[e.sessionId]?.status === 'failed' ? false : patch(e.sessionId, { status: 'idle' });
        case 'session.error':
          if (!e.sessionId) return false;
          if (e.name === 'MessageAbortedError') return patch(e.sessionId, { status: 'idle', note: undefined });
          return patch(e.sessionId, { status: 'failed', note: describeFailure(e.name, e.message) });
        default:
          return false;
      }
    },
    clear: () => setState('byId', reconcile({})),
  };
}
