/**
 * The store's one way into IndexedDB: a run that fails (private mode, quota, a reset database)
 * yields undefined, and the app carries on from memory.
 * @module
 */
import type { RelayDatabase } from '../storage/db.ts';

export type WithDb = <T>(run: (db: RelayDatabase) => Promise<T>) => Promise<T | undefined>;

export function createWithDb(db: () => Promise<RelayDatabase>): WithDb {
  return async (run) => {
    try {
      return await run(await db());
    } catch {
      return undefined; // storage unavailable (private mode, quota, reset): work from memory
    }
  };
}
