/**
 * The host's one connection to an OpenCode runtime: the few REST calls the host needs and a
 * subscription to the runtime's `/event` stream of every workspace, turned into typed host events.
 *
 * OpenCode 1.18 keeps one instance per directory: `/event`, `/session` (list), `/session/status`
 * and `/permission` answer for the `directory` they are asked about only, so the bridge asks each
 * workspace and merges. One workspace whose instance cannot answer (a broken `opencode.json`, a
 * timeout) leaves the others' sessions and permission requests listed, and is named with why.
 * Calls about one session reach that session's own directory whichever is named; a permission
 * reply must name the request's directory, so the bridge remembers it.
 *
 * Uses the SDK's v2 client (`@opencode-ai/sdk/v2/client`): the default client of SDK 1.19 has no
 * routes for the `/permission` list and reply that runtime 1.18 serves. The client entry alone:
 * `@opencode-ai/sdk/v2` also loads the SDK's server launcher (and cross-spawn), which the host never uses.
 *
 * Each event stream reconnects by itself (with backoff) when it ends, errors or falls silent
 * (the runtime sends a heartbeat about every 10 s) or does not open within a few seconds (a request
 * that reaches a restarted runtime while it starts may never be answered); once the streams that dropped are all back
 * (a restarted runtime drops every one) it emits `runtime.reconnected`, once, because `/event`
 * has no resume cursor and events may have been missed. A workspace whose stream never connected
 * does not hold that back.
 * @module
 */
import {
  createOpencodeClient,
  type OpencodeClient,
  type PermissionRequest,
  type PermissionRuleset,
  type QuestionRequest,
  type Session,
  type SessionMessagesResponses,
  type SessionStatus,
} from '@opencode-ai/sdk/v2/client';
import type { Logger } from '../log.ts';
import { RelayError } from '../../shared/protocol/errors.ts';
import type { RelayRuntimeEvent } from '../../shared/protocol/runtime-events.ts';
import { trimOldest } from '../../shared/bounded.ts';
import type { SessionsList, UnavailableWorkspace } from '../../shared/protocol/sessions-list.ts';
import { failureReason } from './failure-reason.ts';
import { retryOnReset } from './reset-retry.ts';
import { createRuntimeEventMapper } from './to-relay.ts';
import type { PermissionsList } from './permissions-list.ts';
import type { RuntimeChoices, RuntimeVcs, TurnFile } from './port.ts';
import { readFile } from 'node:fs/promises';
import { authHeaders } from './health.ts';

export interface RuntimeTarget {
  url: string;
  password?: string;
}

export interface RuntimeBridgeOptions extends Partial<RuntimeTarget> {
  log: Logger;
  /**
   * The workspaces whose sessions, events and permission requests the bridge covers; sessions are
   * created in the first unless told otherwise (default: the runtime's own directory alone).
   */
  directories?: readonly string[];
  /** Timeout of each REST call (default 30 s). */
  requestTimeoutMs?: number;
  /** A stream silent this long counts as dead (default 30 s). */
  streamIdleTimeoutMs?: number;
  /** A subscription not confirmed by the runtime within this long is retried (default 5 s). */
  streamConnectTimeoutMs?: number;
  resubscribeInitialMs?: number;
  resubscribeMaxMs?: number;
}

export interface PromptOptions {
  /** A client-chosen message id (OpenCode's `msg_…` form) so a retried prompt is not doubled. */
  messageId?: string;
  agent?: string;
  model?: { providerId: string; modelId: string };
  /** The model's variant (reasoning effort). */
  variant?: string;
  /** Files on the host sent after the text, as the runtime's file parts. */
  files?: TurnFile[];
}

export type RuntimeMessages = SessionMessagesResponses[200];

export type SessionMetadata = NonNullable<Session['metadata']>;

/**
 * A listed session with the runtime's live status of it. The field's prefix keeps it clear of
 * OpenCode's own Session fields. `idle` when the runtime reports none (it keeps only the others).
 */
export type ListedSession = Session & { relayStatus: SessionStatus };

