/**
 * What the phone remembers of a computer's sessions, so the app opens on the last state at once
 * and offline: the session list, and each opened session's transcript as the host last sent it.
 * @module
 */
import type { Transcript } from '../../shared/protocol/transcript.ts';
import type { RelayDatabase, SessionRecord, TranscriptRecord } from './db.ts';

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

/**
 * Messages in a transcript's tail copy: a screenful and more. A long session's whole copy can
 * weigh megabytes, and reading it (the browser decodes it on the page's thread) would hold the
 * first paint; the tail is read first and painted while the rest waits.
 */
export const TAIL_MESSAGES = 40;

/** The tail copy is stored beside the whole one, under the session id and this suffix. */
const TAIL = '\u0000tail';

export async function loadTranscript(db: RelayDatabase, hostId: string, sessionId: string): Promise<Transcript | undefined> {
  return (await db.get('transcripts', [hostId, sessionId]))?.transcript;
}

/** The session's last TAIL_MESSAGES messages as cached (with its state and todos), to paint first. */
export async function loadTranscriptTail(db: RelayDatabase, hostId: string, sessionId: string): Promise<Transcript | undefined> {
  return (await db.get('transcripts', [hostId, sessionId + TAIL]))?.transcript;
}

/** Ids of the host's sessions whose cached transcript has `text` (any case) in what was said. */
export async function searchTranscripts(db: RelayDatabase, hostId: string, text: string): Promise<string[]> {
  const wanted = text.toLowerCase();
  const records = await db.getAll('transcripts', prefix(hostId));
  return records
    .filter((r) => !r.sessionId.endsWith(TAIL) && r.transcript.messages.some((m) => m.parts.some((p) => p.kind === 'text' && p.text.toLowerCase().includes(wanted))))
    .map((r) => r.sessionId);
}

/** Stores the whole transcript and its tail copy. */
export async function saveTranscript(db: RelayDatabase, hostId: string, transcript: Transcript): Promise<void> {
  const tx = db.transaction('transcripts', 'readwrite');
  await Promise.all([tx.store.put({ hostId, sessionId: transcript.sessionId, transcript }), tx.store.put(tailRecord(hostId, transcript)), tx.done]);
}

/** Stores only the tail copy (of a transcript's newest messages), while the rest is still being fetched. */
export async function saveTranscriptTail(db: RelayDatabase, hostId: string, transcript: Transcript): Promise<void> {
  await db.put('transcripts', tailRecord(hostId, transcript));
}

function tailRecord(hostId: string, transcript: Transcript): TranscriptRecord {
  return { hostId, sessionId: transcript.sessionId + TAIL, transcript: { ...transcript, messages: transcript.messages.slice(-TAIL_MESSAGES) } };
}
