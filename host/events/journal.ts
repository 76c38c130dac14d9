/**
 * The host's memory of the events it sent, for devices that come back: the last events (bounded
 * by count and by bytes) to replay, and for every session the number of the last event about it,
 * so a device whose gap is too old to replay reloads only the sessions that changed.
 *
 * Kept in memory only. A host restart starts a new epoch and every device reloads: the runtime's
 * event stream has no resume cursor, so what happened between the old host's last event and the
 * new host's first is unknowable, and a replay from disk would pretend otherwise.
 * @module
 */

export interface JournalOptions {
  /** Events kept for replay (default 5000). */
  maxEvents?: number;
  /** Their total encoded size (default 8 MiB). */
  maxBytes?: number;
  /** The largest replay sent in one go (default 4 MiB); a larger gap is reloaded instead. */
  maxReplayBytes?: number;
  /** Sessions whose last event number is remembered (default 10,000). */
  maxSessions?: number;
}

/** What a device that applied every event up to `after` needs. */
export type Catchup =
  /** The events it may see (`keep`), in order. */
  | { replay: Uint8Array[] }
  /** Reload these sessions; undefined: every session. */
  | { sessions: string[] | undefined };

/**
 * `About`: what the caller needs to know of a kept event without decoding it (e.g. its type, for
 * deciding who may see it); the journal only hands it back to `keep`.
 */
export interface EventJournal<About = unknown> {
  /** Keeps one encoded event (seq: one more than the last); `sessionId` names its session, if any. */
  append(seq: number, bytes: Uint8Array, sessionId: string | undefined, about?: About): void;
  /**
   * The catch-up for a device that applied everything up to `after` (≤ the last appended seq);
   * a replay leaves out the events `keep` refuses.
   */
  since(after: number, keep?: (about: About | undefined) => boolean): Catchup;
  readonly size: number;
  readonly bytes: number;
}

export function createEventJournal<About = unknown>(opts: JournalOptions = {}): EventJournal<About> {
  const maxEvents = opts.maxEvents ?? 5000;
  const maxBytes = opts.maxBytes ?? 8 * 1024 * 1024;
  const maxReplayBytes = opts.maxReplayBytes ?? 4 * 1024 * 1024;
  const maxSessions = opts.maxSessions ?? 10_000;
  const ring: { seq: number; bytes: Uint8Array; about: About | undefined }[] = [];
  let ringBytes = 0;
  let last = 0;
  /** sessionId → last seq about it, least recently touched first. */
  const touched = new Map<string, number>();
  /** The newest seq that no longer has a session to name: an event about no session, or a forgotten session's. */
  let unnamedUpTo = 0;

  return {
    append(seq, bytes, sessionId, about) {
      if (seq !== last + 1) throw new RangeError(`seq ${seq} must follow the last appended (${last})`);
      last = seq;
      ring.push({ seq, bytes, about });
      ringBytes += bytes.length;
      while (ring.length > maxEvents || (ringBytes > maxBytes && ring.length > 1)) ringBytes -= ring.shift()!.bytes.length;
      if (sessionId === undefined) {
        unnamedUpTo = seq;
        return;
      }
      touched.delete(sessionId);
      touched.set(sessionId, seq);
      if (touched.size > maxSessions) {
        const [oldest, oldestSeq] = touched.entries().next().value as [string, number];
        touched.delete(oldest);
        unnamedUpTo = Math.max(unnamedUpTo, oldestSeq);
      }
    },
    since(after, keep = () => true) {
      if (after > last) throw new RangeError(`after ${after} is beyond the last event (${last})`);
      const oldest = ring[0]?.seq ?? last + 1;
      if (after + 1 >= oldest) {
        const start = ring.length - (last - after);
        const replay = ring
          .slice(start)
          .filter((e) => keep(e.about))
          .map((e) => e.bytes);
        if (replay.reduce((n, b) => n + b.length, 0) <= maxReplayBytes) return { replay };
      }
      if (unnamedUpTo > after) return { sessions: undefined };
      const sessions: string[] = [];
      for (const [id, seq] of touched) if (seq > after) sessions.push(id);
      return { sessions };
    },
    get size() {
      return ring.length;
    },
    get bytes() {
      return ringBytes;
    },
  };
}