/** `limit`: at most this many per workspace (the runtime's default is 100); `search`: in titles. */
export interface SessionsQuery {
  limit?: number;
  search?: string;
}

export interface RuntimeBridge {
  /** Undefined until the runtime first has an address (a spawned runtime that is still starting). */
  readonly target: RuntimeTarget | undefined;
  /**
   * Says the runtime at `target` is ready: a new address is followed, and streams not connected
   * retry at once even when the address is the same (a restarted runtime may keep its port).
   */
  setTarget(target: RuntimeTarget): void;
  /**
   * `permission`: the session's own rules, evaluated after the agent's (the last match wins).
   * `metadata`: kept by the runtime with the session (also across its restarts) and listed with it.
   */
  createSession(title: string | undefined, directory?: string, permission?: PermissionRuleset, metadata?: SessionMetadata): Promise<Session>;
  /**
   * One workspace's root sessions created since `since` (ms), at most 1000; rejects when its
   * instance cannot answer. Unlike `listSessions`, not cut at the runtime's default 100.
   */
  sessionsCreatedSince(since: number, directory?: string): Promise<Session[]>;
  /** Appends rules to a session's own (OpenCode merges; it never replaces them). */
  addSessionPermission(sessionId: string, permission: PermissionRuleset): Promise<Session>;
  /**
   * Every workspace's sessions, most recently updated first, each with its `relayStatus`, and the
   * workspaces that could not answer, with why. Rejects (with the first workspace's error) only
   * when none answered.
   */
  listSessions(query?: SessionsQuery): Promise<SessionsList<ListedSession>>;
  getSession(sessionId: string): Promise<Session>;
  /** Undoes the session from `messageId` (or one of its parts) on, files included. */
  revert(sessionId: string, messageId: string, partId?: string): Promise<Session>;
  unrevert(sessionId: string): Promise<Session>;
  renameSession(sessionId: string, title: string): Promise<Session>;
  deleteSession(sessionId: string): Promise<boolean>;
  /** A new session with the transcript up to `messageId` (all of it when absent). */
  forkSession(sessionId: string, messageId?: string): Promise<Session>;
  /** Summarizes the session with `model`; resolves when the summary is written. */
  compact(sessionId: string, model: { providerID: string; modelID: string }): Promise<boolean>;
  /** The runtime's live status of a session (`idle` when no workspace reports one: it keeps only the others). */
  sessionStatus(sessionId: string): Promise<SessionStatus>;
  /**
   * Oldest first. `limit`: only the newest that many. `before` (a message id of the session): only
   * the messages before it; with `limit`, the runtime pages to them, so a long session is not read
   * whole (a runtime that cannot page answers all of them). An id not in the session: `request.unknown`.
   */
  messages(sessionId: string, limit?: number, before?: string): Promise<RuntimeMessages>;
  /** Starts a turn and returns at once (the runtime's `prompt_async`); progress comes as events. */
  prompt(sessionId: string, text: string, opts?: PromptOptions): Promise<void>;
  /**
   * Runs a command of the runtime (`/session/{id}/command`) and resolves once its message is
   * stored (the runtime answers that route only when the turn ended); progress comes as events.
   */
  command(sessionId: string, command: string, args: string, opts: PromptOptions & { messageId: string }): Promise<void>;
  /** The agents, commands and configured providers of a workspace (undefined: the first), and its default model. */
  choices(directory?: string): Promise<RuntimeChoices>;
  /** The configured providers and their models (`/config/providers`) of a directory's instance. */
  providers(directory: string): Promise<unknown>;
  /** A directory's version control: OpenCode's `/vcs` (branch) and `/vcs/status` (changed files). */
  vcs(directory: string): Promise<RuntimeVcs>;
  abort(sessionId: string): Promise<boolean>;
  /**
   * The pending requests of every workspace that answered, the workspaces that did not, with why,
   * and the requests last seen in those (which may still wait). Rejects only when none answered.
   */
  listPermissions(): Promise<PermissionsList<PermissionRequest>>;
  /** The agent's waiting questions, listed like `listPermissions`. */
  listQuestions(): Promise<PermissionsList<QuestionRequest>>;
  /** Answers a question: one list of labels (or typed text) per question, in order. */
  replyQuestion(requestId: string, answers: string[][]): Promise<void>;
  /** Dismisses a question: the runtime fails the tool call and ends the turn. */
  rejectQuestion(requestId: string): Promise<void>;
  /** Ids of the model providers the runtime can use (configured credentials or the free default). */
  connectedProviders(): Promise<string[]>;
  /**
   * Gets the workspace's runtime instance ready for a first task, with nothing a person can see:
   * a one-result file search, which boots what OpenCode otherwise boots at the first prompt (its
   * file watcher and per-directory services; seconds in a real project). No session is made and
   * nothing is written in the workspace.
   */
  warmUp(directory: string): Promise<void>;
  /** Never `always`: OpenCode's "always" is process-wide, so the host keeps session grants itself. */
  replyPermission(requestId: string, reply: 'once' | 'reject', message?: string): Promise<void>;
  onEvent(listener: (event: RelayRuntimeEvent) => void): () => void;
  /** Resolves when every workspace's event stream is connected (now, or as soon as they are again). */
  subscribed(): Promise<void>;
  close(): Promise<void>;
}

