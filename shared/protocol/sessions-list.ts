/**
 * Sessions as the relay lists them: `session.create` answers a `SessionInfo`, `sessions.list` a
 * `SessionsList` of summaries (each with the runtime's live state of it and whether a permission
 * request waits) and each workspace whose runtime instance did not answer, with why, so the app
 * shows what it can and says what is missing.
 * @module
 */
import { bool, defined, list, num, obj, optStr, str } from './guard.ts';
import { parseInterruption, parseRunError, parseSessionState, type Interruption, type RunError, type SessionState } from './transcript.ts';

const ID = { min: 1, max: 128 };

export type SessionInfo = {
  sessionId: string;
  title: string;
  createdAt: number;
  /** Last activity (ms since the epoch). */
  updatedAt: number;
  /** The workspace directory it runs in. */
  directory?: string;
  /** Set for sub-sessions (an agent's own helpers). */
  parentId?: string;
  /** Set while the session is reverted (`session.revert`): the message it was reverted to before. */
  revertedTo?: string;
};

export type SessionSummary = SessionInfo & {
  state: SessionState;
  /** A permission request of this session waits for an answer. */
  waiting: boolean;
  /** Its last turn was cut short (transcript.ts). */
  interrupted?: Interruption;
  /** The text of its last message that has any, as `toPreview` makes it. */
  preview?: string;
  /** How its last turn ended when it did not end well: stopped by a person (`aborted`) or failed. */
  ended?: RunError;
};

/** The longest preview of a session's last message (`SessionSummary.preview`). */
export const PREVIEW_MAX = 160;

/**
 * A message's text as one line for the list: control characters dropped, every run of
 * whitespace (line breaks too) one space, at most `PREVIEW_MAX` characters, cut with an ellipsis.
 */
export function toPreview(text: string): string {
  const line = text
    // biome-ignore lint/suspicious/noControlCharactersInRegex: dropping control characters is the point.
    .replace(/[\u0000-\u0008\u000e-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2066-\u2069]/g, '')
    .replace(/\s+/g, ' ')
    .trim();
  if (line.length <= PREVIEW_MAX) return line;
  // Never half of a character made of two code units (an emoji).
  const cut = line.slice(0, PREVIEW_MAX - 1).replace(/[\ud800-\udbff]$/, '');
  return `${cut.trimEnd()}…`;
}

/** A workspace whose sessions could not be listed (its runtime instance failed or timed out). */
export interface UnavailableWorkspace {
  /** The workspace's directory, as `welcome.workspaces` names it. */
  workspace: string;
  /** Why, for a person. */
  reason: string;
}

/** `S`: the sessions (`SessionSummary` on the wire; the runtime's own inside the host). */
export interface SessionsList<S = unknown> {
  sessions: S[];
  unavailable: UnavailableWorkspace[];
  /** More, older sessions: pass it as `sessions.list`'s `cursor` for the next page. */
  next?: string;
}

/** The longest reason sent (a runtime's error may quote a whole file). */
export const UNAVAILABLE_REASON_MAX = 1000;
const MAX_SESSIONS = 100_000;
const MAX_WORKSPACES = 64;
/** A `sessions.list` cursor: the host's own, opaque to the device. */
export const CURSOR = { min: 1, max: 64 };

export function parseSessionInfo(v: unknown, path: string): SessionInfo {
  const o = obj(v, path);
  return defined({
    sessionId: str(o, 'sessionId', path, ID),
    title: str(o, 'title', path, { max: 4000 }),
    createdAt: num(o, 'createdAt', path),
    updatedAt: num(o, 'updatedAt', path),
    directory: optStr(o, 'directory', path, { max: 4096 }),
    parentId: optStr(o, 'parentId', path, ID),
    revertedTo: optStr(o, 'revertedTo', path, ID),
  });
}

export function parseSessionSummary(v: unknown, path: string): SessionSummary {
  const o = obj(v, path);
  return {
    ...parseSessionInfo(o, path),
    state: parseSessionState(o.state, `${path}.state`),
    waiting: bool(o, 'waiting', path),
    ...(o.interrupted === undefined ? {} : { interrupted: parseInterruption(obj(o.interrupted, `${path}.interrupted`), `${path}.interrupted`) }),
    ...(o.preview === undefined ? {} : { preview: str(o, 'preview', path, { max: PREVIEW_MAX }) }),
    ...(o.ended === undefined ? {} : { ended: parseRunError(o.ended, `${path}.ended`) }),
  };
}

export function parseSessionsList(v: unknown, path: string): SessionsList<SessionSummary> {
  const o = obj(v, path);
  return {
    sessions: list(o, 'sessions', path, parseSessionSummary, MAX_SESSIONS),
    unavailable: list(o, 'unavailable', path, parseUnavailable, MAX_WORKSPACES),
    ...(o.next === undefined ? {} : { next: str(o, 'next', path, CURSOR) }),
  };
}

function parseUnavailable(v: unknown, path: string): UnavailableWorkspace {
  const o = obj(v, path);
  return { workspace: str(o, 'workspace', path, { min: 1, max: 4096 }), reason: str(o, 'reason', path, { min: 1, max: UNAVAILABLE_REASON_MAX }) };
}
