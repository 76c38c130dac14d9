/**
 * `session.create` with a device's `key`, made idempotent like `task.submit`: the first request
 * with a key creates the session and records it durably (ledger.ts); every later one from the same
 * device, also after a host restart, is answered with that session as the runtime has it now. A
 * request that arrives while the first is still under way (the phone resent it on a new socket)
 * shares its outcome. Keys are per device, so one device's key never names another's session.
 *
 * A host may die between the runtime making the session and the record reaching the disk. So the
 * intent is recorded (fsynced) first, and the session carries the key in its runtime metadata
 * (`relayKey`, a hash of device and key, which OpenCode keeps across its restarts). A request
 * whose key has an intent but no session recorded looks in the intent's workspace for a session
 * created since with that metadata: found, it is recorded and answered; not there, one is made.
 * A workspace that cannot be asked is answered `runtime.not-ready` (the device sends it again)
 * rather than risking a second session. What remains: records and intents are kept 7 days (the
 * ledger's retention), so a key resent later makes a new session, and a session made outside
 * the runtime's lookup (over 1000 sessions created in that workspace since the intent) is missed.
 * @module
 */
import { createHash } from 'node:crypto';
import type { Logger } from '../log.ts';
import { RelayError } from '../../shared/protocol/errors.ts';
import { isRuntimeId } from '../../shared/protocol/messages.ts';
import type { SessionIntent, TaskLedger } from './ledger.ts';
import type { RuntimePort } from '../runtime/port.ts';

/** What this needs of the runtime (host/policy/device-runtime.ts fits). */
export type SessionRuntime = Pick<RuntimePort, 'createSession' | 'getSession' | 'sessionsCreatedSince'>;

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
  ledger: Pick<TaskLedger, 'session' | 'recordSession' | 'sessionIntent' | 'intendSession'>;
  runtime: SessionRuntime;
  log: Logger;
  now?: () => number;
}

/**
 * Sessions created this long before their intent are looked at too: the host's and the runtime's
 * clocks are one machine's, but the wall clock may be set back in between.
 */
const CLOCK_SLACK_MS = 10 * 60 * 1000;

/** The `relayKey` metadata of the session `deviceId` creates with `key`: opaque, fixed-length. */
export function relayKeyOf(deviceId: string, key: string): string {
  return createHash('sha256')
    .update(JSON.stringify([deviceId, key]))
    .digest('hex');
}

export function createKeyedSessions(opts: KeyedSessionsOptions): KeyedSessions {
  const { ledger, runtime, log } = opts;
  const now = opts.now ?? Date.now;
  const inFlight = new Map<string, Promise<KeyedSession>>();

  /** The session an earlier attempt made before the host lost its outcome, if the runtime has it. */
  const lookFor = async (intent: SessionIntent, relayKey: string): Promise<unknown> => {
    let sessions: readonly unknown[];
    try {
      sessions = await runtime.sessionsCreatedSince(intent.at - CLOCK_SLACK_MS, intent.directory);
    } catch (err) {
      const where = intent.directory ?? 'the default workspace';
      const why = err instanceof Error ? err.message : String(err);
      throw new RelayError(
        'runtime.not-ready',
        `the session this key may already have made in ${where} cannot be looked for now (${why}); send the request again once the workspace answers`,
      );
    }
    return sessions.find((s) => (s as { metadata?: { relayKey?: unknown } | null } | null)?.metadata?.relayKey === relayKey);
  };

  const record = (deviceId: string, key: string, sessionId: string, createdAt: number) => {
    try {
      ledger.recordSession({ deviceId, key, sessionId, createdAt });
    } catch (err) {
      // The session exists and carries the key, so a resend finds it: answering it beats an error.
      log.error('could not record a keyed session; a resend of its request looks for it again', { deviceId, sessionId, err });
    }
  };

  const run = async ({ deviceId, key, title, directory }: KeyedCreate): Promise<KeyedSession> => {
    const known = ledger.session(deviceId, key);
    if (known) return { session: await runtime.getSession(known.sessionId), sessionId: known.sessionId, repeated: true };
    const relayKey = relayKeyOf(deviceId, key);
    const intent = ledger.sessionIntent(deviceId, key);
    if (intent) {
      const found = await lookFor(intent, relayKey);
      if (found !== undefined) {
        const sessionId = idOf(found);
        log.info('found the session an earlier request with this key made before its outcome was recorded', { deviceId, sessionId });
        record(deviceId, key, sessionId, intent.at);
        return { session: found, sessionId, repeated: true };
      }
    }
    // A fresh intent each attempt: a lookup from its time covers every attempt not yet looked for.
    try {
      ledger.intendSession({ deviceId, key, ...(directory !== undefined ? { directory } : {}), at: now() });
    } catch (err) {
      throw new Error(`the session was not made: its request could not be recorded (${err instanceof Error ? err.message : String(err)})`, { cause: err });
    }
    const session = await runtime.createSession(title, directory, { relayKey });
    const sessionId = idOf(session);
    record(deviceId, key, sessionId, now());
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
