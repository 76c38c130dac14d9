/**
 * The last message of each session `sessions.list` answers with (its preview, and how its last
 * turn ended: to-relay.ts `toLastMessage`). The runtime's session list has neither, so the host
 * reads each session's newest messages, and keeps what it read until the session changes (its
 * `updatedAt`): after the first time a list costs the runtime only the sessions active since.
 * A few at a time, so a long list does not flood the runtime; a session whose messages cannot be
 * read is listed without them.
 * @module
 */
import type { SessionSummary } from '../../shared/protocol/sessions-list.ts';
import { toLastMessage } from '../runtime/to-relay.ts';

type LastMessage = Pick<SessionSummary, 'preview' | 'ended'>;

export interface LastMessagesOptions {
  /** The newest `limit` messages of a session, as the runtime stores them. */
  messages(sessionId: string, limit: number): Promise<unknown>;
  /** A session's messages could not be read or mapped. */
  skipped?: (err: unknown) => void;
  /** Sessions read at once (default 4). */
  parallel?: number;
  /** Sessions remembered (default 2,000): the least recently listed are forgotten first. */
  remember?: number;
}

export interface LastMessages {
  /** `sessions` with their last message's preview and ending added where known. */
  add(sessions: readonly SessionSummary[]): Promise<SessionSummary[]>;
}

/**
 * Two: the last message may be a reply with no text yet (or only tool calls), when the one
 * before it, the prompt, is what the session is about.
 */
const NEWEST = 2;

export function createLastMessages(opts: LastMessagesOptions): LastMessages {
  const parallel = opts.parallel ?? 4;
  const remember = opts.remember ?? 2000;
  const skipped = opts.skipped ?? (() => {});
  /** By session: what was read, as of which `updatedAt`. Map order is the least recently listed first. */
  const known = new Map<string, { updatedAt: number; last: LastMessage }>();

  const read = async (s: SessionSummary): Promise<LastMessage> => {
    const cached = known.get(s.sessionId);
    if (cached?.updatedAt === s.updatedAt) {
      known.delete(s.sessionId);
      known.set(s.sessionId, cached);
      return cached.last;
    }
    try {
      const last = toLastMessage(await opts.messages(s.sessionId, NEWEST), skipped);
      // A running session changes under the read: only an idle one's ending is kept for next time.
      if (s.state.status === 'idle') {
        known.delete(s.sessionId);
        known.set(s.sessionId, { updatedAt: s.updatedAt, last });
        if (known.size > remember) known.delete(known.keys().next().value!);
      }
      return last;
    } catch (err) {
      skipped(err);
      return {};
    }
  };

  return {
    async add(sessions) {
      const out: SessionSummary[] = [...sessions];
      let next = 0;
      const worker = async () => {
        while (next < sessions.length) {
          const i = next++;
          out[i] = { ...sessions[i]!, ...(await read(sessions[i]!)) };
        }
      };
      await Promise.all(Array.from({ length: Math.min(parallel, sessions.length) }, worker));
      return out;
    },
  };
}
