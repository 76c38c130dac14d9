/**
 * The app's model of the computers it is paired with, wired once by main.tsx from one store per
 * domain: hosts, the link and its health, the session list, the timelines, the approvals and the
 * tasks' outbox. Screens read the state and call the named actions; this module routes what the
 * link reports (state, welcome, resync, events) to the stores it concerns.
 *
 * Start-up order is what makes the app open instantly and offline: paired computers and cached
 * sessions come from IndexedDB first, the connection follows, and answers from the host replace
 * the cached copies (and are cached in turn).
 * @module
 */
import { batch, createSignal, type Accessor } from 'solid-js';
import type { PermissionReply, Scope } from '../../shared/protocol/messages.ts';
import type { PermissionAskedEvent } from '../../shared/protocol/runtime-events.ts';
import type { UnavailableWorkspace } from '../../shared/protocol/sessions-list.ts';
import type { DeviceIdentity } from '../net/device-name.ts';
import type { HostLink } from '../net/host-link.ts';
import type { HostRecord, RelayDatabase } from '../storage/db.ts';
import { createApprovals, type ExpiredPermission } from './approvals.ts';
import type { ConnectionStore } from './connection.ts';
import { createHealth, type Health } from './health.ts';
import { createHosts } from './hosts.ts';
import { createLink } from './link.ts';
import type { Outbox } from './outbox.ts';
import { createSessionList } from './session-list.ts';
import type { SessionsStore } from './sessions.ts';
import { createSync } from './sync.ts';
import { createTasks, type Tasks } from './tasks.ts';
import type { SessionStatus, Timeline } from './timeline.ts';
import { createTimelines, type SessionLoad } from './timelines.ts';
import { createWithDb } from './with-db.ts';
import { sessionTitle } from './titles.ts';
import { loadSessionChoice, saveSessionChoice, type SessionChoice } from '../storage/choices.ts';

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
  /** Workspaces the host could not list in its last answer, with why (session-list.ts). */
  readonly unavailable: Accessor<readonly UnavailableWorkspace[]>;
  /** Approvals the computer in use waits for, oldest first. */
  readonly permissions: Accessor<readonly PermissionAskedEvent[]>;
  /** Requests that expired before they were answered, shown until the person dismisses them. */
  readonly expiredPermissions: Accessor<readonly ExpiredPermission[]>;
  readonly health: Health;
  /** The connected computer's stable address, when it does not list this page's (hosts.ts). */
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
  newTask: Tasks['newTask'];
  sendTask: Tasks['sendTask'];
  /** What the session is called: OpenCode's title, or the first words of its first prompt until it has one (titles.ts). */
  titleOf(sessionId: string): string;
  /** The agent, model and variant last chosen for a session on this phone (none: the runtime's defaults). */
  sessionChoice(sessionId: string): Promise<SessionChoice | undefined>;
  rememberChoice(sessionId: string, choice: SessionChoice): Promise<void>;
  /** Tasks not yet accepted by the computer in use, and what the person may do with them. */
  readonly outbox: Pick<Outbox, 'items' | 'edit' | 'remove' | 'retry'>;
  /** Whether this device holds `scope` on the computer in use (as its last welcome said). */
  may(scope: Scope): boolean;
  stop(sessionId: string): Promise<void>;
  /** Answers a waiting request (approvals.ts: rejects when it expired). */
  replyPermission(request: PermissionAskedEvent, reply: PermissionReply, message?: string): Promise<void>;
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

export function createRelayApp(deps: RelayAppDeps): RelayApp {
  const now = deps.now ?? Date.now;
  const withDb = createWithDb(deps.db);
  const [started, setStarted] = createSignal(false);

  const link = createLink(deps);
  const { request, generation } = link;
  const hosts = createHosts({ withDb, origin: deps.origin, activate: (hostId) => activate(hostId) });
  const activeHost = hosts.active;
  const health = createHealth({ ...deps, activeHost, now });
  const list = createSessionList({ withDb, request, activeHost, activeId: hosts.activeId, generation, now });
  const timelines = createTimelines({ withDb, request, activeHost, connected: link.connected, generation });
  const approvals = createApprovals({ request, attachDiff: timelines.attachDiff });
  /** The first prompt of sessions started on this phone in this visit, to name them until OpenCode does. */
  const [firstPrompts, setFirstPrompts] = createSignal<ReadonlyMap<string, string>>(new Map());
  const tasks = createTasks({
    withDb,
    request,
    connection: deps.connection,
    ready: () => link.connected() && health.runtimeReady(),
    createSession: list.create,
    // The runtime is busy from now on; say so before its first event arrives.
    onAccepted: (accepted, item) => {
      if (item.newSession) setFirstPrompts(new Map(firstPrompts()).set(accepted.sessionId, item.text));
      sync.handleEvent({ type: 'session.status', sessionId: accepted.sessionId, status: 'busy' });
    },
    now,
  });
  const sync = createSync({ connection: deps.connection, link, hosts, health, list, timelines, approvals, outbox: tasks.outbox });

  const connectActive = async () => {
    const host = activeHost();
    if (host) return link.open(host, sync.handlers);
    link.close();
    health.unpaired();
  };

  const activate = async (hostId: string | undefined) => {
    link.nextGeneration();
    batch(() => {
      hosts.select(hostId);
      timelines.reset();
      approvals.reset();
      list.reset();
      health.reset();
    });
    await Promise.all([list.loadCache(), tasks.outbox.use(hostId)]);
    await connectActive();
  };

  return {
    hosts: hosts.list,
    activeHost,
    started,
    sessions: list.sessions,
    sessionsFresh: list.fresh,
    listError: list.error,
    unavailable: list.unavailable,
    permissions: approvals.permissions,
    expiredPermissions: approvals.expired,
    health: health.state,
    unlistedHere: hosts.unlistedHere,
    statusOf: (sessionId) => (approvals.waiting(sessionId) ? 'waiting' : (list.sessions.get(sessionId)?.status ?? timelines.get(sessionId)?.status() ?? 'idle')),
    timeline: timelines.timeline,
    sessionLoad: timelines.load,

    async start() {
      const first = await hosts.load();
      link.nextGeneration();
      hosts.select(first);
      await Promise.all([list.loadCache(), tasks.outbox.use(first)]);
      setStarted(true);
      void connectActive(); // the first screen shows the cache meanwhile
    },

    addHost: hosts.add,
    switchHost: hosts.switchTo,
    forgetHost: hosts.forget,
    renameHost: hosts.rename,
    newTask: tasks.newTask,
    sendTask: tasks.sendTask,
    titleOf(sessionId) {
      const first = timelines.get(sessionId)?.items().find((i) => i.kind === 'text' && i.role() === 'user');
      return sessionTitle(list.sessions.get(sessionId)?.title, firstPrompts().get(sessionId) ?? (first?.kind === 'text' ? first.text() : undefined));
    },
    async sessionChoice(sessionId) {
      const host = activeHost();
      return host ? withDb((db) => loadSessionChoice(db, host.hostId, sessionId)) : undefined;
    },
    async rememberChoice(sessionId, choice) {
      const host = activeHost();
      if (host) await withDb((db) => saveSessionChoice(db, host.hostId, sessionId, choice));
    },
    outbox: tasks.outbox,
    may: hosts.may,
    stop: async (sessionId) => void (await request({ t: 'session.abort', sessionId })),
    replyPermission: approvals.reply,
    dismissExpired: approvals.dismissExpired,
    reconnectNow: () => void (link.reconnectNow() || connectActive()),
    request,
    refreshSessions: sync.refreshSessions,
    refreshHealth: health.refresh,
  };
}
