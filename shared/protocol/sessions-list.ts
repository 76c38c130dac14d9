/**
 * The answer to `sessions.list` when the device asks `withUnavailable`: the sessions of the
 * workspaces whose runtime instance answered, and each workspace that did not, with why, so the
 * app shows what it can and says what is missing. Without `withUnavailable` (an app older than
 * this answer) the host answers the plain list of sessions, and a host older than it always does.
 * @module
 */
import { list, obj, ProtocolError, str } from './guard.ts';

/** A workspace whose sessions could not be listed (its runtime instance failed or timed out). */
export interface UnavailableWorkspace {
  /** The workspace's directory, as `welcome.workspaces` names it. */
  workspace: string;
  /** Why, for a person. */
  reason: string;
}

/** `S`: the sessions as the runtime lists them (OpenCode's sessions, each with `relayStatus`). */
export interface SessionsList<S = unknown> {
  sessions: S[];
  unavailable: UnavailableWorkspace[];
}

/** The longest reason sent (a runtime's error may quote a whole file). */
export const UNAVAILABLE_REASON_MAX = 1000;
const MAX_SESSIONS = 100_000;
const MAX_WORKSPACES = 64;

/**
 * Reads a `sessions.list` answer of either form; the sessions themselves are left to their own
 * parser. Throws ProtocolError naming the field when the answer is neither.
 */
export function parseSessionsList(data: unknown): SessionsList {
  const p = 'result(sessions.list)';
  if (Array.isArray(data)) {
    if (data.length > MAX_SESSIONS) throw new ProtocolError(p, `has ${data.length} sessions, at most ${MAX_SESSIONS} allowed`);
    return { sessions: data, unavailable: [] };
  }
  const o = obj(data, p);
  return {
    sessions: list(o, 'sessions', p, (s) => s, MAX_SESSIONS),
    unavailable: o.unavailable === undefined ? [] : list(o, 'unavailable', p, parseUnavailable, MAX_WORKSPACES),
  };
}

function parseUnavailable(v: unknown, path: string): UnavailableWorkspace {
  const o = obj(v, path);
  return { workspace: str(o, 'workspace', path, { min: 1, max: 4096 }), reason: str(o, 'reason', path, { min: 1, max: UNAVAILABLE_REASON_MAX }) };
}
