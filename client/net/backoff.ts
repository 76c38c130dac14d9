/**
 * Reconnect delays: exponential, capped, with "equal jitter" (half fixed, half random) so phones
 * that lost the host together do not all knock again at the same instant, while no retry comes
 * back almost at once the way full jitter allows.
 * @module
 */

export interface BackoffOptions {
  /** First delay before jitter (default 500 ms). */
  initialMs?: number;
  /** Cap before jitter (default 30 s). */
  maxMs?: number;
  /** [0, 1) source, injected by tests. */
  random?: () => number;
}

export interface Backoff {
  /** The delay before the next attempt; each call grows the next one. */
  next(): number;
  /** After a success: the next failure starts from the first delay again. */
  reset(): void;
  /** Failed attempts since the last reset. */
  readonly attempts: number;
}

export function createBackoff(opts: BackoffOptions = {}): Backoff {
  const initial = opts.initialMs ?? 500;
  const max = opts.maxMs ?? 30_000;
  const random = opts.random ?? Math.random;
  if (!(initial > 0) || !(max >= initial)) throw new RangeError('backoff: need 0 < initialMs <= maxMs');
  let attempts = 0;
  return {
    next() {
      const ceiling = Math.min(max, initial * 2 ** Math.min(attempts, 30));
      attempts++;
      return Math.round(ceiling / 2 + random() * (ceiling / 2));
    },
    reset() {
      attempts = 0;
    },
    get attempts() {
      return attempts;
    },
  };
}
