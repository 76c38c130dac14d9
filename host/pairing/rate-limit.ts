/**
 * Sliding-window attempt limits, keyed by anything (a remote address, an offer id). Pairing
 * handshakes cost the host two X25519 operations each and every guess at a typed code is a chance
 * to hit it, so both are capped.
 * @module
 */

export interface RateLimiter {
  /** Records an attempt for `key`; false when `key` already used its allowance in the window. */
  take(key: string): boolean;
  /** Whether `key` has allowance left in the window, recording nothing. */
  allows(key: string): boolean;
}

export interface RateLimiterOptions {
  limit: number;
  windowMs: number;
  now?: () => number;
  /** How many keys to remember; the oldest is forgotten first, so a flood cannot grow memory. */
  maxKeys?: number;
}

export function createRateLimiter(opts: RateLimiterOptions): RateLimiter {
  const { limit, windowMs, now = Date.now, maxKeys = 10_000 } = opts;
  if (!Number.isSafeInteger(limit) || limit < 1) throw new RangeError('limit: expected a positive integer');
  if (!(windowMs > 0)) throw new RangeError('windowMs: expected a positive number');
  const hits = new Map<string, number[]>();
  return {
    allows: (key) => (hits.get(key) ?? []).filter((at) => now() - at < windowMs).length < limit,
    take(key) {
      const t = now();
      const recent = (hits.get(key) ?? []).filter((at) => t - at < windowMs);
      hits.delete(key); // re-inserted below, so Map order stays least-recently-used first
      const allowed = recent.length < limit;
      if (allowed) recent.push(t);
      hits.set(key, recent);
      if (hits.size > maxKeys) hits.delete(hits.keys().next().value as string);
      return allowed;
    },
  };
}
