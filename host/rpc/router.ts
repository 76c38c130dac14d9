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
import { toComposerOptions, toSessionInfo, toSessionState, toSessionSummaries, toTranscript } from '../runtime/to-relay.ts';
import type { KeyedSessions } from '../tasks/keyed-sessions.ts';
import type { TaskService } from '../tasks/service.ts';
import type { PermissionGrants } from './permissions.ts';
import type { RuntimePort } from '../runtime/port.ts';

/** The runtime calls the router makes. */
export type RuntimeCalls = Pick<RuntimePort, 'listSessions' | 'getSession' | 'messages' | 'sessionStatus' | 'createSession' | 'abort' | 'choices'>;

export interface RouterOptions {
  runtime: RuntimeCalls;
  tasks: Pick<TaskService, 'submit'>;
  /** `session.create` with a key. */
  sessions: KeyedSessions;
  permissions: PermissionGrants;
  /** The workspaces a session may be created in; the first is the default. */
  workspaces: () => string[];
  runtimeStatus: () => RuntimeStatus;
  /** Per-device workspaces (host/policy/workspaces.ts): asked before every runtime call. */
  gate: WorkspaceGate;
  /** The host's local metrics, for `metrics.get`. */
  metrics: Pick<Metrics, 'snapshot'>;
  /** Told about runtime data that could not be mapped (and was left out). */
  log?: Pick<Logger, 'warn'>;
}

type Routed = Exclude<RequestType, 'ping'>;
/** One handler per request type; `ping` is answered by the connection itself. */
type Handlers = { [T in Routed]: (request: RequestOf<T>, device: Device) => Promise<ResultOf<T>> };

export function createRouter(opts: RouterOptions): Router {
  const { runtime, permissions, tasks, gate } = opts;
  const skipped = (what: string) => (err: unknown) => opts.log?.warn(`left out ${what} the relay could not read`, { err });

  const workspaceFor = (requested: string | undefined): string | undefined => {
    const all = opts.workspaces();
    if (requested === undefined) return all[0];
    if (!all.includes(requested)) throw new RelayError('request.unknown', `${requested} is not one of this host's workspaces`);
    return requested;
  };

  const handlers: Handlers = {
    // The host keeps its metrics itself: they are there while the runtime is not.
    'metrics.get': async () => opts.metrics.snapshot(),
    'sessions.list': async (_request, device) => {
      const visible = gate.visibleSessions(await runtime.listSessions(), device);
      const waiting = new Set(permissions.pending().map((p) => p.sessionId));
      return { sessions: toSessionSummaries(visible.sessions, waiting, skipped('a session')), unavailable: visible.unavailable };
    },
    'session.messages': async ({ sessionId }) => {
      const [messages, status] = await Promise.all([runtime.messages(sessionId), runtime.sessionStatus(sessionId)]);
      return toTranscript(sessionId, messages, toSessionState(status, 'session.status'), skipped('a message or part'));
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
    'session.abort': async ({ sessionId }) => {
      await runtime.abort(sessionId);
      return {};
    },
    'composer.options': async ({ sessionId }, device) => {
      // A session's own workspace (its commands folder, its opencode.json), else the device's first.
      const directory = sessionId !== undefined ? (await runtime.getSession(sessionId)).directory : workspaceFor(gate.allowed(device)[0]);
      return toComposerOptions(await runtime.choices(directory), skipped('an agent, model or command'));
    },
    'task.submit': ({ taskId, sessionId, text, agent, model, variant, command }) =>
      tasks.submit(taskId, sessionId, text, defined({ agent, model, variant, command })),
    'permission.reply': async ({ requestId, reply, message }) => {
      await permissions.reply(requestId, reply, message);
      return {};
    },
  };

  return {
    async handle(request: RoutedRequest, device: Device) {
      if (request.t !== 'metrics.get') {
        const status = opts.runtimeStatus();
        if (status.state !== 'ready') {
          throw new RelayError('runtime.not-ready', `the coding runtime is ${status.state}${status.error ? `: ${status.error}` : ''}; try again shortly`);
        }
        await gate.check(request, device);
      }
      // The request's type picks its handler; TypeScript cannot follow that through the union.
      const handle = handlers[request.t] as (r: RoutedRequest, d: Device) => Promise<unknown>;
      return handle(request, device);
    },
  };
}