type CallOptions = { signal: AbortSignal; throwOnError: true };
/** Which runtime instance a call is about; `{}` is the runtime's own directory. */
type Scope = { directory?: string };

/** Permission requests (and, apart, questions) whose workspace is remembered for the reply (the oldest are forgotten). */
const REMEMBERED_REQUESTS = 1000;

export function createRuntimeBridge(opts: RuntimeBridgeOptions): RuntimeBridge {
  const log = opts.log;
  const requestTimeoutMs = opts.requestTimeoutMs ?? 30_000;
  const idleTimeoutMs = opts.streamIdleTimeoutMs ?? 30_000;
  const connectTimeoutMs = opts.streamConnectTimeoutMs ?? 5000;
  const backoffInitialMs = opts.resubscribeInitialMs ?? 250;
  const backoffMaxMs = opts.resubscribeMaxMs ?? 5000;
  const scopes: Scope[] = opts.directories?.length ? [...new Set(opts.directories)].map((directory) => ({ directory })) : [{}];
  /** Where sessions are created by default, and what calls about one session name. */
  const home = scopes[0]!;

  let target: RuntimeTarget | undefined = opts.url ? { url: opts.url, password: opts.password } : undefined;
  let client = target && makeClient(target);
  const listeners = new Set<(event: RelayRuntimeEvent) => void>();
  let closed = false;
  const waiters: Array<{ resolve: () => void; reject: (err: Error) => void }> = [];
  /** Streams that dropped after being connected: `runtime.reconnected` is said once all are back. */
  const dropped = new Set<Stream>();
  const requestScopes = new Map<string, Scope>();
  /** Whether the runtime was seen not to page before a message (its earlier pages then come from whole reads): said once in the log. */
  let wholeForPages = false;
  const questionScopes = new Map<string, Scope>();
  const rememberRequest = (requestId: string, scope: Scope, map = requestScopes) => {
    map.set(requestId, scope);
    trimOldest(map, REMEMBERED_REQUESTS);
  };

  function makeClient(t: RuntimeTarget): OpencodeClient {
    return createOpencodeClient({ baseUrl: t.url, headers: authHeaders(t.password), throwOnError: true, fetch: retryOnReset() });
  }

  const emit = (event: RelayRuntimeEvent) => {
    for (const l of [...listeners]) {
      try {
        l(event);
      } catch (err) {
        log.error('runtime event listener failed', { err, type: event.type });
      }
    }
  };

  /** The client to call the runtime with, or why there is none. */
  const clientFor = (what: string): OpencodeClient => {
    if (closed) throw new Error(`${what}: the runtime bridge is closed`);
    if (!client) throw new Error(`${what}: the runtime has not started yet`);
    return client;
  };

  const call = async <T>(what: string, run: (c: OpencodeClient, o: CallOptions) => Promise<{ data: T }>): Promise<T> =>
    run(clientFor(what), { signal: AbortSignal.timeout(requestTimeoutMs), throwOnError: true }).then(
      (r) => r.data,
      (err: unknown) => {
        throw new Error(`${what} failed: ${describe(err)}`, { cause: err });
      },
    );

  /** Like `call`, but an answer with an error status resolves to that status, for the caller to tell what it means. */
  const callOrStatus = async <T>(
    what: string,
    run: (c: OpencodeClient, o: { signal: AbortSignal; throwOnError: false }) => Promise<{ data?: T; error?: unknown; response?: Response }>,
  ): Promise<{ data: T } | { status: number }> => {
    const r = await run(clientFor(what), { signal: AbortSignal.timeout(requestTimeoutMs), throwOnError: false }).catch((err: unknown) => {
      throw new Error(`${what} failed: ${describe(err)}`, { cause: err });
    });
    if (r.response?.ok && r.data !== undefined) return { data: r.data };
    if (r.response) return { status: r.response.status };
    throw new Error(`${what} failed: ${describe(r.error)}`, { cause: r.error });
  };

  const inScope = (what: string, scope: Scope) => (scopes.length > 1 ? `${what} in ${scope.directory}` : what);

  /**
   * Workspaces warned about as not answering, with the call and reason warned about: a workspace
   * that keeps failing is warned about once (devices list often), again only if the reason changes.
   */
  const failing = new Map<string, { what: string; reason: string }>();

  /**
   * One call per workspace: the answers, in workspace order, of those that answered, and the others
   * with why. Rejects (with the first workspace's error) only when none answered.
   */
  const everywhere = async <T>(
    what: string,
    things: string,
    run: (c: OpencodeClient, o: CallOptions, scope: Scope) => Promise<{ data: T }>,
  ): Promise<{ answers: Array<{ scope: Scope; data: T }>; unanswered: Scope[]; unavailable: UnavailableWorkspace[] }> => {
    const settled = await Promise.allSettled(scopes.map((scope) => call(inScope(what, scope), (c, o) => run(c, o, scope))));
    const answers = settled.flatMap((r, i) => (r.status === 'fulfilled' ? [{ scope: scopes[i]!, data: r.value }] : []));
    const failed = settled.flatMap((r, i) => (r.status === 'rejected' ? [{ err: r.reason as unknown, scope: scopes[i]! }] : []));
    if (answers.length === 0) throw failed[0]!.err;
    // Some answered, so there are several workspaces and each has its directory.
    for (const { scope } of answers) {
      if (failing.get(scope.directory!)?.what !== what) continue;
      failing.delete(scope.directory!);
      log.info('a workspace answers again', { workspace: scope.directory });
    }
    const unavailable = failed.map(({ err, scope }): UnavailableWorkspace => {
      const workspace = scope.directory!;
      const reason = failureReason(err);
      if (failing.get(workspace)?.reason === reason) log.debug(`could not list the ${things} of a workspace`, { workspace, reason });
      else log.warn(`could not list the ${things} of a workspace; using the others until it answers`, { workspace, err });
      failing.set(workspace, { what, reason });
      return { workspace, reason };
    });
    return { answers, unanswered: failed.map((f) => f.scope), unavailable };
  };

  const listSessions = async (query: SessionsQuery = {}): Promise<SessionsList<ListedSession>> => {
    const { answers, unavailable } = await everywhere('list sessions', 'sessions', async (c, o, scope) => {
      const [sessions, status] = await Promise.all([c.session.list({ ...scope, ...query }, o), c.session.status(scope, o)]);
      return { data: sessions.data.map((s): ListedSession => ({ ...s, relayStatus: status.data[s.id] ?? { type: 'idle' } })) };
    });
    return { sessions: mergeSessions(answers.map((a) => a.data)), unavailable };
  };

  const listPermissions = async (): Promise<PermissionsList<PermissionRequest>> => {
    const { answers, unanswered, unavailable } = await everywhere('list permissions', 'permission requests', (c, o, scope) => c.permission.list(scope, o));
    for (const { scope, data } of answers) for (const r of data) rememberRequest(r.id, scope);
    const unseen = [...requestScopes].flatMap(([id, scope]) => (unanswered.includes(scope) ? [id] : []));
    return { requests: answers.flatMap((a) => a.data), unavailable, unseen };
  };

  const listQuestions = async (): Promise<PermissionsList<QuestionRequest>> => {
    const { answers, unanswered, unavailable } = await everywhere('list questions', 'questions', (c, o, scope) => c.question.list(scope, o));
    for (const { scope, data } of answers) for (const r of data) rememberRequest(r.id, scope, questionScopes);
    const unseen = [...questionScopes].flatMap(([id, scope]) => (unanswered.includes(scope) ? [id] : []));
    return { requests: answers.flatMap((a) => a.data), unavailable, unseen };
  };

  /**
   * The workspace a permission request or question belongs to: remembered from its event, else looked up.
   * Not found (gone, or its workspace did not answer): the home workspace, whose runtime then
   * refuses an id it does not have.
   */
  const scopeOfRequest = async (requestId: string): Promise<Scope> => {
    if (scopes.length === 1) return home;
    if (!requestScopes.has(requestId)) await listPermissions();
    return requestScopes.get(requestId) ?? home;
  };
  /** The same for a question. */
  const scopeOfQuestion = async (requestId: string): Promise<Scope> => {
    if (scopes.length === 1) return home;
    if (!questionScopes.has(requestId)) await listQuestions();
    return questionScopes.get(requestId) ?? home;
  };

  interface Stream {
    scope: Scope;
    connected: boolean;
    abort?: AbortController;
    /** Set when the stream was cut on purpose (new target, silence): reconnect without backoff. */
    hurry: boolean;
    wakeUp?: () => void;
  }
  const streams: Stream[] = scopes.map((scope) => ({ scope, connected: false, hurry: false }));
  const allConnected = () => streams.every((s) => s.connected);

  /** One subscription at a time per workspace, for the life of the bridge. */
  async function streamLoop(s: Stream): Promise<void> {
    let failures = 0;
    const where = s.scope.directory ? { directory: s.scope.directory } : {};
    while (!closed) {
      if (!client) {
        await new Promise<void>((resolve) => (s.wakeUp = resolve));
        s.wakeUp = undefined;
        continue;
      }
      s.hurry = false;
      const abort = new AbortController();
      s.abort = abort;
      let problem: unknown;
      let idle: NodeJS.Timeout | undefined;
      const alive = () => {
        clearTimeout(idle);
        idle = setTimeout(() => {
          log.warn('runtime event stream went silent; resubscribing', { idleTimeoutMs, ...where });
          s.hurry = true;
          abort.abort();
        }, idleTimeoutMs);
      };
      const opening = setTimeout(() => {
        problem = new Error(`the runtime did not confirm the subscription within ${connectTimeoutMs} ms`);
        abort.abort();
      }, connectTimeoutMs);
      const map = createRuntimeEventMapper();
      try {
        alive();
        const { stream: events } = await client.event.subscribe(s.scope, {
          signal: abort.signal,
          // The SDK would retry forever without telling; one attempt, and this loop decides.
          sseMaxRetryAttempts: 1,
          onSseError: (err) => (problem = err),
        });
        for await (const raw of events) {
          alive();
          if (isType(raw, 'server.connected')) {
            clearTimeout(opening);
            s.connected = true;
            failures = 0;
            log.debug('runtime event stream connected', { url: target?.url, ...where });
            if (dropped.delete(s) && dropped.size === 0) emit({ type: 'runtime.reconnected' });
            if (allConnected()) for (const w of waiters.splice(0)) w.resolve();
            continue;
          }
          let mapped: RelayRuntimeEvent[];
          try {
            mapped = map(raw);
          } catch (err) {
            log.warn('dropped a malformed runtime event', { err, type: typeOf(raw) });
            continue;
          }
          for (const e of mapped) {
            if (e.type === 'permission.asked') rememberRequest(e.requestId, s.scope);
            else if (e.type === 'permission.replied') requestScopes.delete(e.requestId);
            else if (e.type === 'question.asked') rememberRequest(e.requestId, s.scope, questionScopes);
            else if (e.type === 'question.replied' || e.type === 'question.rejected') questionScopes.delete(e.requestId);
            emit(e);
          }
        }
      } catch (err) {
        problem ??= err;
      } finally {
        clearTimeout(idle);
        clearTimeout(opening);
        if (s.connected) dropped.add(s);
        s.connected = false;
      }
      if (closed) return;
      if (s.hurry) {
        failures = 0;
        continue;
      }
      failures++;
      const delay = Math.min(backoffInitialMs * 2 ** (failures - 1), backoffMaxMs);
      log.debug('runtime event stream ended; resubscribing', { problem: describe(problem), delayMs: delay, ...where });
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, delay);
        s.wakeUp = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      s.wakeUp = undefined;
    }
  }

  const loops = Promise.all(streams.map(streamLoop));
  const cutStreams = (hurry: boolean, which: readonly Stream[] = streams) => {
    for (const s of which) {
      s.hurry = hurry;
      s.abort?.abort();
      s.wakeUp?.();
    }
  };

  return {
    get target() {
      return target;
    },
    setTarget(next) {
      if (next.url === target?.url && next.password === target?.password) {
        cutStreams(
          true,
          streams.filter((st) => !st.connected),
        );
        return;
      }
      log.info('runtime bridge retargeted', { url: next.url });
      target = { url: next.url, password: next.password };
      client = makeClient(target);
      cutStreams(true);
    },
    createSession: (title, directory, permission, metadata) =>
      call('create session', (c, o) =>
        c.session.create({ title, ...(directory ? { directory } : home), ...(permission ? { permission } : {}), ...(metadata ? { metadata } : {}) }, o),
      ),
    sessionsCreatedSince: (since, directory) =>
      call('list sessions', (c, o) => c.session.list({ ...(directory ? { directory } : home), start: since, roots: true, limit: 1000 }, o)),
    addSessionPermission: (sessionId, permission) => call('update session permission', (c, o) => c.session.update({ sessionID: sessionId, ...home, permission }, o)),
    listSessions,
    getSession: (sessionId) => call('get session', (c, o) => c.session.get({ sessionID: sessionId, ...home }, o)),
    async sessionStatus(sessionId) {
      // A session runs in its own workspace's instance, and each instance reports only its own.
      const { answers } = await everywhere('list session statuses', 'session statuses', (c, o, scope) => c.session.status(scope, o));
      return answers.map((a) => a.data[sessionId]).find((s) => s !== undefined) ?? { type: 'idle' };
    },
    async messages(sessionId, limit, before) {
      const list = (query: { limit?: number; before?: string }) => call('list messages', (c, o) => c.session.messages({ sessionID: sessionId, ...home, ...query }, o));
      if (before === undefined) return list(limit === undefined ? {} : { limit });
      // The runtime pages by its own cursor, which names the message a page ends at and its creation time.
      const at = await callOrStatus('get message', (c, o) => c.session.message({ sessionID: sessionId, messageID: before, ...home }, o));
      if ('status' in at) {
        // 404: no such message in this session; 400: not even a message id.
        if (at.status === 404 || at.status === 400) throw new RelayError('request.unknown', `${before} is not a message of this session; ask for its newest messages again`);
        throw new Error(`get message failed: the runtime answered ${at.status}`);
      }
      if (limit !== undefined) {
        const page = await callOrStatus('list messages', (c, o) => c.session.messages({ sessionID: sessionId, ...home, limit, before: cursorBefore(at.data.info) }, o));
        // A 400: a runtime that reads its cursor otherwise refused this one; its whole list still serves.
        if ('data' in page && !ignoredBefore(page.data, at.data.info)) return page.data;
        if ('status' in page && page.status !== 400) throw new Error(`list messages failed: the runtime answered ${page.status}`);
        if (!wholeForPages) log.warn('the runtime does not page a session before a message: earlier pages are cut from the whole session', { sessionId });
        wholeForPages = true;
      }
      const all = await list({});
      const end = all.findIndex((m) => m.info.id === before);
      if (end < 0) throw new RelayError('request.unknown', `${before} is not a message of this session any more; ask for its newest messages again`);
      return all.slice(0, end);
    },
    revert: (sessionId, messageId, partId) =>
      call('revert session', (c, o) => c.session.revert({ sessionID: sessionId, ...home, messageID: messageId, ...(partId ? { partID: partId } : {}) }, o)),
    unrevert: (sessionId) => call('unrevert session', (c, o) => c.session.unrevert({ sessionID: sessionId, ...home }, o)),
    renameSession: (sessionId, title) => call('rename session', (c, o) => c.session.update({ sessionID: sessionId, ...home, title }, o)),
    deleteSession: (sessionId) => call('delete session', (c, o) => c.session.delete({ sessionID: sessionId, ...home }, o)),
    forkSession: (sessionId, messageId) => call('fork session', (c, o) => c.session.fork({ sessionID: sessionId, ...home, ...(messageId ? { messageID: messageId } : {}) }, o)),
    compact: (sessionId, model) => call('compact session', (c, o) => c.session.summarize({ sessionID: sessionId, ...home, ...model }, o)),
    prompt: async (sessionId, text, p = {}) => {
      const files = await fileParts(p.files ?? []);
      await call('prompt', (c, o) =>
        c.session.promptAsync(
          {
            sessionID: sessionId,
            ...home,
            parts: [{ type: 'text', text }, ...files],
            ...(p.messageId ? { messageID: p.messageId } : {}),
            ...(p.agent ? { agent: p.agent } : {}),
            ...(p.model ? { model: { providerID: p.model.providerId, modelID: p.model.modelId } } : {}),
            ...(p.variant ? { variant: p.variant } : {}),
          },
          o,
        ),
      );
    },
    async command(sessionId, command, args, p) {
      // No timeout: the route answers when the whole turn ended, and cutting it could end the turn.
      const running = clientFor('command').session.command(
        {
          sessionID: sessionId,
          ...home,
          command,
          arguments: args,
          messageID: p.messageId,
          ...(p.agent ? { agent: p.agent } : {}),
          ...(p.model ? { model: `${p.model.providerId}/${p.model.modelId}` } : {}),
          ...(p.variant ? { variant: p.variant } : {}),
        },
        { throwOnError: true },
      );
      let settled = false;
      const finished = running.then(
        () => {
          settled = true;
        },
        (err: unknown) => {
          settled = true;
          throw new Error(`command failed: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
        },
      );
      // Its later failure (a model error, an abort) reaches devices as the session's events.
      finished.catch((err: unknown) => log.debug('a command ended with an error', { sessionId, command, err }));
      const stored = (async () => {
        const deadline = Date.now() + requestTimeoutMs;
        while (!settled && Date.now() < deadline) {
          const messages = await call('list messages', (c, o) => c.session.messages({ sessionID: sessionId, ...home }, o)).catch(() => []);
          if (messages.some((m) => m.info.id === p.messageId)) return;
          await new Promise((r) => setTimeout(r, 150));
        }
        if (!settled) throw new Error(`command: the runtime did not start /${command} within ${requestTimeoutMs} ms`);
      })();
      await Promise.race([finished, stored]);
    },
    async choices(directory) {
      const scope = directory ? { directory } : home;
      const [agents, commands, providers, config] = await Promise.all([
        call('list agents', (c, o) => c.app.agents(scope, o)),
        call('list commands', (c, o) => c.command.list(scope, o)),
        call('list providers', (c, o) => c.config.providers(scope, o)),
        call('read config', (c, o) => c.config.get(scope, o)),
      ]);
      // Of the config only the two defaults leave the bridge: it also holds provider keys.
      return { agents, commands, providers, model: config.model, defaultAgent: config.default_agent };
    },
    providers: (directory) => call('list providers', (c, o) => c.config.providers({ directory }, o)),
    async vcs(directory) {
      const [info, files] = await Promise.all([
        call('read version control', (c, o) => c.vcs.get({ directory }, o)),
        call('list changed files', (c, o) => c.vcs.status({ directory }, o)),
      ]);
      return { info, files };
    },
    abort: (sessionId) => call('abort', (c, o) => c.session.abort({ sessionID: sessionId, ...home }, o)),
    listPermissions,
    connectedProviders: async () => (await call('list providers', (c, o) => c.provider.list(home, o))).connected,
    warmUp: async (directory) => void (await call('warm up', (c, o) => c.find.files({ directory, query: 'warm-up', limit: 1 }, o))),
    replyPermission: async (requestId, reply, message) => {
      if (reply !== 'once' && reply !== 'reject') throw new RangeError(`reply must be "once" or "reject", not ${JSON.stringify(reply)}`);
      const scope = await scopeOfRequest(requestId);
      await call('reply to permission', (c, o) => c.permission.reply({ requestID: requestId, ...scope, reply, ...(message !== undefined ? { message } : {}) }, o));
      requestScopes.delete(requestId);
    },
    listQuestions,
    replyQuestion: async (requestId, answers) => {
      const scope = await scopeOfQuestion(requestId);
      await call('answer question', (c, o) => c.question.reply({ requestID: requestId, ...scope, answers }, o));
      questionScopes.delete(requestId);
    },
    rejectQuestion: async (requestId) => {
      const scope = await scopeOfQuestion(requestId);
      await call('dismiss question', (c, o) => c.question.reject({ requestID: requestId, ...scope }, o));
      questionScopes.delete(requestId);
    },
    onEvent(listener) {
      listeners.add(listener);
      return () => void listeners.delete(listener);
    },
    subscribed() {
      if (closed) return Promise.reject(new Error('the runtime bridge is closed'));
      return allConnected() ? Promise.resolve() : new Promise((resolve, reject) => waiters.push({ resolve, reject }));
    },
    async close() {
      if (closed) return void (await loops);
      closed = true;
      cutStreams(false);
      listeners.clear();
      for (const w of waiters.splice(0)) w.reject(new Error('the runtime bridge was closed'));
      await loops;
    },
  };
}

/**
 * Per-workspace session lists as one, most recently updated first (OpenCode's own order); a
 * session listed twice (nested workspaces) is kept once.
 */
export function mergeSessions<T extends { id: string; time: { updated: number } }>(lists: readonly T[][]): T[] {
  const byId = new Map<string, T>();
  for (const list of lists) for (const s of list) if (!byId.has(s.id)) byId.set(s.id, s);
  return [...byId.values()].sort((a, b) => b.time.updated - a.time.updated);
}

/** What a message's place in the runtime's order is: its creation time, then its id. */
type MessagePlace = { id: string; time: { created: number } };

/**
 * The runtime's cursor for the messages before `at` (OpenCode 1.18's `before` on
 * `/session/{id}/message`): base64url of `{ id, time }`, the form its `X-Next-Cursor` takes.
 */
export function cursorBefore(at: MessagePlace): string {
  return Buffer.from(JSON.stringify({ id: at.id, time: at.time.created })).toString('base64url');
}

/**
 * Whether an answer to "the messages before `at`" holds `at` itself or a later message: a runtime
 * that ignores `before` answers the session's newest messages instead.
 */
export function ignoredBefore(answer: readonly { info: MessagePlace }[], at: MessagePlace): boolean {
  return answer.some(({ info }) => info.time.created > at.time.created || (info.time.created === at.time.created && info.id >= at.id));
}

function isType(raw: unknown, type: string): boolean {
  return typeOf(raw) === type;
}

function typeOf(raw: unknown): unknown {
  return raw && typeof raw === 'object' ? (raw as { type?: unknown }).type : undefined;
}

function describe(problem: unknown): string | undefined {
  if (problem === undefined) return undefined;
  return problem instanceof Error ? problem.message : String(problem);
}

/**
 * Attached files as OpenCode's file parts, inline as data: URLs: the bytes travel with the prompt,
 * so the runtime (and its permission rules) never reads the host's data directory.
 */
async function fileParts(files: readonly TurnFile[]): Promise<Array<{ type: 'file'; mime: string; filename: string; url: string }>> {
  return Promise.all(
    files.map(async (f) => ({ type: 'file' as const, mime: f.mime, filename: f.filename, url: `data:${f.mime};base64,${(await readFile(f.path)).toString('base64')}` })),
  );
}
