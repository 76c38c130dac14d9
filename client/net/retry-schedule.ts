/**
 * When to knock again after the host could not be reached. A person looking at the app wants it
 * back the moment the computer is: while the page is visible, and for the first minutes of a
 * failure, the link only checks whether the host answers at all (a cheap HTTP probe, no Noise
 * handshake) every second or two, and runs the full handshake once a probe gets an answer. Hidden,
 * or after minutes of failure, it backs off as before (exponential with jitter, backoff.ts), so a
 * phone in a pocket or a host that is gone for the day costs next to nothing.
 * @module
 */
import type { Backoff } from './backoff.ts';

export interface ScheduleOptions {
  /** Probe delays are drawn between these (default 1–2 s), so phones do not probe in step. */
  probeMinMs?: number;
  probeMaxMs?: number;
  /** How long a failure may last before a visible page backs off too (default 5 min). */
  fastForMs?: number;
  /** [0, 1) source, injected by tests. */
  random?: () => number;
}

export interface RetryContext {
  /** Whether a person can see the app now. */
  visible: boolean;
  /** How long the host has been unreachable (since the first failure after the last connection). */
  failingForMs: number;
  /**
   * Whether the host is reachable but refused or failed the handshake: probing again would only
   * lead to the same failing handshake every second, so this backs off.
   */
  handshakeFailed: boolean;
}

/** Probe (cheap) after `delayMs`, or a full handshake after `delayMs`. */
export interface RetryPlan {
  kind: 'probe' | 'handshake';
  delayMs: number;
}

export interface RetrySchedule {
  next(ctx: RetryContext): RetryPlan;
}

export const DEFAULT_FAST_FOR_MS = 5 * 60_000;

export function createRetrySchedule(backoff: Backoff, opts: ScheduleOptions = {}): RetrySchedule {
  const min = opts.probeMinMs ?? 1_000;
  const max = opts.probeMaxMs ?? 2_000;
  const fastFor = opts.fastForMs ?? DEFAULT_FAST_FOR_MS;
  const random = opts.random ?? Math.random;
  if (!(min > 0) || !(max >= min)) throw new RangeError('retry schedule: need 0 < probeMinMs <= probeMaxMs');
  return {
    next({ visible, failingForMs, handshakeFailed }) {
      if (visible && !handshakeFailed && failingForMs < fastFor) return { kind: 'probe', delayMs: Math.round(min + random() * (max - min)) };
      return { kind: 'handshake', delayMs: backoff.next() };
    },
  };
}
