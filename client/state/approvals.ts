/**
 * The requests for approval the computer in use waits for, and those that expired before they
 * were answered (shown, with why, until the person dismisses them).
 * @module
 */
import { batch, createSignal, type Accessor } from 'solid-js';
import type { PermissionReply, Resync } from '../../shared/protocol/messages.ts';
import { RequestError } from '../../shared/channel/errors.ts';
import type { PermissionAskedEvent, PermissionExpiry } from '../../shared/protocol/runtime-events.ts';
import { errorCode } from '../net/explain.ts';
import type { HostLink } from '../net/host-link.ts';

/** A request the host says can no longer be answered (the runtime restarted, or withdrew it). */
export interface ExpiredPermission {
  request: PermissionAskedEvent;
  /** Why, for a person (from the host's code, `describeExpiry`). */
  reason: string;
  /** The host denied it because nobody answered in time (not: the runtime lost it). */
  timedOut?: boolean;
}

/** Why a request (or, `noun`, a question) expired, in words; undefined `expiry`: the host did not say. */
export function describeExpiry(expiry: PermissionExpiry | undefined, noun = 'request'): string {
  if (expiry?.reason === 'runtime-restarted') return `the OpenCode runtime restarted${expiry.detail ? ` (${expiry.detail})` : ''} and no longer has this ${noun}`;
  if (expiry?.reason === 'withdrawn') return `the runtime no longer has this ${noun}`;
  return `your computer no longer has this ${noun}`;
}

export interface ApprovalsDeps {
  request: HostLink['request'];
  /** Shows the diff a request carries on its tool call in the open timeline. */
  attachDiff(request: PermissionAskedEvent): void;
}

export interface Approvals {
  /** Approvals the computer in use waits for, oldest first. */
  readonly permissions: Accessor<readonly PermissionAskedEvent[]>;
  /** Requests that expired before they were answered, shown until the person dismisses them. */
  readonly expired: Accessor<readonly ExpiredPermission[]>;
  /** Whether a request of `sessionId` waits for an answer. */
  waiting(sessionId: string): boolean;
  asked(request: PermissionAskedEvent): void;
  /** The request was answered (here or elsewhere). */
  drop(requestId: string): void;
  /** Requests of a finished turn cannot be answered any more. */
  sessionEnded(sessionId: string): void;
  /** Moves a waiting request to the expired ones, with why; one this phone never showed is ignored. */
  /** `timeout`: the host's timeout denied it, as nobody answered in time. */
  expire(requestId: string, expiry: PermissionExpiry | 'timeout' | undefined): void;
  /** Takes the host's list of waiting requests (in a resync) as the truth. */
  resync(permissions: Resync['permissions']): void;
  /**
   * Answers a waiting request. Rejects (code `permission.expired`) when the host says it expired,
   * and without asking the host when it is already known to have expired.
   */
  reply(request: PermissionAskedEvent, reply: PermissionReply, message?: string): Promise<void>;
  dismissExpired(requestId: string): void;
  /** Forgets the previous computer's requests. */
  reset(): void;
}

export function createApprovals(deps: ApprovalsDeps): Approvals {
  const [permissions, setPermissions] = createSignal<readonly PermissionAskedEvent[]>([]);
  const [expiredPermissions, setExpired] = createSignal<readonly ExpiredPermission[]>([]);

  const dropPermission = (requestId: string) => setPermissions(permissions().filter((p) => p.requestId !== requestId));

  const expirePermission = (requestId: string, expiry: PermissionExpiry | 'timeout' | undefined) => {
    const request = permissions().find((p) => p.requestId === requestId);
    batch(() => {
      dropPermission(requestId);
      const known = expiredPermissions().find((e) => e.request.requestId === requestId);
      if (request && !known) {
        const timedOut = expiry === 'timeout';
        const reason = timedOut ? 'nobody answered in time, so your computer denied it' : describeExpiry(expiry);
        setExpired([...expiredPermissions(), { request, reason, ...(timedOut ? { timedOut } : {}) }]);
      }
    });
  };

  return {
    permissions,
    expired: expiredPermissions,
    waiting: (sessionId) => permissions().some((p) => p.sessionId === sessionId),

    asked(event) {
      if (!permissions().some((p) => p.requestId === event.requestId)) setPermissions([...permissions(), event]);
      deps.attachDiff(event);
    },

    drop: dropPermission,
    sessionEnded: (sessionId) => setPermissions(permissions().filter((p) => p.sessionId !== sessionId)),
    expire: expirePermission,

    resync(pending) {
      setPermissions(pending);
      for (const p of pending) deps.attachDiff(p);
    },

    async reply(req, reply, message) {
      if (expiredPermissions().some((e) => e.request.requestId === req.requestId)) throw new PermissionExpired();
      try {
        // A denial's reason reaches the agent as the tool's feedback, and it carries on with it.
        await deps.request({ t: 'permission.reply', requestId: req.requestId, reply, ...(message ? { message } : {}) });
        dropPermission(req.requestId);
      } catch (err) {
        const code = errorCode(err);
        // Answered elsewhere, or its turn ended: nothing left to decide.
        if (code === 'request.unknown') dropPermission(req.requestId);
        // Gone with the runtime: the person must see that their answer did not count.
        if (code === 'permission.expired') expirePermission(req.requestId, err instanceof RequestError ? err.expiry : undefined);
        throw err;
      }
    },

    dismissExpired(requestId) {
      setExpired(expiredPermissions().filter((e) => e.request.requestId !== requestId));
    },

    reset() {
      setPermissions([]);
      setExpired([]);
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
