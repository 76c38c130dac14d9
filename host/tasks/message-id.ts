/**
 * The runtime message id a task's prompt is sent with. OpenCode accepts a client-chosen id that
 * starts with `msg` and makes its own as `msg_` + 12 hex digits (the low 48 bits of
 * milliseconds × 4096 + a counter) + 14 base62 characters, and orders a session's messages by
 * creation time, then id. We make ids of the same form, so they sort like the runtime's own:
 * the time part is the acceptance time with counter 0 (never after a reply the runtime makes
 * later in the same millisecond), the rest comes from the task id. Sending a prompt again with
 * the same id cannot add a second user message, and the id is known before the runtime is asked,
 * so a host that crashed in between can look for it in the session.
 * @module
 */
import { createHash } from 'node:crypto';

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const RANDOM_CHARS = 14;
const TIME_MASK = (1n << 48n) - 1n;

/** Matches ids of OpenCode's own form (what `taskMessageId` makes). */
export const MESSAGE_ID = /^msg_[0-9a-f]{12}[0-9A-Za-z]{14}$/;

export function taskMessageId(taskId: string, acceptedAt: number): string {
  if (typeof taskId !== 'string' || taskId.length === 0) throw new TypeError('taskId must be a non-empty string');
  if (!Number.isSafeInteger(acceptedAt) || acceptedAt < 0) throw new RangeError(`acceptedAt must be a time in milliseconds, not ${acceptedAt}`);
  const time = ((BigInt(acceptedAt) * 4096n) & TIME_MASK).toString(16).padStart(12, '0');
  const digest = createHash('sha256').update('openwork-relay task message v1\0').update(taskId).digest();
  let rest = '';
  for (let i = 0; i < RANDOM_CHARS; i++) rest += BASE62[digest[i]! % 62];
  return `msg_${time}${rest}`;
}
