/**
 * The timelines of the sessions opened on the computer in use, and their message cache: a
 * timeline shows the cached messages first, then the host's (cached in turn), and follows the
 * runtime events of its session.
 * @module
 */
import { createStore } from 'solid-js/store';
import type { PermissionAskedEvent, RelayRuntimeEvent } from '../../shared/protocol/runtime-events.ts';
import { explainRequest } from '../net/explain.ts';
import type { HostLink } from '../net/host-link.ts';
import { loadTranscript, saveTranscript } from '../storage/cache.ts';
import type { HostRecord } from '../storage/db.ts';
import { createTimeline, type SessionStatus, type Timeline } from './timeline.ts';
import type { WithDb } from './with-db.ts';

export interface SessionLoad {
  loading: boolean;
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

  const fetchMessages = async (timeline: Timeline, gen: number) => {
    const host = deps.activeHost();
    if (!host || !deps.connected()) return;
    setLoads(timeline.sessionId, { loading: true, error: undefined });
    try {
      const transcript = await deps.request({ t: 'session.messages', sessionId: timeline.sessionId });
      if (gen !== generation()) return;
      timeline.applySnapshot(transcript);
      deps.onSettled?.(timeline.sessionId, timeline.status(), timeline.statusNote());
      setLoads(timeline.sessionId, { loading: false });
      void withDb((db) => saveTranscript(db, host.hostId, transcript));
    } catch (err) {
      if (gen === generation()) setLoads(timeline.sessionId, { loading: false, error: explainRequest(err) });
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
        const cached = host ? await withDb((db) => loadTranscript(db, host.hostId, sessionId)) : undefined;
        if (gen !== generation()) return;
        if (cached) t.applySnapshot(cached);
        setLoads(sessionId, { loading: false });
        await fetchMessages(t, gen);
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
