/**
 * Caches bounded by count. The host keeps many small records of what the runtime and devices
 * said (request ids, sessions' directories, keys it saw); none may grow without end when one of
 * them misbehaves, and the oldest entry is the one least likely to be asked about again.
 * @module
 */

/** Forgets a Map's or Set's oldest entries (insertion order) until at most `max` remain. */
export function trimOldest<K>(cache: { readonly size: number; keys(): IterableIterator<K>; delete(key: K): boolean }, max: number): void {
  while (cache.size > max) cache.delete(cache.keys().next().value as K);
}
