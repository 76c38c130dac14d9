/**
 * What the phone remembers of a computer's sessions, so the app opens on the last state at once
 * and offline: the session list, and each opened session's messages as the host last sent them
 * (raw OpenCode messages, checked again by the same mapper when read back).
 * @module
 */
import type { MessageRecord, RelayDatabase, SessionRecord } from './db.ts';

/** Array keys sort after every string and number, so `[id, []]` ends the range of keys starting with `id`. */
const prefix = (...parts: string[]) => IDBKeyRange.bound(parts, [...parts, []]);

export async function loadSessions(db: RelayDatabase, hostId: string): Promise<SessionRecord[]> {
  return db.getAll('sessions', prefix(hostId));
}

/** Replaces the host's cached list. */
export async function saveSessions(db: RelayDatabase, hostId: string, sessions: SessionRecord[]): Promise<void> {
  const tx = db.transaction('sessions', 'readwrite');
  await tx.store.delete(prefix(hostId));
  await Promise.all([...sessions.map((s) => tx.store.put(s)), tx.done]);
}

/** Raw `{info, parts}` entries in message order. */
export async function loadMessages(db: RelayDatabase, hostId: string, sessionId: string): Promise<unknown[]> {
  return (await db.getAll('messages', prefix(hostId, sessionId))).map((m) => m.body);
}

export async function saveMessages(db: RelayDatabase, hostId: string, sessionId: string, messages: unknown[]): Promise<void> {
  const records: MessageRecord[] = messages.flatMap((body) => {
    const id = (body as { info?: { id?: unknown } })?.info?.id;
    return typeof id === 'string' ? [{ hostId, sessionId, messageId: id, body }] : [];
  });
  const tx = db.transaction('messages', 'readwrite');
  await tx.store.delete(prefix(hostId, sessionId));
  await Promise.all([...records.map((r) => tx.store.put(r)), tx.done]);
}
