/**
 * Turns an approved device's requests into runtime calls: one handler per request of the protocol
 * registry (shared/protocol/requests.ts), typed by it, so a request without a handler does not
 * compile. Only these calls exist: nothing here reaches the runtime's shell, PTY or configuration
 * routes. What the runtime answers is mapped into the relay's own shapes (host/runtime/to-relay.ts)
 * before it leaves. `task.submit` returns as soon as the runtime accepted the prompt (progress
 * arrives as events) and runs each `taskId` once, also across host restarts (host/tasks/), so a
 * device may resend a task it is unsure about; likewise a `session.create` with a `key` makes one
 * session per key (host/tasks/keyed-sessions.ts).
 * @module
 */
import { RelayError } from '../../shared/protocol/errors.ts';
import { defined } from '../../shared/protocol/guard.ts';
import type { RequestOf, RequestType, ResultOf, RuntimeStatus } from '../../shared/protocol/messages.ts';
import type { RoutedRequest, Router } from './request.ts';
import type { Device } from '../devices/store.ts';
import type { Logger } from '../log.ts';
import type { Metrics } from '../metrics/metrics.ts';
import type { WorkspaceGate } from '../policy/workspaces.ts';
import type { Interruptions } from '../tasks/interruptions.ts';
import type { Interruption } from '../tasks/ledger.ts';
import type { Interruption as TurnInterruption, Transcript } from '../../shared/protocol/transcript.ts';
import { readWorkspaceFile } from '../policy/workspace-files.ts';
import {
  lastModel,
  toComposerOptions,
  toSessionChanges,
  toSessionInfo,
  toSessionState,
  toSessionSummaries,
  toSessionUsage,
  toTranscript,
  toVcsStatus,
} from '../runtime/to-relay.ts';
import type { KeyedSessions } from '../tasks/keyed-sessions.ts';
import { createLastMessages } from './last-messages.ts';
import { createPictures } from './pictures.ts';
import type { TaskService } from '../tasks/service.ts';
import type { PermissionGrants } from './permissions.ts';
import type { QuestionDesk } from './questions.ts';
import type { RuntimePort } from '../runtime/port.ts';
import type { PushService } from '../push/service.ts';
import type { AttachmentStore } from '../attachments/store.ts';

/** The runtime calls the router makes. */
export type RuntimeCalls = Pick<
  RuntimePort,
  | 'listSessions'
  | 'getSession'
  | 'messages'
  | 'sessionStatus'
  | 'createSession'
  | 'abort'
  | 'choices'
  | 'revert'
  | 'unrevert'
  | 'renameSession'
  | 'forkSession'
  | 'deleteSession'
  | 'compact'
  | 'providers'
  | 'vcs'
>;

/** Sessions per `sessions.list` page. */
export const SESSIONS_PAGE = 100;

export interface RouterOptions {
  runtime: RuntimeCalls;
  tasks: Pick<TaskService, 'submit'>;
  /** `session.create` with a key. */
  sessions: KeyedSessions;
  permissions: PermissionGrants;
  /** The agent's questions. */
  questions: Pick<QuestionDesk, 'reply' | 'reject' | 'pending'>;
  /** The workspaces a session may be created in; the first is the default. */
  workspaces: () => string[];
  runtimeStatus: () => RuntimeStatus;
  /** Per-device workspaces (host/policy/workspaces.ts): asked before every runtime call. */
  gate: WorkspaceGate;
  /** The host's local metrics, for `metrics.get`. */
  metrics: Pick<Metrics, 'snapshot'>;
  /** Turns cut short by a restart: part of a session's state, and what Stop ends when nothing runs. */
  interruptions: Pick<Interruptions, 'inspect' | 'of' | 'history' | 'stop'>;
  /** Files devices attach to tasks (`attachment.put`, `task.submit`'s `attachments`). */
  attachments: Pick<AttachmentStore, 'put' | 'files'>;
  /** Notifications (`push.*`, `app.visibility`); absent: the host offers none. */
  push?: PushService;
  /** Told about runtime data that could not be mapped (and was left out). */
  log?: Pick<Logger, 'warn'>;
}

type Routed = Exclude<RequestType, 'ping'>;
/** One handler per request type; `ping` is answered by the connection itself. */
type Handlers = { [T in Routed]: (request: RequestOf<T>, device: Device, connection?: object) => Promise<ResultOf<T>> };

/** Requests the host answers itself: they work while the runtime is down and name no workspace. */
const HOST_ONLY = new Set<RequestType>(['metrics.get', 'attachment.put', 'push.status', 'push.subscribe', 'push.settings', 'push.unsubscribe', 'app.visibility']);

