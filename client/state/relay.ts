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
import { batch, createSignal } from 'solid-js';
import { createApprovals } from './approvals.ts';
import { createHealth } from './health.ts';
import { createQuestions } from './questions.ts';
import { createHosts } from './hosts.ts';
import { createLink } from './link.ts';
import { createSessionList } from './session-list.ts';
import { createSync } from './sync.ts';
import { createTasks } from './tasks.ts';
import { typedText } from './outbox.ts';
import { createTimelines } from './timelines.ts';
import { createWithDb } from './with-db.ts';
import type { RelayApp, RelayAppDeps } from './relay-app.ts';
import type { HostRecord } from '../storage/db.ts';
import { sessionTitle } from './titles.ts';
import { loadSessionChoice, saveSessionChoice } from '../storage/choices.ts';
import { loadComposerOptions, saveComposerOptions } from '../storage/composer.ts';

export type { RelayApp, RelayAppDeps } from './relay-app.ts';

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
  // The list and the session's screen read one status: what the host said last, by event, list or transcript.
  const timelines = createTimelines({ withDb, request, activeHost, connected: link.connected, generation, onSettled: list.settle });
  const approvals = createApprovals({ request, attachDiff: timelines.attachDiff });
  const questions = createQuestions({ request });
  /** The first prompt of sessions started on this phone in this visit, to name them until OpenCode does. */
  const [firstPrompts, setFirstPrompts] = createSignal<ReadonlyMap<string, string>>(new Map());
  const tasks = createTasks({
    withDb,
    request,
    connection: deps.connection,
    ready: () => link.connected() && health.runtimeReady(),
    createSession: list.create,
    // The runtime is busy from now on; say so before its first event arrives. Not for a resend
    // whose first answer was lost: its turn may be over, and no event would come to end "running";
    // the host's transcript says how it stands.
    onAccepted: (accepted, item, resent) => {
      // A command's text is only its arguments: named as typed, `/review src`.
      if (item.newSession) setFirstPrompts(new Map(firstPrompts()).set(accepted.sessionId, typedText(item)));
      if (resent) timelines.refetch(accepted.sessionId);
      else sync.handleEvent({ type: 'session.status', sessionId: accepted.sessionId, status: 'busy' });
    },
    now,
  });
  const sync = createSync({ connection: deps.connection, link, hosts, health, list, timelines, approvals, questions, outbox: tasks.outbox });

  /**
   * The directory the runtime reads a composer's options for (host/rpc/router.ts): the session's
   * own, or for a new task the device's first workspace; undefined while the session's is unknown.
   */
  const optionsDirectory = (host: HostRecord, sessionId?: string): string | undefined => (sessionId === undefined ? host.workspaces[0] : list.sessions.get(sessionId)?.directory);

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
      questions.reset();
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
    hasOlderSessions: list.hasOlder,
    loadOlderSessions: list.loadOlder,
    searchSessions: list.search,
    permissions: approvals.permissions,
    expiredPermissions: approvals.expired,
    questions: questions.waitingList,
    endedQuestions: questions.ended,
    health: health.state,
    unlistedHere: hosts.unlistedHere,
    statusOf: (sessionId) =>
      approvals.waiting(sessionId) || questions.waiting(sessionId) ? 'waiting' : (list.sessions.get(sessionId)?.status ?? timelines.get(sessionId)?.status() ?? 'idle'),
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
      const first = timelines
        .get(sessionId)
        ?.items()
        .find((i) => i.kind === 'text' && i.role() === 'user');
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
    async composerOptions(sessionId) {
      const host = activeHost();
      const options = await request({ t: 'composer.options', ...(sessionId ? { sessionId } : {}) });
      // Kept under the computer that answered, even if the person switched to another meanwhile.
      const directory = host && optionsDirectory(host, sessionId);
      if (host && directory !== undefined) await withDb((db) => saveComposerOptions(db, host.hostId, directory, options));
      return options;
    },
    async savedComposerOptions(sessionId) {
      const host = activeHost();
      const directory = host && optionsDirectory(host, sessionId);
      return host && directory !== undefined ? withDb((db) => loadComposerOptions(db, host.hostId, directory)) : undefined;
    },
    outbox: tasks.outbox,
    may: hosts.may,
    async stop(sessionId) {
      const stopped = await request({ t: 'session.abort', sessionId });
      timelines.refetch(sessionId);
      if (!timelines.get(sessionId)) void list.refresh();
      return stopped;
    },
    async retry(sessionId, promptId) {
      const text = timelines.get(sessionId)?.promptText(promptId);
      if (!text) throw new Error('The text of this task is not on this phone; open the session again and retry.');
      await tasks.sendTask(sessionId, text);
    },
    replyPermission: approvals.reply,
    dismissExpired: approvals.dismissExpired,
    replyQuestion: questions.reply,
    rejectQuestion: questions.reject,
    dismissEndedQuestion: questions.dismissEnded,
    questionTimedOut: questions.timedOut,
    reconnectNow: () => void (link.reconnectNow() || connectActive()),
    request,
    refreshSessions: sync.refreshSessions,
    refreshHealth: health.refresh,
  };
}
