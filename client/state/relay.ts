/**
 * The app's model of the computers it is paired with, wired once by main.tsx: which computer is
 * in use, its connection, its sessions and their timelines, the approvals it waits for, and its
 * health. Screens read the state and call the named actions; only this module talks to the
 * network layer (loaded lazily: it carries the crypto) and to the cache.
 *
 * Start-up order is what makes the app open instantly and offline: paired computers and cached
 * sessions come from IndexedDB first, the connection follows, and answers from the host replace
 * the cached copies (and are cached in turn).
 * @module
 */
import { batch, createSignal, type Accessor } from 'solid-js';
import { createStore } from 'solid-js/store';
import type { Welcome } from '../../shared/channel/client.ts';
import { parsePermissionExpired, type PermissionReply, type Resync, type RuntimeStatus, type Scope } from '../../shared/protocol/messages.ts';
import type { ErrorCode } from '../../shared/protocol/errors.ts';
import type { PermissionAskedEvent, RelayRuntimeEvent } from '../../shared/protocol/runtime-events.ts';
import type { UnavailableWorkspace } from '../../shared/protocol/sessions-list.ts';
import type { HostLink, LinkState } from '../net/host-link.ts';
import type { DeviceIdentity } from '../net/device-name.ts';
import { sameOrigin, unlistedOrigin } from '../net/addresses.ts';
import { errorCode, explainRequest } from '../net/explain.ts';
import { loadMessages, loadSessions, saveMessages, saveSessions } from '../storage/cache.ts';
import type { HostRecord, RelayDatabase, SessionRecord } from '../storage/db.ts';
import { deleteHost, loadHosts, saveHost, setActiveHost } from '../storage/hosts.ts';
import { deleteOutboxItem, loadOutbox, putOutboxItem } from '../storage/outbox.ts';
import type { ConnectionStore } from './connection.ts';
import { toRelayEvent } from './events.ts';
import { createOutbox, type Outbox, type OutboxProgress } from './outbox.ts';
import { createSessionsStore, inWorkspace, listFromHost, summariesFromHost, type SessionsStore, type SessionSummary } from './sessions.ts';
import { createTimeline, type SessionStatus, type Timeline } from './timeline.ts';

export interface LastTask {
  sessionId: string;
  result: 'finished' | 'failed' | 'stopped';
  note?: string;
  at: number;
}

/** A request the host says can no longer be answered (the runtime restarted, or withdrew it). */
export interface ExpiredPermission {
  request: PermissionAskedEvent;
  /** Why, for a person. */
  reason: string;
  /** The host denied it because nobody answered in time (not: the runtime lost it). */
  timedOut?: boolean;
}

export interface Health {
  phase: LinkState['phase'] | 'unpaired';
  reason: string;
  code?: ErrorCode;
  address?: string;
  connectedAt?: number;
  /** When the last connection ended: the runtime and provider facts below are as known then. */
  lostAt?: number;
  rttMs?: number;
  pingAt?: number;
  hostVersion?: string;
  runtime?: RuntimeStatus;
  /** From the host's /healthz, when the page comes from that host. */
  uptimeSeconds?: number;
  /** Set when the runtime said no model provider works (ProviderAuthError). */
  providerProblem?: string;
  lastTask?: LastTask;
}

export interface SessionLoad {
  loading: boolean;
  /** Why the latest messages could not be fetched (cached ones may still show). */
  error?: string;
}

