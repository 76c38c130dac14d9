/**
 * What the phone remembers of a computer's sessions, so the app opens on the last state at once
 * and offline: the session list, and each opened session's transcript as the host last sent it.
 * @module
 */
import type { Transcript } from '../../shared/protocol/transcript.ts';
import type { RelayDatabase, SessionRecord } from './db.ts';

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

export async function loadTranscript(db: RelayDatabase, hostId: string, sessionId: string): Promise<Transcript | undefined> {
  return (await db.get('transcripts', [hostId, sessionId]))?.transcript;
}

/** Ids of the host's sessions whose cached transcript has `text` (any case) in what was said. */
export async function searchTranscripts(db: RelayDatabase, hostId: string, text: string): Promise<string[]> {
  const wanted = text.toLowerCase();
  const records = await db.getAll('transcripts', prefix(hostId));
  return records.filter((r) => r.transcript.messages.some((m) => m.parts.some((p) => p.kind === 'text' && p.text.toLowerCase().includes(wanted)))).map((r) => r.sessionId);
}

export async function saveTranscript(db: RelayDatabase, hostId: string, transcript: Transcript): Promise<void> {
  await db.put('transcripts', { hostId, sessionId: transcript.sessionId, transcript });
}
