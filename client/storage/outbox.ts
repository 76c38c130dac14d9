/**
 * The outbox in IndexedDB: tasks written on the phone that their computer has not accepted yet.
 * Every write is awaited to its transaction's end, so an item is on disk before it is sent and
 * its session id is on disk before the task naming it is submitted.
 * @module
 */
import type { OutboxRecord, RelayDatabase } from './db.ts';

/** A computer's queued items, in queue order. */
export async function loadOutbox(db: RelayDatabase, hostId: string): Promise<OutboxRecord[]> {
  const items = await db.getAllFromIndex('outbox', 'byHost', hostId);
  return items.sort((a, b) => a.order - b.order || (a.key < b.key ? -1 : 1));
}

export async function putOutboxItem(db: RelayDatabase, item: OutboxRecord): Promise<void> {
  const tx = db.transaction('outbox', 'readwrite');
  await Promise.all([tx.store.put(item), tx.done]);
}

export async function deleteOutboxItem(db: RelayDatabase, key: string): Promise<void> {
  const tx = db.transaction('outbox', 'readwrite');
  await Promise.all([tx.store.delete(key), tx.done]);
}