export interface RelayApp {
  /** Paired computers, oldest pairing first. */
  readonly hosts: Accessor<readonly HostRecord[]>;
  readonly activeHost: Accessor<HostRecord | undefined>;
  /** True once stored computers and cached sessions have been read. */
  readonly started: Accessor<boolean>;
  readonly sessions: SessionsStore;
  /** True once the connected host answered `sessions.list` (the list is live, not cached). */
  readonly sessionsFresh: Accessor<boolean>;
  readonly listError: Accessor<string>;
  /**
   * Workspaces whose sessions the host could not list in its last answer, with why; the sessions
   * this phone knew there stay listed as they were.
   */
  readonly unavailable: Accessor<readonly UnavailableWorkspace[]>;
  /** Approvals the computer in use waits for, oldest first. */
  readonly permissions: Accessor<readonly PermissionAskedEvent[]>;
  /** Requests that expired before they were answered, shown until the person dismisses them. */
  readonly expiredPermissions: Accessor<readonly ExpiredPermission[]>;
  readonly health: Health;
  /**
   * The connected computer's stable address, when this page was opened from an address that
   * computer does not list: its pairing here stays with this address only.
   */
  readonly unlistedHere: Accessor<string | undefined>;
  statusOf(sessionId: string): SessionStatus;
  timeline(sessionId: string): Timeline;
  sessionLoad(sessionId: string): SessionLoad;
  start(): Promise<void>;
  /** Stores a newly paired computer and switches to it. */
  addHost(record: HostRecord): Promise<void>;
  switchHost(hostId: string): Promise<void>;
  forgetHost(hostId: string): Promise<void>;
  renameHost(hostId: string, label: string): Promise<void>;
  /**
   * Queues `text` as the first task of a new session (made when it is sent). Resolves once it is
   * stored, with the new session's id when the task went out at once, undefined when it waits.
   */
  newTask(text: string): Promise<string | undefined>;
  /** Queues a task for a session; resolves once it is stored (it is sent from the outbox). */
  sendTask(sessionId: string, text: string): Promise<void>;
  /** Tasks not yet accepted by the computer in use, and what the person may do with them. */
  readonly outbox: Pick<Outbox, 'items' | 'edit' | 'remove' | 'retry'>;
  /** Whether this device holds `scope` on the computer in use (as its last welcome said). */
  may(scope: Scope): boolean;
  stop(sessionId: string): Promise<void>;
  /**
   * Answers a waiting request. Rejects (code `permission.expired`) when the host says it expired,
   * and without asking the host when it is already known to have expired.
   */
  replyPermission(request: PermissionAskedEvent, reply: PermissionReply): Promise<void>;
  dismissExpired(requestId: string): void;
  reconnectNow(): void;
  /** One request to the computer in use (for features with state of their own, such as metrics). */
  request: HostLink['request'];
  refreshSessions(): Promise<void>;
  refreshHealth(): Promise<void>;
}

export interface RelayAppDeps {
  connection: ConnectionStore;
  db: () => Promise<RelayDatabase>;
  /** The network layer, imported on first use so the first screen does not wait for the crypto. */
  loadNet: () => Promise<typeof import('../net/host-link.ts')>;
  device: () => DeviceIdentity;
  origin: string;
  fetchHealth?: () => Promise<unknown>;
  now?: () => number;
}

const NO_HOST = 'Not paired with a computer yet';

