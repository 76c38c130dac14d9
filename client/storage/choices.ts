/**
 * The agent, model and variant a person chose for a session, or for new tasks on a computer,
 * remembered on the phone (in `meta`, one entry per computer and session, and one per computer for
 * new tasks) so the composer offers the same next time.
 * @module
 */
import { parseModelRef, type ModelRef } from '../../shared/protocol/composer.ts';
import { isObj } from '../../shared/protocol/guard.ts';
import type { TurnChoice } from '../../shared/protocol/requests.ts';
import type { RelayDatabase } from './db.ts';

/** What is remembered: how the session's turns run, never a command (each is chosen anew). */
export type SessionChoice = Omit<TurnChoice, 'command'>;

/** No session: the new-task composer's (a session id never has this form). */
const key = (hostId: string, sessionId: string | undefined) => `choice:${hostId}:${sessionId ?? 'new-tasks'}`;

export async function loadSessionChoice(db: RelayDatabase, hostId: string, sessionId: string | undefined): Promise<SessionChoice | undefined> {
  const v = await db.get('meta', key(hostId, sessionId));
  if (!isObj(v)) return undefined;
  let model: ModelRef | undefined;
  try {
    model = v.model === undefined ? undefined : parseModelRef(v.model, 'choice.model');
  } catch {
    model = undefined; // written by another version: the runtime's default instead
  }
  const text = (k: string) => (typeof v[k] === 'string' ? (v[k] as string) : undefined);
  return { ...(text('agent') ? { agent: text('agent') } : {}), ...(model ? { model } : {}), ...(text('variant') ? { variant: text('variant') } : {}) };
}

export async function saveSessionChoice(db: RelayDatabase, hostId: string, sessionId: string | undefined, choice: SessionChoice): Promise<void> {
  await db.put('meta', { ...choice }, key(hostId, sessionId));
}
