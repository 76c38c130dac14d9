/**
 * Per-device workspaces: a device whose `devices.json` entry has `workspaces` may only create
 * sessions in those, see their sessions and events, and act on them; without the field it may use
 * every workspace of the host. The router asks `check` before each request, filters
 * `sessions.list` (its sessions and its unavailable workspaces) with `visibleSessions`, and the
 * event hub asks `allowsEvent`.
 *
 * A request names a session or a permission request, not a directory, so the gate reads which
 * directory each session belongs to from the host's index of runtime facts (host/runtime/facts.ts,
 * fed by the runtime's events) and, when that does not hold it, asks the runtime (a session's
 * directory never changes).
 * @module
 */
import { sep } from 'node:path';
import { RelayError } from '../../shared/protocol/errors.ts';
import type { SessionsList } from '../../shared/protocol/sessions-list.ts';
import { requestIn, unseenError, type PermissionsList } from '../runtime/permissions-list.ts';
import type { RuntimeFacts } from '../runtime/facts.ts';
import type { RuntimePort } from '../runtime/port.ts';
import type { RoutedRequest } from '../rpc/request.ts';
import type { Device } from '../devices/store.ts';

export type GateRuntime = Pick<RuntimePort, 'getSession' | 'listPermissions' | 'listQuestions'>;

export interface WorkspaceGate {
  /** The workspaces `device` may use, in the host's order. */
  allowed(device: Pick<Device, 'workspaces'>): string[];
  /** Refuses with `scope.denied` a request about a workspace the device may not use. */
  check(request: RoutedRequest, device: Pick<Device, 'workspaces'>): Promise<void>;
  /** The sessions of a `sessions.list` answer the device may see, and the unavailable workspaces it may use. */
  visibleSessions<S>(listed: SessionsList<S>, device: Pick<Device, 'workspaces'>): SessionsList<S>;
  /** Whether an event may go to the device: events of unknown sessions are withheld from limited devices. */
  allowsEvent(event: Readonly<Record<string, unknown>>, device: Pick<Device, 'workspaces'>): boolean;
}

export function createWorkspaceGate(opts: { runtime: GateRuntime; facts: RuntimeFacts; workspaces: () => string[] }): WorkspaceGate {
  const { facts } = opts;

  const allowed = (device: Pick<Device, 'workspaces'>) => {
    const all = opts.workspaces();
    return device.workspaces ? all.filter((w) => device.workspaces!.includes(w)) : all;
  };
  const limited = (device: Pick<Device, 'workspaces'>) => device.workspaces !== undefined && opts.workspaces().some((w) => !device.workspaces!.includes(w));
  const inside = (directory: string, workspaces: string[]) => workspaces.some((w) => directory === w || directory.startsWith(w.endsWith(sep) ? w : w + sep));

  const directoryOf = async (sessionId: string): Promise<string> => {
    const known = facts.directoryOf(sessionId);
    if (known !== undefined) return known;
    const { directory } = await opts.runtime.getSession(sessionId);
    facts.learnDirectory(sessionId, directory);
    return directory;
  };
  const sessionOfRequest = async (requestId: string, what: 'permission request' | 'question' = 'permission request'): Promise<string> => {
    const known = facts.sessionOfRequest(requestId);
    if (known !== undefined) return known;
    const list: PermissionsList<{ id: string; sessionID: string }> = await (what === 'question' ? opts.runtime.listQuestions() : opts.runtime.listPermissions());
    const listed = requestIn(list, requestId);
    // Its session, so its workspace, cannot be told: refused (a limited device gets nothing it may not have).
    if (listed === 'unseen') throw unseenError(requestId, list, what);
    if (!listed) throw new RelayError('request.unknown', `no ${what} ${requestId} is waiting`);
    return listed.sessionID;
  };
  const refuse = (what: string): never => {
    throw new RelayError('scope.denied', `this device may not use ${what}; the host can allow it with npm start -- devices workspaces`);
  };

  return {
    allowed,
    async check(request, device) {
      if (!limited(device)) return;
      const mine = allowed(device);
      switch (request.t) {
        case 'sessions.list':
        // The file's path is checked against the device's own workspaces when it is read (host/policy/workspace-files.ts).
        case 'file.read':
          return;
        case 'session.create':
          if (request.workspace !== undefined && !mine.includes(request.workspace)) refuse(`the workspace ${request.workspace}`);
          if (request.workspace === undefined && mine.length === 0) refuse('any workspace of this host');
          return;
        case 'session.messages':
        case 'session.abort':
        case 'session.diff':
        case 'session.revert':
        case 'session.unrevert':
        case 'session.rename':
        case 'session.delete':
        case 'session.fork':
        case 'session.compact':
        case 'session.usage':
        case 'attachment.get':
        case 'task.submit':
          if (!inside(await directoryOf(request.sessionId), mine)) refuse('the workspace of that session');
          return;
        case 'workspace.vcs':
          if (request.sessionId !== undefined) {
            if (!inside(await directoryOf(request.sessionId), mine)) refuse('the workspace of that session');
          } else if (request.workspace !== undefined) {
            if (!mine.includes(request.workspace)) refuse(`the workspace ${request.workspace}`);
          } else if (mine.length === 0) refuse('any workspace of this host');
          return;
        case 'composer.options':
          if (request.sessionId === undefined) {
            if (mine.length === 0) refuse('any workspace of this host');
          } else if (!inside(await directoryOf(request.sessionId), mine)) refuse('the workspace of that session');
          return;
        case 'permission.reply':
          if (!inside(await directoryOf(await sessionOfRequest(request.requestId)), mine)) refuse('the workspace of that session');
          return;
        case 'question.reply':
        case 'question.reject':
          if (!inside(await directoryOf(await sessionOfRequest(request.requestId, 'question')), mine)) refuse('the workspace of that session');
          return;
      }
    },
    visibleSessions(listed, device) {
      const directoryIn = (s: unknown) => {
        const { id, directory } = (s ?? {}) as { id?: unknown; directory?: unknown };
        return typeof id === 'string' && typeof directory === 'string' ? { id, directory } : undefined;
      };
      // A listed session's events may then reach limited devices without a lookup.
      for (const s of listed.sessions) {
        const known = directoryIn(s);
        if (known) facts.learnDirectory(known.id, known.directory);
      }
      if (!limited(device)) return listed;
      const mine = allowed(device);
      return {
        sessions: listed.sessions.filter((s) => {
          const known = directoryIn(s);
          return known !== undefined && inside(known.directory, mine);
        }),
        // Even a workspace's name is not for a device that may not use it.
        unavailable: listed.unavailable.filter((u) => inside(u.workspace, mine)),
      };
    },
    allowsEvent(event, device) {
      if (!limited(device)) return true;
      const sessionId = event.sessionId;
      // Host-wide news (the runtime reconnected, …) is about no workspace in particular.
      if (typeof sessionId !== 'string') return true;
      const directory = typeof event.directory === 'string' ? event.directory : facts.directoryOf(sessionId);
      return directory !== undefined && inside(directory, allowed(device));
    },
  };
}
