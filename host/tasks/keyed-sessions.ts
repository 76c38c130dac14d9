/**
 * `session.create` with a device's `key`, made idempotent like `task.submit`: the first request
 * with a key creates the session and records it durably (ledger.ts); every later one from the same
 * device, also after a host restart, is answered with that session as the runtime has it now. A
 * request that arrives while the first is still under way (the phone resent it on a new socket)
 * shares its outcome. Keys are per device, so one device's key never names another's session.
 *
 * The window left open: the record is written once the runtime answered, so a host that dies
 * between OpenCode creating the session and the fsync of the record leaves that session empty, and
 * the resend makes another. Closing it needs the session to carry the key: OpenCode 1.18.33 stores
 * the `metadata` given to `POST /session`, so recording the intent first and, after a restart,
 * looking for the session whose metadata holds the key would do, once the runtime bridge passes
 * `metadata` on (it does not yet).
 * @module
 */
import type { Logger } from '../log.ts';
import { isRuntimeId } from '../../shared/protocol/messages.ts';
import type { TaskLedger } from './ledger.ts';

/** What this needs of the runtime (host/policy/device-runtime.ts fits). */
export interface SessionRuntime {
  /** `title` undefined lets the runtime name the session from its first prompt. */
  createSession(title: string | undefined, directory?: string): Promise<unknown>;
  getSession(sessionId: string): Promise<unknown>;
}

export interface KeyedCreate {
  deviceId: string;
  key: string;
  title?: string;
  directory?: string;
}

export interface KeyedSession {
  /** The runtime's session object, as the runtime has it now. */
  session: unknown;
  sessionId: string;
  /** True when the session was made by an earlier request with the key, not by this one. */
  repeated: boolean;
}

export interface KeyedSessions {
  create(request: KeyedCreate): Promise<KeyedSession>;
}

export interface KeyedSessionsOptions {
  ledger: Pick<TaskLedger, 'session' | 'recordSession'>;
  runtime: SessionRuntime;
  log: Logger;
  now?: () => number;
}

export function createKeyedSessions(opts: KeyedSessionsOptions): KeyedSessions {
  const { ledger, runtime, log } = opts;
  const now = opts.now ?? Date.now;
  const inFlight = new Map<string, Promise<KeyedSession>>();

  const run = async ({ deviceId, key, title, directory }: KeyedCreate): Promise<KeyedSession> => {
    const known = ledger.session(deviceId, key);
    if (known) return { session: await runtime.getSession(known.sessionId), sessionId: known.sessionId, repeated: true };
    const session = await runtime.createSession(title, directory);
    const sessionId = idOf(session);
    try {
      ledger.recordSession({ deviceId, key, sessionId, createdAt: now() });
    } catch (err) {
      // The session exists: answering it is better than an error the device would answer with a resend.
      log.error('could not record a keyed session; a resend of its request makes another', { deviceId, sessionId, err });
    }
    return { session, sessionId, repeated: false };
  };

  return {
    create(request) {
      const id = JSON.stringify([request.deviceId, request.key]);
      const running = inFlight.get(id);
      if (running) return running;
      const p = run(request).finally(() => inFlight.delete(id));
      inFlight.set(id, p);
      return p;
    },
  };
}

function idOf(session: unknown): string {
  const id = (session as { id?: unknown } | null)?.id;
  if (typeof id !== 'string' || !isRuntimeId(id)) throw new Error(`the runtime answered session.create without a usable session id (${JSON.stringify(id)})`);
  return id;
}
