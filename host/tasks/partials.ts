/**
 * The text of answers still being written, as the host relayed it. OpenCode streams a text part
 * as deltas and stores its text only when the part ends (checked with 1.18.33: a part read while
 * the answer streams, or after the runtime was killed mid-answer, has an empty text). So an
 * answer cut short by a restart would lose everything it had written, on every phone that
 * reloads. The host keeps what it streamed, on disk (a host restart is one such cut), and fills it
 * into the stored messages it hands out (`fill`) while their reply is unfinished.
 *
 * `<data-dir>/partials/<sessionId>.json`, mode 0600: `{ <messageId>: { <partId>: text } }`,
 * written at most every `flushMs` while text streams (and on close), not fsynced: at worst the
 * last second of a cut answer is missing. A message's entry goes when it completes or fails;
 * files untouched for the retention (7 days) are deleted.
 * @module
 */
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '../log.ts';

/** The relay events read here (their fields as shared/protocol/runtime-events.ts has them). */
export type StreamedEvent =
  | { type: 'message.text.delta' | 'message.reasoning.delta'; sessionId: string; messageId: string; partId: string; delta: string }
  | { type: 'message.text.updated' | 'message.reasoning.updated'; sessionId: string; messageId: string; partId: string; text: string; done: boolean }
  | { type: 'message.updated'; sessionId: string; messageId: string; time: { completed?: number }; error?: unknown }
  | { type: string };

export interface PartialTextsOptions {
  /** `<data-dir>/partials`; made if missing. */
  dir: string;
  log: Logger;
  /** Longest wait before streamed text is on disk (default 1 s). */
  flushMs?: number;
  retentionMs?: number;
  now?: () => number;
}

export interface PartialTexts {
  observe(event: StreamedEvent): void;
  /**
   * The session's stored messages (OpenCode's `{ info, parts }`) with the text the host streamed
   * filled into the text and reasoning parts of unfinished replies, where the stored text is
   * shorter. Other messages are returned as they are.
   */
  fill(sessionId: string, messages: unknown): unknown;
  /** Writes what is not on disk yet, and stops the timer. */
  close(): void;
}

const RETENTION_MS = 7 * 24 * 60 * 60 * 1000;
/** Sessions whose streamed text is kept in memory at once; the least recently written is dropped (its file stays). */
const MAX_SESSIONS = 200;
const SESSION_FILE = /^([A-Za-z0-9_-]{1,128})\.json$/;

type Texts = Record<string, Record<string, string>>;

export function openPartialTexts(opts: PartialTextsOptions): PartialTexts {
  const { dir, log } = opts;
  const flushMs = opts.flushMs ?? 1000;
  const retentionMs = opts.retentionMs ?? RETENTION_MS;
  const now = opts.now ?? Date.now;
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (!SESSION_FILE.test(name)) continue;
    if (now() - statSync(path).mtimeMs > retentionMs) rmSync(path, { force: true });
  }
  /** sessionId → messageId → partId → text, for sessions read or written lately. */
  const sessions = new Map<string, Texts>();
  const dirty = new Set<string>();
  let timer: ReturnType<typeof setTimeout> | undefined;

  const fileOf = (sessionId: string) => (SESSION_FILE.test(`${sessionId}.json`) ? join(dir, `${sessionId}.json`) : undefined);

  const load = (sessionId: string): Texts => {
    let texts = sessions.get(sessionId);
    if (texts) return texts;
    texts = {};
    const path = fileOf(sessionId);
    try {
      if (path) texts = JSON.parse(readFileSync(path, 'utf8')) as Texts;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') log.warn('could not read the streamed text kept for a session; starting afresh', { sessionId, err });
    }
    sessions.set(sessionId, texts);
    if (sessions.size > MAX_SESSIONS) {
      const oldest = sessions.keys().next().value as string;
      if (dirty.has(oldest)) write(oldest);
      sessions.delete(oldest);
    }
    return texts;
  };

  const write = (sessionId: string) => {
    dirty.delete(sessionId);
    const path = fileOf(sessionId);
    const texts = sessions.get(sessionId);
    if (!path || !texts) return;
    try {
      if (Object.keys(texts).length === 0) {
        rmSync(path, { force: true });
        return;
      }
      // Whole or not at all: a reader never sees half a file.
      writeFileSync(`${path}.tmp`, JSON.stringify(texts), { mode: 0o600 });
      renameSync(`${path}.tmp`, path);
    } catch (err) {
      log.warn('could not keep the streamed text of a session on disk', { sessionId, err });
    }
  };

  const flush = () => {
    timer = undefined;
    for (const sessionId of [...dirty]) write(sessionId);
  };

  const changed = (sessionId: string) => {
    dirty.add(sessionId);
    timer ??= setTimeout(flush, flushMs);
    timer.unref?.();
  };

  return {
    observe(event) {
      if (!('sessionId' in event) || !('messageId' in event) || !fileOf(event.sessionId)) return;
      const { sessionId, messageId } = event;
      if (event.type === 'message.updated' && 'time' in event) {
        if (event.time.completed === undefined && event.error === undefined) return;
        // The reply ended and the runtime stored its text: nothing to keep.
        const texts = load(sessionId);
        if (!(messageId in texts)) return;
        delete texts[messageId];
        changed(sessionId);
        return;
      }
      if (!('partId' in event)) return;
      const texts = load(sessionId);
      texts[messageId] ??= {};
      const parts = texts[messageId];
      if ('delta' in event) parts[event.partId] = (parts[event.partId] ?? '') + event.delta;
      else if ('text' in event && event.text.length >= (parts[event.partId]?.length ?? 0)) parts[event.partId] = event.text;
      else return;
      changed(sessionId);
    },

    fill(sessionId, messages) {
      if (!Array.isArray(messages) || !fileOf(sessionId)) return messages;
      const texts = load(sessionId);
      if (Object.keys(texts).length === 0) return messages;
      return messages.map((m: unknown) => {
        const { info, parts } = (m ?? {}) as { info?: { id?: unknown; time?: { completed?: unknown }; error?: unknown }; parts?: unknown };
        const kept = typeof info?.id === 'string' ? texts[info.id] : undefined;
        if (!kept || info!.time?.completed !== undefined || info!.error !== undefined || !Array.isArray(parts)) return m;
        const filled = parts.map((p: unknown) => {
          const part = p as { id?: unknown; type?: unknown; text?: unknown };
          const text = typeof part?.id === 'string' ? kept[part.id] : undefined;
          if (text === undefined || (part.type !== 'text' && part.type !== 'reasoning')) return p;
          const stored = typeof part.text === 'string' ? part.text : '';
          return text.length > stored.length && text.startsWith(stored) ? { ...part, text } : p;
        });
        return { ...(m as object), parts: filled };
      });
    },

    close() {
      clearTimeout(timer);
      flush();
    },
  };
}