export function createRelayApp(deps: RelayAppDeps): RelayApp {
  const now = deps.now ?? Date.now;
  const [hosts, setHosts] = createSignal<readonly HostRecord[]>([]);
  const [activeId, setActiveId] = createSignal<string>();
  const [started, setStarted] = createSignal(false);
  const [sessionsFresh, setSessionsFresh] = createSignal(false);
  const [listError, setListError] = createSignal('');
  const [unavailable, setUnavailable] = createSignal<readonly UnavailableWorkspace[]>([]);
  const [permissions, setPermissions] = createSignal<readonly PermissionAskedEvent[]>([]);
  const [expiredPermissions, setExpired] = createSignal<readonly ExpiredPermission[]>([]);
  const [unlistedHere, setUnlistedHere] = createSignal<string>();
  const [health, setHealth] = createStore<Health>({ phase: 'unpaired', reason: NO_HOST });
  const [loads, setLoads] = createStore<Record<string, SessionLoad>>({});
  const sessions = createSessionsStore(now);
  let timelines = new Map<string, Timeline>();
  let link: HostLink | undefined;
  /** Bumped on every switch, so answers for the previous computer are ignored. */
  let generation = 0;
  let saveTimer: ReturnType<typeof setTimeout> | undefined;
  /** Resyncs under way: the app is catching up until they are done and the list is fresh. */
  let resyncing = 0;

  const activeHost = () => hosts().find((h) => h.hostId === activeId());

  const withDb = async <T>(run: (db: RelayDatabase) => Promise<T>): Promise<T | undefined> => {
    try {
      return await run(await deps.db());
    } catch {
      return undefined; // storage unavailable (private mode, quota, reset): work from memory
    }
  };

  const persistSessionsSoon = () => {
    clearTimeout(saveTimer);
    const host = activeHost();
    if (!host) return;
    saveTimer = setTimeout(() => {
      const records: SessionRecord[] = sessions.list().map((s) => ({ hostId: host.hostId, ...stripUndefined(s) }));
      void withDb((db) => saveSessions(db, host.hostId, records));
    }, 300);
  };

  const request: HostLink['request'] = (body) => (link ? link.request(body) : Promise.reject(new Error(NO_HOST)));

  const showLinkState = (state: LinkState) => {
    const c = deps.connection;
    if (state.phase === 'connecting') c.connecting(state.reason);
    else if (state.phase === 'connected') c.connected();
    else if (state.phase === 'waiting') c.reconnecting(state.reason);
    else c.offline(state.reason);
    batch(() => {
      if (health.phase === 'connected' && state.phase !== 'connected') setHealth('lostAt', now());
      setHealth({
        phase: state.phase,
        reason: state.phase === 'connected' ? 'End-to-end encrypted' : state.reason,
        code: state.phase === 'stopped' ? state.code : undefined,
        address: state.phase === 'connected' ? state.address : health.address,
      });
      if (state.phase === 'connected') {
        setHealth('connectedAt', now());
        setListError(''); // the last connection's failure: this one asks again
      } else {
        setSessionsFresh(false);
      }
    });
    showCatchingUp();
    if (state.phase === 'connected') outbox.kick();
  };

  /** Connected, and still replaying, resyncing, or waiting for a fresh session list. */
  const showCatchingUp = () =>
    deps.connection.catchingUp(health.phase === 'connected' && (resyncing > 0 || (!sessionsFresh() && !listError())));

  const fetchMessages = async (timeline: Timeline, gen: number) => {
    const host = activeHost();
    if (!host || !link || link.state().phase !== 'connected') return;
    setLoads(timeline.sessionId, { loading: true, error: undefined });
    try {
      const messages = await request({ t: 'session.messages', sessionId: timeline.sessionId });
      if (gen !== generation) return;
      timeline.applySnapshot(messages);
      setLoads(timeline.sessionId, { loading: false });
      if (Array.isArray(messages)) void withDb((db) => saveMessages(db, host.hostId, timeline.sessionId, messages));
    } catch (err) {
      if (gen === generation) setLoads(timeline.sessionId, { loading: false, error: explainRequest(err) });
    }
  };

  const refreshSessions = async () => {
    const gen = generation;
    try {
      const listed = listFromHost(await request({ t: 'sessions.list', withUnavailable: true }));
      if (gen !== generation) return;
      batch(() => {
        // A workspace that did not answer this time keeps the sessions last known in it.
        sessions.replace(listed.sessions, (known) => known.directory !== undefined && listed.unavailable.some((u) => inWorkspace(known.directory!, u.workspace)));
        setUnavailable(listed.unavailable);
        setListError('');
        setSessionsFresh(true);
      });
      persistSessionsSoon();
    } catch (err) {
      if (gen === generation) {
        setUnavailable([]);
        setListError(explainRequest(err));
      }
    }
    if (gen === generation) showCatchingUp();
  };

  const onWelcome = (welcome: Welcome) => {
    const host = activeHost();
    if (!host) return;
    setHealth({ hostVersion: welcome.host.version });
    setUnlistedHere(unlistedOrigin(welcome.host.addresses, deps.origin));
    const updated: HostRecord = {
      ...host,
      name: welcome.host.name,
      deviceId: welcome.deviceId,
      scopes: welcome.scopes,
      workspaces: welcome.workspaces,
      addresses: [...new Set([...host.addresses, ...welcome.host.addresses])],
    };
    // A reconnect nearly always learns nothing new: then no IndexedDB write and no re-render
    // while the missed events are arriving.
    if (!sameHostFacts(host, updated)) {
      setHosts(hosts().map((h) => (h.hostId === host.hostId ? updated : h)));
      void withDb((db) => saveHost(db, updated));
    }
    // A host that sends no `resync` (it predates it): reload everything shown.
    if (!welcome.resumed && welcome.seq === undefined) void reloadAll();
    // Resumed: the missed events follow; the list's statuses and titles are checked once too.
    else if (welcome.resumed) void refreshSessions();
  };

  const reloadAll = () => Promise.all([refreshSessions(), ...[...timelines.values()].map((t) => fetchMessages(t, generation))]);

  /** What the host could not replay: reload it, and take its list of waiting requests as the truth. */
  const onResync = async (resync: Resync) => {
    resyncing++;
    showCatchingUp();
    try {
      await resyncNow(resync);
    } finally {
      resyncing--;
      showCatchingUp();
    }
  };

  const resyncNow = async (resync: Resync) => {
    const gen = generation;
    const pending = resync.permissions.flatMap((p) => {
      const e = toRelayEvent(p as unknown as Record<string, unknown>);
      return e?.type === 'permission.asked' ? [e] : [];
    });
    setPermissions(pending);
    for (const p of pending) attachPermissionDiff(p);
    const reloads = [refreshSessions()];
    for (const t of timelines.values()) {
      if (!resync.sessions || resync.sessions.includes(t.sessionId)) reloads.push(fetchMessages(t, gen));
    }
    await Promise.all(reloads);
    if (gen !== generation || listError() || [...timelines.values()].some((t) => loads[t.sessionId]?.error)) {
      throw new Error('the reload did not complete'); // keep the old resume point: resync again next time
    }
  };

  const attachPermissionDiff = (p: PermissionAskedEvent) => {
    const diff = p.metadata.diff;
    if (p.tool && typeof diff === 'string') timelines.get(p.sessionId)?.attachDiff(p.tool.callId, diff);
  };

  const onEvent = (raw: Record<string, unknown>) => {
    if (raw.type === 'permission.expired') {
      try {
        const { requestId, reason } = parsePermissionExpired(raw);
        expirePermission(requestId, reason);
      } catch {
        // malformed: nothing to expire
      }
      return;
    }
    const event = toRelayEvent(raw);
    if (!event) return;
    batch(() => handleEvent(event));
  };

  const handleEvent = (event: RelayRuntimeEvent) => {
    if (sessions.apply(event)) persistSessionsSoon();
    if ('sessionId' in event && event.sessionId) timelines.get(event.sessionId)?.apply(event);
    switch (event.type) {
      case 'permission.asked': {
        if (!permissions().some((p) => p.requestId === event.requestId)) setPermissions([...permissions(), event]);
        attachPermissionDiff(event);
        return;
      }
      case 'permission.replied':
        // Denied by the host's timeout: kept in view as timed out, not silently gone.
        if (event.by === 'timeout') expirePermission(event.requestId, 'nobody answered in time, so your computer denied it', true);
        else dropPermission(event.requestId);
        return;
      case 'session.idle': {
        const timeline = timelines.get(event.sessionId);
        // A failure or a stop was reported just before this idle: keep that as the result.
        const last = health.lastTask;
        if (!(last?.sessionId === event.sessionId && last.result !== 'finished' && last.at > now() - 5000)) {
          setHealth('lastTask', { sessionId: event.sessionId, result: 'finished', at: now() });
        }
        // Requests of a finished turn cannot be answered any more.
        setPermissions(permissions().filter((p) => p.sessionId !== event.sessionId));
        // The final state, for the cache: one fetch per finished turn.
        if (timeline) void fetchMessages(timeline, generation);
        outbox.kick(); // a task waiting for this turn to end may go now
        return;
      }
      case 'session.error': {
        if (!event.sessionId) return;
        const stopped = event.name === 'MessageAbortedError';
        setHealth('lastTask', { sessionId: event.sessionId, result: stopped ? 'stopped' : 'failed', ...(stopped ? {} : { note: event.message || event.name }), at: now() });
        if (event.name === 'ProviderAuthError') setHealth('providerProblem', event.message || 'no model provider is signed in');
        return;
      }
      case 'runtime.reconnected':
        // The host lost the runtime's stream for a while: what is shown may have gaps.
        void reloadAll();
        return;
      default:
        return;
    }
  };

  const dropPermission = (requestId: string) => setPermissions(permissions().filter((p) => p.requestId !== requestId));

  /** Moves a waiting request to the expired ones, with why; one this phone never showed is ignored. */
  const expirePermission = (requestId: string, reason: string, timedOut = false) => {
    const request = permissions().find((p) => p.requestId === requestId);
    batch(() => {
      dropPermission(requestId);
      const known = expiredPermissions().find((e) => e.request.requestId === requestId);
      if (request && !known) setExpired([...expiredPermissions(), { request, reason, ...(timedOut ? { timedOut } : {}) }]);
    });
  };

  const outboxReady = () => link?.state().phase === 'connected' && health.runtime?.state === 'ready';

  const outbox = createOutbox({
    storage: {
      load: async (hostId) => (await withDb((db) => loadOutbox(db, hostId))) ?? [],
      // Without storage (private mode, quota) the outbox still works, from memory only.
      put: async (item) => void (await withDb((db) => putOutboxItem(db, item))),
      remove: async (key) => void (await withDb((db) => deleteOutboxItem(db, key))),
    },
    transport: {
      ready: outboxReady,
      async createSession(key) {
        const created = summariesFromHost(await request({ t: 'session.create', key }))[0];
        if (!created) throw new Error('Your computer created the session but its answer could not be read; reload the session list.');
        sessions.replace([...sessions.list(), created]);
        persistSessionsSoon();
        return created.sessionId;
      },
      submit: (task) => request({ t: 'task.submit', ...task }),
      messages: (sessionId) => request({ t: 'session.messages', sessionId }),
    },
    explain: explainRequest,
    now,
    // The runtime is busy from now on; say so before its first event arrives.
    onAccepted: (_item, accepted) => handleEvent({ type: 'session.status', sessionId: accepted.sessionId, status: 'busy' }),
    onChange: (items) => deps.connection.outbox({ queued: items.filter((i) => i.phase !== 'failed').length, failed: items.filter((i) => i.phase === 'failed').length }),
  });

  const connectActive = async () => {
    link?.close();
    link = undefined;
    const host = activeHost();
    if (!host) {
      deps.connection.unpaired();
      setHealth({ phase: 'unpaired', reason: NO_HOST });
      return;
    }
    const gen = generation;
    deps.connection.connecting(`Reaching ${host.label}`);
    let net: Awaited<ReturnType<RelayAppDeps['loadNet']>>;
    try {
      net = await deps.loadNet();
    } catch {
      deps.connection.offline('Part of the app could not be loaded; reload it while your computer is reachable');
      return;
    }
    if (gen !== generation) return;
    link = net.createHostLink({
      host,
      device: deps.device(),
      handlers: {
        onState: (s) => gen === generation && showLinkState(s),
        onWelcome: (w) => gen === generation && onWelcome(w),
        onResync: (r) => (gen === generation ? onResync(r) : Promise.reject(new Error('another computer is in use'))),
        onEvent: (_seq, e) => gen === generation && onEvent(e),
        onRuntime: (runtime) => {
          if (gen !== generation) return;
          const wasReady = health.runtime?.state === 'ready';
          setHealth('runtime', runtime);
          // Requests failed with runtime.not-ready while it started: load now.
          if (runtime.state === 'ready' && !wasReady && health.phase === 'connected' && !sessionsFresh()) void reloadAll();
          if (runtime.state === 'ready') outbox.kick();
        },
        onRtt: (ms) => gen === generation && setHealth({ rttMs: Math.round(ms), pingAt: now() }),
      },
    });
  };

  const loadActiveCache = async () => {
    const host = activeHost();
    sessions.clear();
    if (!host) return;
    const cached = (await withDb((db) => loadSessions(db, host.hostId))) ?? [];
    if (host.hostId !== activeId()) return;
    sessions.replace(cached.map(({ hostId: _h, ...s }) => s));
  };

  const activate = async (hostId: string | undefined) => {
    generation++;
    batch(() => {
      setActiveId(hostId);
      timelines = new Map();
      setPermissions([]);
      setExpired([]);
      setSessionsFresh(false);
      setListError('');
      setUnavailable([]);
      setUnlistedHere(undefined);
      setHealth({ phase: 'unpaired', reason: NO_HOST, rttMs: undefined, pingAt: undefined, runtime: undefined, hostVersion: undefined, uptimeSeconds: undefined, providerProblem: undefined, lastTask: undefined, address: undefined, connectedAt: undefined, lostAt: undefined, code: undefined });
    });
    await Promise.all([loadActiveCache(), outbox.use(hostId)]);
    await connectActive();
  };

  return {
    hosts,
    activeHost,
    started,
    sessions,
    sessionsFresh,
    listError,
    unavailable,
    permissions,
    expiredPermissions,
    health,
    unlistedHere,

    statusOf(sessionId) {
      if (permissions().some((p) => p.sessionId === sessionId)) return 'waiting';
      return sessions.get(sessionId)?.status ?? timelines.get(sessionId)?.status() ?? 'idle';
    },

    timeline(sessionId) {
      let timeline = timelines.get(sessionId);
      if (timeline) return timeline;
      timeline = createTimeline(sessionId);
      timelines.set(sessionId, timeline);
      const t = timeline;
      const gen = generation;
      const host = activeHost();
      setLoads(sessionId, { loading: true });
      void (async () => {
        const cached = host ? await withDb((db) => loadMessages(db, host.hostId, sessionId)) : undefined;
        if (gen !== generation) return;
        if (cached?.length) t.applySnapshot(cached);
        setLoads(sessionId, { loading: false });
        await fetchMessages(t, gen);
      })();
      return timeline;
    },

    sessionLoad: (sessionId) => loads[sessionId] ?? { loading: false },

    async start() {
      const stored = await withDb((db) => loadHosts(db));
      setHosts(stored?.hosts ?? []);
      const first = stored?.activeId;
      generation++;
      setActiveId(first);
      await Promise.all([loadActiveCache(), outbox.use(first)]);
      setStarted(true);
      void connectActive(); // the first screen shows the cache meanwhile
    },

    async addHost(record) {
      await withDb(async (db) => {
        await saveHost(db, record);
        await setActiveHost(db, record.hostId);
      });
      setHosts([...hosts().filter((h) => h.hostId !== record.hostId), record]);
      await activate(record.hostId);
    },

    async switchHost(hostId) {
      if (hostId === activeId() || !hosts().some((h) => h.hostId === hostId)) return;
      await withDb((db) => setActiveHost(db, hostId));
      await activate(hostId);
    },

    async forgetHost(hostId) {
      await withDb((db) => deleteHost(db, hostId));
      const rest = hosts().filter((h) => h.hostId !== hostId);
      setHosts(rest);
      if (hostId === activeId()) {
        const next = rest[0]?.hostId;
        if (next) await withDb((db) => setActiveHost(db, next));
        await activate(next);
      }
    },

    async renameHost(hostId, label) {
      const host = hosts().find((h) => h.hostId === hostId);
      const clean = label.trim().slice(0, 100);
      if (!host || !clean) return;
      const updated = { ...host, label: clean };
      setHosts(hosts().map((h) => (h.hostId === hostId ? updated : h)));
      await withDb((db) => saveHost(db, updated));
    },

    async newTask(text) {
      const { record, next } = await outbox.add({ text });
      // Only a task that goes out now is worth waiting for; others show as queued in the list.
      if (!outboxReady() || outbox.items()[0]?.key !== record.key) return undefined;
      // A passing failure while still connected is retried shortly: keep waiting while connected
      // (looking again now and then, as nothing may happen to it once the connection is gone).
      let progress = await next;
      while (progress.kind === 'held' && outboxReady()) {
        progress = await Promise.race([outbox.progress(record.key), new Promise<OutboxProgress>((r) => setTimeout(() => r(progress), 15_000))]);
      }
      if (progress.kind === 'session') return progress.sessionId;
      return progress.kind === 'accepted' ? progress.accepted.sessionId : undefined;
    },

    async sendTask(sessionId, text) {
      await outbox.add({ sessionId, text });
    },

    outbox,
    may: (scope) => activeHost()?.scopes.includes(scope) ?? false,

    async stop(sessionId) {
      await request({ t: 'session.abort', sessionId });
    },

    async replyPermission(req, reply) {
      if (expiredPermissions().some((e) => e.request.requestId === req.requestId)) throw new PermissionExpired();
      try {
        await request({ t: 'permission.reply', requestId: req.requestId, reply });
        dropPermission(req.requestId);
      } catch (err) {
        const code = errorCode(err);
        // Answered elsewhere, or its turn ended: nothing left to decide.
        if (code === 'request.unknown') dropPermission(req.requestId);
        // Gone with the runtime: the person must see that their answer did not count.
        if (code === 'permission.expired') expirePermission(req.requestId, expiryReason(err));
        throw err;
      }
    },

    dismissExpired(requestId) {
      setExpired(expiredPermissions().filter((e) => e.request.requestId !== requestId));
    },

    reconnectNow() {
      if (link) link.reconnectNow();
      else void connectActive();
    },

    request,
    refreshSessions,

    async refreshHealth() {
      const host = activeHost();
      if (!host || !deps.fetchHealth || !host.addresses.some((a) => sameOrigin(a, deps.origin))) return;
      try {
        const body = (await deps.fetchHealth()) as { uptimeSeconds?: unknown };
        if (typeof body?.uptimeSeconds === 'number') setHealth('uptimeSeconds', body.uptimeSeconds);
      } catch {
        setHealth('uptimeSeconds', undefined);
      }
    },
  };
}

/** Refusing to send an answer to a request known to have expired (explain.ts words it). */
class PermissionExpired extends Error {
  readonly code = 'permission.expired';
  constructor() {
    super('this permission request expired; the answer was not sent');
    this.name = 'PermissionExpired';
  }
}

/** The host's refusal says why the request expired (host/rpc/permissions.ts): "… expired (<why>); …". */
function expiryReason(err: unknown): string {
  const why = err instanceof Error ? /expired \((.+)\); the answer/.exec(err.message)?.[1] : undefined;
  return why ?? 'your computer no longer has this request';
}

/** Whether the facts a welcome updates are the same in both records. */
function sameHostFacts(a: HostRecord, b: HostRecord): boolean {
  const same = (x: readonly string[], y: readonly string[]) => x.length === y.length && x.every((v, i) => v === y[i]);
  return a.name === b.name && a.deviceId === b.deviceId && same(a.scopes, b.scopes) && same(a.workspaces, b.workspaces) && same(a.addresses, b.addresses);
}

function stripUndefined(s: SessionSummary): SessionSummary {
  return Object.fromEntries(Object.entries(s).filter(([, v]) => v !== undefined)) as unknown as SessionSummary;
}
