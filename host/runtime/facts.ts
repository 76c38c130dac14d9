/**
 * What the host has learnt about the runtime's sessions and permission requests, as one bounded
 * index fed by the runtime's events (and by lists and lookups the relay made anyway): a session's
 * directory, which never changes, and the session a waiting permission request belongs to.
 * The workspace gate reads it before every request and event, so it answers from memory instead
 * of asking the runtime each time; whatever it does not hold is looked up by the reader.
 * @module
 */
import { trimOldest } from '../../shared/bounded.ts';
import type { RelayRuntimeEvent } from '../../shared/protocol/runtime-events.ts';

export interface RuntimeFacts {
  /** A session's directory, when known. */
  directoryOf(sessionId: string): string | undefined;
  /** The session of a permission request (or a question of the agent) still waiting, when known. */
  sessionOfRequest(requestId: string): string | undefined;
  /** A session's directory learnt from a list or a lookup. */
  learnDirectory(sessionId: string, directory: string): void;
  /** Learns from, and forgets by, the runtime's events; call it before the event goes anywhere else. */
  observe(event: RelayRuntimeEvent): void;
}

/** Per kind of fact: far more than one host's live sessions and questions. */
const REMEMBERED = 10_000;

export function createRuntimeFacts(max = REMEMBERED): RuntimeFacts {
  const directories = new Map<string, string>();
  const requestSessions = new Map<string, string>();
  const remember = (map: Map<string, string>, key: string, value: string) => {
    map.set(key, value);
    trimOldest(map, max);
  };
  return {
    directoryOf: (sessionId) => directories.get(sessionId),
    sessionOfRequest: (requestId) => requestSessions.get(requestId),
    learnDirectory: (sessionId, directory) => remember(directories, sessionId, directory),
    observe(event) {
      if (event.type === 'session.updated' && event.directory) remember(directories, event.sessionId, event.directory);
      else if (event.type === 'permission.asked' || event.type === 'question.asked') remember(requestSessions, event.requestId, event.sessionId);
      else if (event.type === 'permission.replied' || event.type === 'question.replied' || event.type === 'question.rejected') requestSessions.delete(event.requestId);
      else if (event.type === 'session.deleted') directories.delete(event.sessionId);
    },
  };
}
