/**
 * Permission answers from devices, and the host's per-session grants. OpenCode's own "always"
 * lasts for the whole runtime process and every session, which is more than a tap on a phone
 * should grant, so a device's "session" answer becomes a grant the host keeps for that one
 * session: the runtime only ever hears "once" (or "reject"), and later requests the grant covers
 * are answered "once" by the host without bothering the device.
 *
 * The host also keeps its own record of waiting requests: OpenCode forgets them when it restarts,
 * so a request the runtime lost is shown to devices as expired, with the reason, and an answer
 * to it is refused instead of being reported as delivered. A request whose workspace did not
 * answer the runtime's list is not lost: it stays waiting (see host/runtime/permissions-list.ts).
 * @module
 */
import type { Logger } from '../log.ts';
import type { PermissionReply } from '../../shared/protocol/messages.ts';
import type { ExpiryReason, PermissionAskedEvent, PermissionExpiredEvent, PermissionExpiry, RelayRuntimeEvent } from '../../shared/protocol/runtime-events.ts';
import { RelayError } from '../../shared/protocol/errors.ts';
import { trimOldest } from '../../shared/bounded.ts';
import { requestIn, unseenError, type PermissionsList } from '../runtime/permissions-list.ts';
import type { ListedPermission, RuntimePort } from '../runtime/port.ts';
import { toPermissionAsked } from '../runtime/to-relay.ts';

/** What this module needs of the runtime. */
export type PermissionRuntime = Pick<RuntimePort, 'listPermissions' | 'replyPermission'>;

/** Events this module makes for devices: requests found in the runtime's list, and expired ones. */
export type PermissionNotice = PermissionAskedEvent | PermissionExpiredEvent;

export interface PermissionGrants {
  /**
   * Sees every runtime event first. Returns false for a `permission.asked` that a session grant
   * covers: the host answers it, and it should not be shown to devices.
   */
  observe(event: RelayRuntimeEvent): boolean;
  /**
   * A device's answer. Resolves only once the runtime took it; a request the runtime no longer
   * has is refused with `permission.expired` (or `request.unknown` when the host never saw it);
   * one in a workspace that did not answer with `runtime.error`, and it keeps waiting.
   */
  reply(requestId: string, reply: PermissionReply, message?: string): Promise<void>;
  /** The patterns granted in a session, per permission kind (for tests and the admin page). */
  granted(sessionId: string): Record<string, string[]>;
  /** Requests waiting for an answer, oldest first, as devices were shown them. */
  pending(): PermissionAskedEvent[];
  /**
   * Compares the host's record with the runtime's list (after the runtime (re)started or the
   * event stream came back): requests the runtime lost expire with `reason` (and `detail`, what
   * happened to the runtime, for a person), requests it has that the host never saw are announced.
   * Both go to `publish`. A request of a workspace that did not answer is left as it is.
   */
  sync(reason: ExpiryReason, detail?: string): Promise<void>;
}

interface Asked {
  event: PermissionAskedEvent;
  /** Observation order: sync only expires what was asked before it looked. */
  order: number;
}

/** Bounds for the host's records, so a runtime that never answers cannot grow them without end. */
const MAX_OPEN_REQUESTS = 1000;
const MAX_CLOSED_REMEMBERED = 1000;

