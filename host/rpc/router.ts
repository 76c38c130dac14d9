/**
 * Turns an approved device's requests into runtime calls. Only these calls exist: nothing here
 * reaches the runtime's shell, PTY or configuration routes. `task.submit` returns as soon as the
 * runtime accepted the prompt (progress arrives as events) and runs each `taskId` once, also
 * across host restarts (host/tasks/), so a device may resend a task it is unsure about; likewise a
 * `session.create` with a `key` makes one session per key (host/tasks/keyed-sessions.ts).
 * @module
 */
import { RelayError } from '../../shared/protocol/errors.ts';
import type { RuntimeStatus } from '../../shared/protocol/messages.ts';
import type { SessionsList } from '../../shared/protocol/sessions-list.ts';
import type { RoutedRequest, Router } from '../channel/connection.ts';
import type { Device } from '../devices/store.ts';
import type { Metrics } from '../metrics/metrics.ts';
import type { WorkspaceGate } from '../policy/workspaces.ts';
import type { KeyedSessions } from '../tasks/keyed-sessions.ts';
import type { TaskService } from '../tasks/service.ts';
import type { PermissionGrants } from './permissions.ts';
import type { QuestionDesk } from './questions.ts';

/** The runtime bridge's calls the router makes (host/runtime/bridge.ts fits). */
export interface RuntimeCalls {
  listSessions(): Promise<SessionsList>;
  messages(sessionId: string): Promise<unknown>;
  /** `title` undefined lets the runtime name the session from its first prompt. */
  createSession(title: string | undefined, directory?: string): Promise<unknown>;
  abort(sessionId: string): Promise<unknown>;
}

export interface RouterOptions {
  runtime: RuntimeCalls;
  tasks: Pick<TaskService, 'submit'>;
  /** `session.create` with a key. */
  sessions: KeyedSessions;
  permissions: PermissionGrants;
  /** The agent's questions. */
  questions: Pick<QuestionDesk, 'reply' | 'reject'>;
  /** The workspaces a session may be created in; the first is the default. */
  workspaces: () => string[];
  runtimeStatus: () => RuntimeStatus;
  /** Per-device workspaces (host/policy/workspaces.ts): asked before every runtime call. */
  gate: WorkspaceGate;
  /** The host's local metrics, for `metrics.get`. */
  metrics: Pick<Metrics, 'snapshot'>;
}

export function createRouter(opts: RouterOptions): Router {
  const { runtime, permissions, tasks } = opts;

  const workspaceFor = (requested: string | undefined): string | undefined => {
    const all = opts.workspaces();
    if (requested === undefined) return all[0];
    if (!all.includes(requested)) throw new RelayError('request.unknown', `${requested} is not one of this host's workspaces`);
    return requested;
  };

  return {
    async handle(request: RoutedRequest, device: Device) {
      // The host keeps its metrics itself: they are there while the runtime is not.
      if (request.t === 'metrics.get') return opts.metrics.snapshot();
      const status = opts.runtimeStatus();
      if (status.state !== 'ready') {
        throw new RelayError('runtime.not-ready', `the coding runtime is ${status.state}${status.error ? `: ${status.error}` : ''}; try again shortly`);
      }
      await opts.gate.check(request, device);
      switch (request.t) {
        case 'sessions.list': {
          const visible = opts.gate.visibleSessions(await runtime.listSessions(), device);
          // An app older than the `unavailable` list reads a plain list.
          return request.withUnavailable ? visible : visible.sessions;
        }
        case 'session.messages':
          return runtime.messages(request.sessionId);
        case 'session.create': {
          // A limited device's default is its own first workspace, not the host's.
          const directory = workspaceFor(request.workspace ?? opts.gate.allowed(device)[0]);
          if (request.key === undefined) return runtime.createSession(request.title, directory);
          const made = await opts.sessions.create({ deviceId: device.id, key: request.key, title: request.title, directory });
          // A session made earlier, perhaps before the device's workspaces were narrowed: may it still see it?
          if (made.repeated) await opts.gate.check({ t: 'session.messages', id: request.id, sessionId: made.sessionId }, device);
          return made.session;
        }
        case 'session.abort':
          await runtime.abort(request.sessionId);
          return {};
        case 'task.submit':
          return tasks.submit(request.taskId, request.sessionId, request.text);
        case 'permission.reply':
          await permissions.reply(request.requestId, request.reply, request.message);
          return {};
        case 'question.reply':
          await opts.questions.reply(request.requestId, request.answers);
          return {};
        case 'question.reject':
          await opts.questions.reject(request.requestId);
          return {};
      }
    },
  };
}