export function createRouter(opts: RouterOptions): Router {
  const { runtime, permissions, tasks, gate } = opts;
  const skipped = (what: string) => (err: unknown) => opts.log?.warn(`left out ${what} the relay could not read`, { err });
  const pictures = createPictures({ messages: (sessionId) => runtime.messages(sessionId) });
  const lastMessages = createLastMessages({ messages: (sessionId, limit) => runtime.messages(sessionId, limit), skipped: skipped('the last message of a session') });

  /** Revert, unrevert and compact rewrite the session under a running turn: refused until it is idle. */
  const whenIdle = async (sessionId: string, what: string) => {
    const state = toSessionState(await runtime.sessionStatus(sessionId), 'session.status');
    if (state.status !== 'idle') throw new RelayError('session.busy', `the session is running: ${what} once it has finished, or stop it first`);
  };

  const workspaceFor = (requested: string | undefined): string | undefined => {
    const all = opts.workspaces();
    if (requested === undefined) return all[0];
    if (!all.includes(requested)) throw new RelayError('request.unknown', `${requested} is not one of this host's workspaces`);
    return requested;
  };

  const push = () => {
    if (!opts.push) throw new RelayError('request.unknown', 'this host does not send notifications');
    return opts.push;
  };

  const handlers: Handlers = {
    // The host keeps its metrics itself: they are there while the runtime is not.
    'metrics.get': async () => opts.metrics.snapshot(),
    'sessions.list': async ({ cursor, search }, device) => {
      // The runtime pages by count only: each workspace lists up to the end of this page (and one
      // more, to tell whether another page follows); the cursor is where the page starts in the
      // device's merged list. A session that became newest in between shifts the pages by one:
      // the device keeps each session once.
      const from = cursor === undefined ? 0 : Number(cursor);
      const listed = await runtime.listSessions({ limit: from + SESSIONS_PAGE + 1, ...(search === undefined ? {} : { search }) });
      const visible = gate.visibleSessions(listed, device);
      // A session waits for the person while a permission request or a question of its agent does.
      const waiting = new Set([...permissions.pending(), ...opts.questions.pending()].map((p) => p.sessionId));
      const page = visible.sessions.slice(from, from + SESSIONS_PAGE);
      const more = visible.sessions.length > from + SESSIONS_PAGE;
      return {
        sessions: await lastMessages.add(
          toSessionSummaries(page, waiting, skipped('a session')).map((s) => {
            const interrupted = s.state.status === 'idle' ? opts.interruptions.of(s.sessionId) : undefined;
            return interrupted ? { ...s, interrupted: turnOf(interrupted) } : s;
          }),
        ),
        unavailable: visible.unavailable,
        ...(more ? { next: String(from + SESSIONS_PAGE) } : {}),
      };
    },
    'session.messages': async ({ sessionId, limit, before }) => {
      // A page comes from the runtime's own paging (one message more, to know whether earlier ones
      // exist), not from the whole session. Without a limit, `before` changes nothing: every message.
      const [messages, status] = await Promise.all([
        limit === undefined ? runtime.messages(sessionId) : runtime.messages(sessionId, limit + 1, before),
        runtime.sessionStatus(sessionId),
      ]);
      const transcript = toTranscript(sessionId, messages, toSessionState(status, 'session.status'), skipped('a message or part'));
      // Turns cut short concern the newest messages: an earlier page says nothing of them.
      if (before !== undefined) return limit === undefined ? transcript : pageOf(transcript, limit);
      const interrupted = await opts.interruptions.inspect(sessionId, messages, status);
      const history = opts.interruptions.history(sessionId);
      return {
        ...(limit === undefined ? transcript : pageOf(transcript, limit)),
        ...(interrupted ? { interrupted: turnOf(interrupted) } : {}),
        ...(history.length ? { interruptions: history.map(turnOf) } : {}),
      };
    },
    'session.create': async (request, device) => {
      // A limited device's default is its own first workspace, not the host's.
      const directory = workspaceFor(request.workspace ?? gate.allowed(device)[0]);
      if (request.key === undefined) return toSessionInfo(await runtime.createSession(request.title, directory));
      const made = await opts.sessions.create({ deviceId: device.id, key: request.key, title: request.title, directory });
      // A session made earlier, perhaps before the device's workspaces were narrowed: may it still see it?
      if (made.repeated) await gate.check({ t: 'session.messages', id: request.id, sessionId: made.sessionId }, device);
      return toSessionInfo(made.session);
    },
    'session.abort': ({ sessionId }) => opts.interruptions.stop(sessionId),
    // Runtime 1.18's whole-session diff route answers empty; each turn's diff is kept with its user message.
    'session.diff': async ({ sessionId, messageId }) => ({ files: toSessionChanges(await runtime.messages(sessionId), messageId, skipped('a changed file')) }),
    'file.read': async ({ path, workspace }, device) => readWorkspaceFile(path, { workspaces: gate.allowed(device), base: workspace }),
    'session.revert': async ({ sessionId, messageId, partId }) => {
      await whenIdle(sessionId, 'revert it');
      return toSessionInfo(await runtime.revert(sessionId, messageId, partId));
    },
    'session.unrevert': async ({ sessionId }) => {
      await whenIdle(sessionId, 'undo the revert');
      return toSessionInfo(await runtime.unrevert(sessionId));
    },
    'session.rename': async ({ sessionId, title }) => toSessionInfo(await runtime.renameSession(sessionId, title)),
    'session.delete': async ({ sessionId }) => {
      await runtime.deleteSession(sessionId);
      return {};
    },
    'session.fork': async ({ sessionId, messageId }) => toSessionInfo(await runtime.forkSession(sessionId, messageId)),
    'session.compact': async ({ sessionId }) => {
      await whenIdle(sessionId, 'compact it');
      // The runtime asks which model writes the summary: the one the session last used.
      const model = lastModel(await runtime.messages(sessionId));
      if (!model) throw new RelayError('request.unknown', 'the session has no turn to compact yet');
      await runtime.compact(sessionId, model);
      return {};
    },
    'session.usage': async ({ sessionId }) => {
      // The providers of the session's own workspace: its opencode.json may define the model.
      const [messages, { directory }] = await Promise.all([runtime.messages(sessionId), runtime.getSession(sessionId)]);
      return toSessionUsage(messages, await runtime.providers(directory), skipped('a reply'));
    },
    'workspace.vcs': async ({ sessionId, workspace }, device) => {
      const directory = sessionId !== undefined ? (await runtime.getSession(sessionId)).directory : workspaceFor(workspace ?? gate.allowed(device)[0]);
      if (directory === undefined) throw new RelayError('request.unknown', 'this host has no workspace');
      const { info, files } = await runtime.vcs(directory);
      return toVcsStatus(directory, info, files, skipped('a changed file'));
    },
    'composer.options': async ({ sessionId }, device) => {
      // A session's own workspace (its commands folder, its opencode.json), else the device's first.
      const directory = sessionId !== undefined ? (await runtime.getSession(sessionId)).directory : workspaceFor(gate.allowed(device)[0]);
      return toComposerOptions(await runtime.choices(directory), skipped('an agent, model or command'));
    },
    // The picture is in the prompt the runtime stored: read from there, never from a path on disk.
    'attachment.get': (request) => pictures.chunk(request),
    // Kept while the phone was offline, a task's files go to the host first, then the task names them.
    'attachment.put': (chunk, device) => opts.attachments.put(device.id, chunk),
    'task.submit': ({ taskId, sessionId, text, agent, model, variant, command, attachments }, device) => {
      if (command !== undefined && attachments?.length) throw new RelayError('request.unknown', 'a command takes no attached files; send them with a prompt');
      const files = attachments?.length ? opts.attachments.files(device.id, attachments) : undefined;
      return tasks.submit(taskId, sessionId, text, defined({ agent, model, variant, command, files }));
    },
    'permission.reply': async ({ requestId, reply, message }) => {
      await permissions.reply(requestId, reply, message);
      return {};
    },
    'question.reply': async ({ requestId, answers }) => {
      await opts.questions.reply(requestId, answers);
      return {};
    },
    'question.reject': async ({ requestId }) => {
      await opts.questions.reject(requestId);
      return {};
    },
    'push.status': async (_request, device) => push().status(device),
    'push.subscribe': async ({ subscription, kinds, private: hidden }, device) => push().subscribe(device, subscription, { kinds, private: hidden }),
    'push.settings': async ({ kinds, private: hidden }, device) => push().settings(device, { kinds, private: hidden }),
    'push.unsubscribe': async (_request, device) => {
      push().unsubscribe(device);
      return {};
    },
    'app.visibility': async ({ visible }, device, connection) => {
      if (connection) opts.push?.setVisible(connection, device.id, visible);
      return {};
    },
  };

  return {
    async handle(request: RoutedRequest, device: Device, connection?: object) {
      if (!HOST_ONLY.has(request.t)) {
        const status = opts.runtimeStatus();
        if (status.state !== 'ready') {
          throw new RelayError('runtime.not-ready', `the coding runtime is ${status.state}${status.error ? `: ${status.error}` : ''}; try again shortly`);
        }
        await gate.check(request, device);
      }
      // The request's type picks its handler; TypeScript cannot follow that through the union.
      const handle = handlers[request.t] as (r: RoutedRequest, d: Device, c?: object) => Promise<unknown>;
      return handle(request, device, connection);
    },
    disconnected: (connection) => opts.push?.disconnected(connection),
  };
}

/** Bytes of messages in one `session.messages` page: well inside the 4 MiB a message may carry. */
const PAGE_BYTES = 2 * 1024 * 1024;

/**
 * The last `limit` messages of a transcript, fewer when they would pass PAGE_BYTES (always at
 * least one), with `more` when earlier ones exist.
 */
function pageOf(transcript: Transcript, limit: number): Transcript {
  const all = transcript.messages;
  const end = all.length;
  let start = end;
  let bytes = 0;
  while (start > 0 && end - start < limit) {
    const size = JSON.stringify(all[start - 1]).length;
    if (start < end && bytes + size > PAGE_BYTES) break;
    bytes += size;
    start--;
  }
  const { more: _more, ...rest } = transcript;
  return { ...rest, messages: all.slice(start, end), ...(start > 0 ? { more: true } : {}) };
}

/** A recorded interruption as devices see it (its session is the summary's or transcript's). */
function turnOf({ sessionId: _s, ...turn }: Interruption): TurnInterruption {
  return turn;
}
