/**
 * The timelines of the sessions opened on the computer in use, and their message cache: a
 * timeline shows the cached messages first, then the host's (cached in turn), and follows the
 * runtime events of its session.
 * @module
 */
import { createStore } from 'solid-js/store';
import type { PermissionAskedEvent, RelayRuntimeEvent } from '../../shared/protocol/runtime-events.ts';
import type { Transcript } from '../../shared/protocol/transcript.ts';
import { explainRequest } from '../net/explain.ts';
import type { HostLink } from '../net/host-link.ts';
import { loadTranscript, loadTranscriptTail, saveTranscript, saveTranscriptTail } from '../storage/cache.ts';
import { afterNextPaint } from './frame.ts';
import type { HostRecord } from '../storage/db.ts';
import { createTimeline, type SessionStatus, type Timeline } from './timeline.ts';
import type { WithDb } from './with-db.ts';

/** Messages asked for first: a few screenfuls, little enough to arrive and show at once. */
const FIRST_PAGE = 40;
/** Messages per page of the earlier ones (the host sends fewer when they would be too large). */
const PAGE = 400;

export interface SessionLoad {
  loading: boolean;
  /** The host's newest messages have been shown (since the timeline was opened). */
  fetched?: boolean;
  /** Why the latest messages could not be fetched (cached ones may still show). */
  error?: string;
}

export interface TimelinesDeps {
  withDb: WithDb;
  /** The host's answer for a session was applied: its status and note as its timeline now says. */
  onSettled?(sessionId: string, status: Exclude<SessionStatus, 'waiting'>, note: string): void;
  request: HostLink['request'];
  activeHost: () => HostRecord | undefined;
  /** Whether the link is connected (messages are fetched only then). */
  connected: () => boolean;
  /** The link's generation: an answer that arrives after a switch of computer is ignored. */
  generation: () => number;
}

export interface Timelines {
  /** The session's timeline, made (and loaded) on first use. */
  timeline(sessionId: string): Timeline;
  /** The session's timeline if it is open. */
  get(sessionId: string): Timeline | undefined;
  load(sessionId: string): SessionLoad;
  apply(event: RelayRuntimeEvent): void;
  /** Fetches the latest messages of the open timelines (of those named, when names are given). */
  reload(sessionIds?: readonly string[]): Promise<unknown>;
  /** Whether the latest fetch of an open timeline failed. */
  failed(): boolean;
  /** Fetches the final state of a session whose turn ended, if it is open. */
  refetch(sessionId: string): void;
  /** Shows the diff a permission request carries on its tool call. */
  attachDiff(request: PermissionAskedEvent): void;
  /** Closes every timeline (another computer is in use). */
  reset(): void;
}

export function createTimelines(deps: TimelinesDeps): Timelines {
  const { withDb, generation } = deps;
  const [loads, setLoads] = createStore<Record<string, SessionLoad>>({});
  let timelines = new Map<string, Timeline>();
  /** Timelines that have had the host's answer: a cached copy read later is older. */
  const fetched = new WeakSet<Timeline>();
  /** Each timeline's whole transcript as last fetched: a later fetch asks only for what is new. */
  const wholes = new WeakMap<Timeline, Transcript>();

  /**
   * Applies the host's answer: its newest messages first (shown at once), then the earlier ones a
   * page at a time, each after the last is painted; messages fetched before are not asked again.
   * False when there is none (not connected, or the request failed).
   */
  const fetchMessages = async (timeline: Timeline, gen: number): Promise<boolean> => {
    const host = deps.activeHost();
    if (!host || !deps.connected()) return false;
    const sessionId = timeline.sessionId;
    setLoads(sessionId, { loading: true, error: undefined });
    try {
      const newest = await deps.request({ t: 'session.messages', sessionId, limit: FIRST_PAGE });
      if (gen !== generation()) return false;
      fetched.add(timeline);
      timeline.applySnapshot(newest);
      deps.onSettled?.(sessionId, timeline.status(), timeline.statusNote());
      setLoads(sessionId, { loading: false, fetched: true });
      // The newest messages are what a later open paints first: keep them even if the rest never comes.
      const { more: _newestMore, ...newestCopy } = newest;
      afterNextPaint(() => void withDb((db) => saveTranscriptTail(db, host.hostId, newestCopy)));
      let whole = newest;
      const known = wholes.get(timeline);
      const overlap = newest.more ? (known?.messages.findIndex((m) => m.messageId === newest.messages[0]?.messageId) ?? -1) : -1;
      if (known && overlap >= 0) whole = { ...newest, messages: [...known.messages.slice(0, overlap), ...newest.messages], more: known.more };
      while (whole.more && whole.messages.length) {
        await new Promise<void>(afterNextPaint);
        const page = await deps.request({ t: 'session.messages', sessionId, limit: PAGE, before: whole.messages[0]!.messageId });
        if (gen !== generation()) return true;
        timeline.applyEarlier(page);
        whole = { ...whole, messages: [...page.messages, ...whole.messages], more: page.more === true };
      }
      const { more: _more, ...complete } = whole;
      wholes.set(timeline, complete);
      // Storing copies the whole transcript on the page's thread: not before it is painted.
      afterNextPaint(() => void withDb((db) => saveTranscript(db, host.hostId, complete)));
      return true;
    } catch (err) {
      if (gen === generation()) setLoads(timeline.sessionId, { loading: false, error: explainRequest(err) });
      return false;
    }
  };

  return {
    timeline(sessionId) {
      let timeline = timelines.get(sessionId);
      if (timeline) return timeline;
      timeline = createTimeline(sessionId);
      timelines.set(sessionId, timeline);
      const t = timeline;
      const gen = generation();
      const host = deps.activeHost();
      setLoads(sessionId, { loading: true });
      void (async () => {
        // The cached tail first, painted at once; the whole copy only when the host cannot send
        // its own, since reading megabytes of it would hold the page for as long as the host's answer.
        const tail = host ? await withDb((db) => loadTranscriptTail(db, host.hostId, sessionId)) : undefined;
        if (gen !== generation()) return;
        if (tail) t.applySnapshot(tail);
        setLoads(sessionId, { loading: false });
        if (await fetchMessages(t, gen)) return;
        if (!host) return;
        await new Promise<void>(afterNextPaint);
        const cached = await withDb((db) => loadTranscript(db, host.hostId, sessionId));
        // Fetched meanwhile (the link came back): the host's copy is newer.
        if (gen === generation() && cached && !fetched.has(t)) t.applySnapshot(cached);
      })();
      return timeline;
    },

    get: (sessionId) => timelines.get(sessionId),
    load: (sessionId) => loads[sessionId] ?? { loading: false },

    apply(event) {
      if ('sessionId' in event && event.sessionId) timelines.get(event.sessionId)?.apply(event);
    },

    reload(sessionIds) {
      const gen = generation();
      const open = [...timelines.values()].filter((t) => !sessionIds || sessionIds.includes(t.sessionId));
      return Promise.all(open.map((t) => fetchMessages(t, gen)));
    },

    failed: () => [...timelines.values()].some((t) => loads[t.sessionId]?.error),

    refetch(sessionId) {
      const timeline = timelines.get(sessionId);
      if (timeline) void fetchMessages(timeline, generation());
    },

    attachDiff(p) {
      const diff = p.subject?.diff;
      if (p.tool && diff !== undefined) timelines.get(p.sessionId)?.attachDiff(p.tool.callId, diff);
    },

    reset() {
      timelines = new Map();
    },
  };
}
