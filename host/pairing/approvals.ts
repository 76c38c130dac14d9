/**
 * Pairing requests waiting for the person at the host. A device reaches this queue only after its
 * pairing handshake completed and its first frame authenticated (so it holds the offer's secret);
 * it is stored and let in only when someone approves it here, by the terminal prompt or (later)
 * the local admin page. A request left unanswered until the offer expires counts as expired.
 * @module
 */
import { randomBytes } from 'node:crypto';
import { SCOPES, type Scope } from '../../shared/protocol/messages.ts';

export interface PendingApproval {
  id: string;
  name: string;
  platform: string;
  /** The 6-digit verification code the device shows too. */
  code: string;
  remoteAddress: string;
  requestedAt: number;
  expiresAt: number;
}

export type ApprovalDecision = { approved: true; scopes: Scope[] } | { approved: false; reason: 'declined' | 'expired' | 'cancelled' };

export interface Approvals {
  /** Queues a request; `decision` settles once, on approve, decline, expiry, cancel or close. */
  request(input: Omit<PendingApproval, 'id' | 'requestedAt'>): { id: string; decision: Promise<ApprovalDecision> };
  /** Returns false when `id` is not pending (already decided, expired or unknown). */
  approve(id: string, scopes?: readonly Scope[]): boolean;
  decline(id: string): boolean;
  /** The device went away while waiting. */
  cancel(id: string): void;
  /** Pending requests, oldest first. */
  list(): PendingApproval[];
  /** Called after every change with the new list; returns an unsubscribe function. */
  onChange(listener: (pending: PendingApproval[]) => void): () => void;
  /** Cancels everything still waiting. */
  close(): void;
}

export const DEFAULT_SCOPES: readonly Scope[] = SCOPES;

interface Entry {
  info: PendingApproval;
  settle: (d: ApprovalDecision) => void;
  timer: ReturnType<typeof setTimeout>;
}

export function createApprovals(opts: { now?: () => number } = {}): Approvals {
  const now = opts.now ?? Date.now;
  const pending = new Map<string, Entry>();
  const listeners = new Set<(pending: PendingApproval[]) => void>();

  const list = () => [...pending.values()].map((e) => ({ ...e.info }));
  const changed = () => {
    const snapshot = list();
    for (const l of listeners) l(snapshot);
  };
  const finish = (id: string, decision: ApprovalDecision): boolean => {
    const entry = pending.get(id);
    if (!entry) return false;
    pending.delete(id);
    clearTimeout(entry.timer);
    entry.settle(decision);
    changed();
    return true;
  };

  return {
    request(input) {
      const id = randomBytes(6).toString('hex');
      const info: PendingApproval = { ...input, id, requestedAt: now() };
      let settle!: (d: ApprovalDecision) => void;
      const decision = new Promise<ApprovalDecision>((resolve) => (settle = resolve));
      const timer = setTimeout(() => finish(id, { approved: false, reason: 'expired' }), Math.max(0, input.expiresAt - now()));
      pending.set(id, { info, settle, timer });
      changed();
      return { id, decision };
    },
    approve(id, scopes = DEFAULT_SCOPES) {
      for (const s of scopes) if (!SCOPES.includes(s)) throw new RangeError(`scopes: unknown scope ${JSON.stringify(s)}`);
      return finish(id, { approved: true, scopes: [...new Set(scopes)] });
    },
    decline: (id) => finish(id, { approved: false, reason: 'declined' }),
    cancel: (id) => void finish(id, { approved: false, reason: 'cancelled' }),
    list,
    onChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    close() {
      for (const id of [...pending.keys()]) finish(id, { approved: false, reason: 'cancelled' });
    },
  };
}
