/**
 * The session list as this phone has it for the computer in use: the cached copy first, then the
 * host's answer (cached in turn), kept current by runtime events. Says whether the list is live,
 * why it could not be fetched, and which workspaces the host could not list.
 * @module
 */
import { batch, createSignal, type Accessor } from 'solid-js';
import { defined } from '../../shared/protocol/guard.ts';
import type { RelayRuntimeEvent } from '../../shared/protocol/runtime-events.ts';
import type { UnavailableWorkspace } from '../../shared/protocol/sessions-list.ts';
import { explainRequest } from '../net/explain.ts';
import type { HostLink } from '../net/host-link.ts';
import { loadSessions, saveSessions, searchTranscripts } from '../storage/cache.ts';
import type { HostRecord, SessionRecord } from '../storage/db.ts';
import { createSessionsStore, inWorkspace, summaryFromHost, type SessionsStore, type SessionSummary } from './sessions.ts';
import type { WithDb } from './with-db.ts';

export interface SessionListDeps {
  withDb: WithDb;
  request: HostLink['request'];
  activeHost: () => HostRecord | undefined;
  activeId: () => string | undefined;
  /** The link's generation: an answer that arrives after a switch of computer is ignored. */
  generation: () => number;
  now: () => number;
}

export interface SessionList {
  readonly sessions: SessionsStore;
  /** True once the connected host answered `sessions.list` (the list is live, not cached). */
  readonly fresh: Accessor<boolean>;
  readonly error: Accessor<string>;
  /**
   * Workspaces whose sessions the host could not list in its last answer, with why; the sessions
   * this phone knew there stay listed as they were.
   */
  readonly unavailable: Accessor<readonly UnavailableWorkspace[]>;
  /** Asks the host for the list (its newest page). */
  refresh(): Promise<void>;
  /** True when the host said older sessions follow the ones listed. */
  readonly hasOlder: Accessor<boolean>;
  /** Adds the host's next page of older sessions to the list. */
  loadOlder(): Promise<void>;
  /**
   * Sessions whose title contains `text`, as the host finds them (not added to the list), and
   * those listed here whose transcript cached on this phone contains it. Rejects only when the
   * host could not be asked and nothing cached matches.
   */
  search(text: string): Promise<SessionSummary[]>;
  /** Shows the cached list of the computer in use (none when there is none). */
  loadCache(): Promise<void>;
  /** The link connected (the last connection's failure is forgotten: it asks again) or dropped (the list is no longer live). */
  linkChanged(connected: boolean): void;
  /** Forgets the previous computer's list state. */
  reset(): void;
  apply(event: RelayRuntimeEvent): void;
  /** The host's latest word on one session's status (sessions.ts `settle`). */
  settle(...args: Parameters<SessionsStore['settle']>): void;
  /** Makes a session on the host, keyed by `key`, and lists it; resolves with its id. */
  create(key: string): Promise<string>;
}

export function createSessionList(deps: SessionListDeps): SessionList {
  const { withDb, request, generation } = deps;
  const [sessionsFresh, setSessionsFresh] = createSignal(false);
  const [listError, setListError] = createSignal('');
  const [unavailable, setUnavailable] = createSignal<readonly UnavailableWorkspace[]>([]);
  /** Where the host's next page of older sessions starts. */
  const [next, setNext] = createSignal<string>();
  let loadingOlder: Promise<void> | undefined;
  const sessions = createSessionsStore(deps.now);
  let saveTimer: ReturnType<typeof setTimeout> | undefined;

  /**
   * One write for the changes of the next 300 ms. Not postponed by later changes: while an answer
   * streams they come faster than that, and an app closed mid-answer would lose a session made
   * seconds before (then missing from the list opened offline).
   */
  const persistSessionsSoon = () => {
    const host = deps.activeHost();
    if (!host || saveTimer !== undefined) return;
    saveTimer = setTimeout(() => {
      saveTimer = undefined;
      // The list is another computer's now: that one's cache is loaded, not overwritten.
      if (host.hostId !== deps.activeId()) return;
      const records: SessionRecord[] = sessions.list().map((s) => defined({ hostId: host.hostId, ...s }));
      void withDb((db) => saveSessions(db, host.hostId, records));
    }, 300);
  };

  return {
    sessions,
    fresh: sessionsFresh,
    error: listError,
    unavailable,

    async refresh() {
      const gen = generation();
      try {
        const listed = await request({ t: 'sessions.list' });
        if (gen !== generation()) return;
        batch(() => {
          // A workspace that did not answer this time keeps the sessions last known in it.
          sessions.replace(
            listed.sessions.map(summaryFromHost),
            (known) => known.directory !== undefined && listed.unavailable.some((u) => inWorkspace(known.directory!, u.workspace)),
          );
          setUnavailable(listed.unavailable);
          setNext(listed.next);
          setListError('');
          setSessionsFresh(true);
        });
        persistSessionsSoon();
      } catch (err) {
        if (gen === generation()) {
          setUnavailable([]);
          setListError(explainRequest(err));
        }
      }
    },

    hasOlder: () => next() !== undefined,

    loadOlder() {
      const cursor = next();
      if (cursor === undefined) return Promise.resolve();
      // Scrolling asks many times while a page is on its way: one request.
      loadingOlder ??= (async () => {
        const gen = generation();
        try {
          const listed = await request({ t: 'sessions.list', cursor });
          if (gen !== generation()) return;
          batch(() => {
            sessions.replace([...sessions.list(), ...listed.sessions.map(summaryFromHost)], () => true);
            setNext(listed.next);
          });
          persistSessionsSoon();
        } catch (err) {
          if (gen === generation()) setListError(explainRequest(err));
        } finally {
          loadingOlder = undefined;
        }
      })();
      return loadingOlder;
    },

    async search(text) {
      const host = deps.activeHost();
      const [listed, cached] = await Promise.allSettled([
        request({ t: 'sessions.list', search: text }),
        host ? withDb((db) => searchTranscripts(db, host.hostId, text)) : Promise.resolve([]),
      ]);
      const inCache = cached.status === 'fulfilled' ? (cached.value ?? []).flatMap((id) => sessions.get(id) ?? []) : [];
      if (listed.status === 'rejected') {
        if (inCache.length === 0) throw listed.reason;
        return inCache;
      }
      // A listed session always carries its state, so its summary has a status.
      const found = listed.value.sessions.filter((s) => s.parentId === undefined).map((s) => summaryFromHost(s) as SessionSummary);
      const ids = new Set(found.map((s) => s.sessionId));
      return [...found, ...inCache.filter((s) => !ids.has(s.sessionId))];
    },

    async loadCache() {
      const host = deps.activeHost();
      sessions.clear();
      if (!host) return;
      const cached = (await withDb((db) => loadSessions(db, host.hostId))) ?? [];
      if (host.hostId !== deps.activeId()) return;
      sessions.replace(cached.map(({ hostId: _h, ...s }) => s));
    },

    linkChanged(connected) {
      if (connected) setListError('');
      else setSessionsFresh(false);
    },

    reset() {
      setSessionsFresh(false);
      setNext(undefined);
      setListError('');
      setUnavailable([]);
    },

    apply(event) {
      if (sessions.apply(event)) persistSessionsSoon();
    },

    settle(sessionId, status, note) {
      if (sessions.settle(sessionId, status, note)) persistSessionsSoon();
    },

    async create(key) {
      const created = summaryFromHost(await request({ t: 'session.create', key }));
      sessions.replace([...sessions.list(), created]);
      persistSessionsSoon();
      return created.sessionId;
    },
  };
}