export function createPermissionGrants(runtime: PermissionRuntime, log: Logger, publish: (event: PermissionNotice) => void = () => {}): PermissionGrants {
  /** Requests the runtime asked and nobody answered yet. */
  const open = new Map<string, Asked>();
  /** requestId → why and when it expired. */
  const expired = new Map<string, PermissionExpiry>();
  /** Requests answered through this host (or being answered right now). */
  const answered = new Set<string>();
  /** sessionId → permission kind → granted patterns. */
  const grants = new Map<string, Map<string, Set<string>>>();
  let order = 0;

  const covers = (asked: PermissionAskedEvent): boolean => {
    const patterns = grants.get(asked.sessionId)?.get(asked.permission);
    if (!patterns || asked.patterns.length === 0) return false;
    return asked.patterns.every((p) => [...patterns].some((g) => wildcardMatch(g, p)));
  };

  const grant = (asked: PermissionAskedEvent) => {
    // OpenCode suggests what "always" should cover (e.g. `git log *` for `git log -5`); fall back to the exact patterns.
    const patterns = asked.always.length ? asked.always : asked.patterns;
    const session = grants.get(asked.sessionId) ?? new Map<string, Set<string>>();
    grants.set(asked.sessionId, session);
    const set = session.get(asked.permission) ?? new Set<string>();
    session.set(asked.permission, set);
    for (const p of patterns) set.add(p);
  };

  const expire = (requestId: string, asked: PermissionAskedEvent, reason: ExpiryReason, detail?: string): PermissionExpiry => {
    const expiry: PermissionExpiry = { reason, at: Date.now(), ...(detail ? { detail } : {}) };
    open.delete(requestId);
    expired.set(requestId, expiry);
    trimOldest(expired, MAX_CLOSED_REMEMBERED);
    log.info('a permission request expired', { requestId, sessionId: asked.sessionId, reason, detail });
    publish({ type: 'permission.expired', requestId, sessionId: asked.sessionId, ...expiry });
    return expiry;
  };

  const expiredError = (requestId: string, expiry: PermissionExpiry) =>
    new RelayError('permission.expired', `permission request ${requestId} expired (${expiry.reason}); the answer was not delivered`, expiry);

  /** The runtime does not have `requestId` (any more): the error to answer with. */
  const gone = (requestId: string): RelayError => {
    const asked = open.get(requestId);
    if (asked) return expiredError(requestId, expire(requestId, asked.event, 'withdrawn'));
    const why = expired.get(requestId);
    if (why !== undefined) return expiredError(requestId, why);
    if (answered.has(requestId)) return new RelayError('request.unknown', `permission request ${requestId} was answered already`);
    return new RelayError('request.unknown', `no permission request ${requestId} is waiting`);
  };

  const observe = (event: RelayRuntimeEvent): boolean => {
    if (event.type === 'permission.asked') {
      if (covers(event)) {
        log.info('answered a permission request from a session grant', { sessionId: event.sessionId, permission: event.permission });
        runtime.replyPermission(event.requestId, 'once').catch((err) => log.warn('could not answer a permission request from a session grant', { err }));
        return false;
      }
      open.set(event.requestId, { event, order: ++order });
      trimOldest(open, MAX_OPEN_REQUESTS);
    } else if (event.type === 'permission.replied') {
      open.delete(event.requestId);
      answered.add(event.requestId);
      trimOldest(answered, MAX_CLOSED_REMEMBERED);
    } else if (event.type === 'session.deleted') {
      grants.delete(event.sessionId);
    }
    return true;
  };

  return {
    observe,
    async reply(requestId, reply, message) {
      const why = expired.get(requestId);
      if (why !== undefined) throw expiredError(requestId, why);
      // OpenCode may answer success to a reply for a request it no longer has: ask it first.
      const list = await runtime.listPermissions();
      const request = requestIn(list, requestId);
      // Its workspace did not answer: refused, not passed on. That runtime instance would hardly
      // take the reply, and one that answered success for a request it lost would make the host
      // report an answer delivered that was not. The request keeps waiting (neither expired nor
      // marked answered): the device may answer again, and the host's timeout still covers it.
      if (request === 'unseen') throw unseenError(requestId, list);
      if (!request || answered.has(requestId)) throw gone(requestId);
      answered.add(requestId);
      trimOldest(answered, MAX_CLOSED_REMEMBERED);
      try {
        await runtime.replyPermission(requestId, reply === 'reject' ? 'reject' : 'once', message);
      } catch (err) {
        answered.delete(requestId);
        const still = await runtime.listPermissions().then(
          (l) => requestIn(l, requestId) !== undefined,
          () => true,
        );
        throw still ? err : gone(requestId);
      }
      if (reply === 'session') grant(open.get(requestId)?.event ?? toPermissionAsked(request));
      open.delete(requestId);
    },
    granted(sessionId) {
      return Object.fromEntries([...(grants.get(sessionId) ?? [])].map(([k, v]) => [k, [...v]]));
    },
    pending: () => [...open.values()].map((a) => a.event),
    async sync(reason, detail) {
      const before = order;
      let list: PermissionsList<ListedPermission>;
      try {
        list = await runtime.listPermissions();
      } catch (err) {
        log.warn('could not compare pending permission requests with the runtime', { err });
        return;
      }
      // Unseen requests may still wait: only a workspace that answered can show one is gone.
      const present = new Set([...list.requests.map((p) => p.id), ...list.unseen]);
      for (const [id, asked] of [...open]) if (asked.order <= before && !present.has(id)) expire(id, asked.event, reason, detail);
      for (const p of list.requests) {
        if (open.has(p.id) || expired.has(p.id) || answered.has(p.id)) continue;
        const asked = toPermissionAsked(p);
        if (observe(asked)) publish(asked);
      }
    },
  };
}

/**
 * OpenCode's wildcard rules: `*` any run of characters, `?` one character, everything else
 * literal; a pattern ending in " *" also matches the bare command (`ls *` matches `ls`).
 */
export function wildcardMatch(pattern: string, text: string): boolean {
  let source = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  if (source.endsWith(' .*')) source = `${source.slice(0, -3)}( .*)?`;
  return new RegExp(`^${source}$`, 's').test(text);
}
