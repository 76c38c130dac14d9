/**
 * Permission answers from devices, and the host's per-session grants. OpenCode's own "always"
 * lasts for the whole runtime process and every session, which is more than a tap on a phone
 * should grant, so a device's "session" answer becomes a grant the host keeps for that one
 * session: the runtime only ever hears "once" (or "reject"), and later requests the grant covers
 * are answered "once" by the host without bothering the device.
 * @module
 */
import type { Logger } from '../log.ts';
import type { PermissionReply } from '../../shared/protocol/messages.ts';
import type { PermissionAskedEvent, RelayRuntimeEvent } from '../../shared/protocol/runtime-events.ts';
import { RelayError } from '../../shared/protocol/errors.ts';

/** What this module needs of the runtime bridge. */
export interface PermissionRuntime {
  listPermissions(): Promise<ReadonlyArray<{ id: string; sessionID: string; permission: string; patterns: string[]; always: string[] }>>;
  replyPermission(requestId: string, reply: 'once' | 'reject', message?: string): Promise<void>;
}

export interface PermissionGrants {
  /**
   * Sees every runtime event first. Returns false for a `permission.asked` that a session grant
   * covers: the host answers it, and it should not be shown to devices.
   */
  observe(event: RelayRuntimeEvent): boolean;
  /** A device's answer. */
  reply(requestId: string, reply: PermissionReply, message?: string): Promise<void>;
  /** The patterns granted in a session, per permission kind (for tests and the admin page). */
  granted(sessionId: string): Record<string, string[]>;
}

interface Asked {
  sessionId: string;
  permission: string;
  patterns: string[];
  always: string[];
}

const MAX_OPEN_REQUESTS = 1000;

export function createPermissionGrants(runtime: PermissionRuntime, log: Logger): PermissionGrants {
  /** Requests the runtime asked and nobody answered yet. */
  const open = new Map<string, Asked>();
  /** sessionId → permission kind → granted patterns. */
  const grants = new Map<string, Map<string, Set<string>>>();

  const covers = (asked: Asked): boolean => {
    const patterns = grants.get(asked.sessionId)?.get(asked.permission);
    if (!patterns || asked.patterns.length === 0) return false;
    return asked.patterns.every((p) => [...patterns].some((g) => wildcardMatch(g, p)));
  };

  const find = async (requestId: string): Promise<Asked> => {
    const known = open.get(requestId);
    if (known) return known;
    // Asked before this host started listening (e.g. after a host restart): ask the runtime.
    const listed = (await runtime.listPermissions()).find((p) => p.id === requestId);
    if (!listed) throw new RelayError('request.unknown', `no permission request ${requestId} is waiting`);
    return { sessionId: listed.sessionID, permission: listed.permission, patterns: listed.patterns, always: listed.always };
  };

  return {
    observe(event) {
      if (event.type === 'permission.asked') {
        const asked = toAsked(event);
        if (covers(asked)) {
          log.info('answered a permission request from a session grant', { sessionId: asked.sessionId, permission: asked.permission });
          runtime.replyPermission(event.requestId, 'once').catch((err) => log.warn('could not answer a permission request from a session grant', { err }));
          return false;
        }
        open.set(event.requestId, asked);
        if (open.size > MAX_OPEN_REQUESTS) open.delete(open.keys().next().value as string);
      } else if (event.type === 'permission.replied') {
        open.delete(event.requestId);
      } else if (event.type === 'session.deleted') {
        grants.delete(event.sessionId);
      }
      return true;
    },
    async reply(requestId, reply, message) {
      if (reply === 'session') {
        const asked = await find(requestId);
        // OpenCode suggests what "always" should cover (e.g. `git log *` for `git log -5`); fall back to the exact patterns.
        const patterns = asked.always.length ? asked.always : asked.patterns;
        const session = grants.get(asked.sessionId) ?? new Map<string, Set<string>>();
        grants.set(asked.sessionId, session);
        const set = session.get(asked.permission) ?? new Set<string>();
        session.set(asked.permission, set);
        for (const p of patterns) set.add(p);
      }
      await runtime.replyPermission(requestId, reply === 'reject' ? 'reject' : 'once', message);
      open.delete(requestId);
    },
    granted(sessionId) {
      return Object.fromEntries([...(grants.get(sessionId) ?? [])].map(([k, v]) => [k, [...v]]));
    },
  };
}

function toAsked(e: PermissionAskedEvent): Asked {
  return { sessionId: e.sessionId, permission: e.permission, patterns: e.patterns, always: e.always };
}

/**
 * OpenCode's wildcard rules: `*` any run of characters, `?` one character, everything else
 * literal; a pattern ending in " *" also matches the bare command (`ls *` matches `ls`).
 */
export function wildcardMatch(pattern: string, text: string): boolean {
  let source = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  if (source.endsWith(' .*')) source = `${source.slice(0, -3)}( .*)?`;
  return new RegExp(`^${source}$`, 's').test(text);
}
