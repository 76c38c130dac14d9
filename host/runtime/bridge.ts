/**
 * The host's one connection to an OpenCode runtime: the few REST calls the host needs and a
 * single subscription to the runtime's `/event` stream, turned into typed host events.
 *
 * Uses the SDK's v2 client (`@opencode-ai/sdk/v2`): the default client of SDK 1.19 has no
 * routes for the `/permission` list and reply that runtime 1.18 serves.
 *
 * The event stream reconnects by itself (with backoff) when it ends, errors or falls silent
 * (the runtime sends a heartbeat about every 10 s); after a reconnect it emits
 * `runtime.reconnected`, because `/event` has no resume cursor and events may have been missed.
 * @module
 */
import {
  createOpencodeClient,
  type OpencodeClient,
  type PermissionRequest,
  type PermissionRuleset,
  type Session,
  type SessionMessagesResponses,
} from '@opencode-ai/sdk/v2';
import type { Logger } from '../log.ts';
import { createRuntimeEventMapper, type RelayRuntimeEvent } from '../../shared/protocol/runtime-events.ts';
import { authHeaders } from './health.ts';

export interface RuntimeTarget {
  url: string;
  password?: string;
}

export interface RuntimeBridgeOptions extends Partial<RuntimeTarget> {
  log: Logger;
  /** The workspace the calls and the event stream are about (default: the runtime's own). */
  directory?: string;
  /** Timeout of each REST call (default 30 s). */
  requestTimeoutMs?: number;
  /** A stream silent this long counts as dead (default 30 s). */
  streamIdleTimeoutMs?: number;
  resubscribeInitialMs?: number;
  resubscribeMaxMs?: number;
}

export interface PromptOptions {
  /** A client-chosen message id (OpenCode's `msg_…` form) so a retried prompt is not doubled. */
  messageId?: string;
  agent?: string;
  model?: { providerID: string; modelID: string };
}

export type RuntimeMessages = SessionMessagesResponses[200];

export interface RuntimeBridge {
  /** Undefined until the runtime first has an address (a spawned runtime that is still starting). */
  readonly target: RuntimeTarget | undefined;
  /** Points the bridge at another runtime address (a restarted runtime gets a new port). */
  setTarget(target: RuntimeTarget): void;
  /** `permission`: the session's own rules, evaluated after the agent's (the last match wins). */
  createSession(title: string | undefined, directory?: string, permission?: PermissionRuleset): Promise<Session>;
  /** Appends rules to a session's own (OpenCode merges; it never replaces them). */
  addSessionPermission(sessionId: string, permission: PermissionRuleset): Promise<Session>;
  listSessions(): Promise<Session[]>;
  getSession(sessionId: string): Promise<Session>;
  messages(sessionId: string): Promise<RuntimeMessages>;
  /** Starts a turn and returns at once (the runtime's `prompt_async`); progress comes as events. */
  prompt(sessionId: string, text: string, opts?: PromptOptions): Promise<void>;
  abort(sessionId: string): Promise<boolean>;
  listPermissions(): Promise<PermissionRequest[]>;
  /** Ids of the model providers the runtime can use (configured credentials or the free default). */
  connectedProviders(): Promise<string[]>;
  /** Never `always`: OpenCode's "always" is process-wide, so the host keeps session grants itself. */
  replyPermission(requestId: string, reply: 'once' | 'reject', message?: string): Promise<void>;
  onEvent(listener: (event: RelayRuntimeEvent) => void): () => void;
  /** Resolves when the event stream is connected (now, or as soon as it is again). */
  subscribed(): Promise<void>;
  close(): Promise<void>;
}

type CallOptions = { signal: AbortSignal; throwOnError: true };

export function createRuntimeBridge(opts: RuntimeBridgeOptions): RuntimeBridge {
  const log = opts.log;
  const requestTimeoutMs = opts.requestTimeoutMs ?? 30_000;
  const idleTimeoutMs = opts.streamIdleTimeoutMs ?? 30_000;
  const backoffInitialMs = opts.resubscribeInitialMs ?? 250;
  const backoffMaxMs = opts.resubscribeMaxMs ?? 5000;
  const dir = opts.directory ? { directory: opts.directory } : {};

  let target: RuntimeTarget | undefined = opts.url ? { url: opts.url, password: opts.password } : undefined;
  let client = target && makeClient(target);
  const listeners = new Set<(event: RelayRuntimeEvent) => void>();
  let closed = false;
  let stream: AbortController | undefined;
  let wakeUp: (() => void) | undefined;
  /** Set when the stream was cut on purpose (new target, silence): reconnect without backoff. */
  let hurry = false;
  let connected = false;
  const waiters: Array<{ resolve: () => void; reject: (err: Error) => void }> = [];

  function makeClient(t: RuntimeTarget): OpencodeClient {
    return createOpencodeClient({ baseUrl: t.url, headers: authHeaders(t.password), throwOnError: true, ...dir });
  }

  const emit = (event: RelayRuntimeEvent) => {
    for (const l of [...listeners]) {
      try {
        l(event);
      } catch (err) {
        log.error('runtime event listener failed', { err, type: event.type });
      }
    }
  };

  const call = <T>(what: string, run: (c: OpencodeClient, o: CallOptions) => Promise<{ data: T }>): Promise<T> => {
    if (closed) return Promise.reject(new Error(`${what}: the runtime bridge is closed`));
    if (!client) return Promise.reject(new Error(`${what}: the runtime has not started yet`));
    return run(client, { signal: AbortSignal.timeout(requestTimeoutMs), throwOnError: true }).then(
      (r) => r.data,
      (err: unknown) => {
        throw new Error(`${what} failed: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
      },
    );
  };

  /** One subscription at a time, for the life of the bridge. */
  async function streamLoop(): Promise<void> {
    let failures = 0;
    let everConnected = false;
    while (!closed) {
      if (!client) {
        await new Promise<void>((resolve) => (wakeUp = resolve));
        wakeUp = undefined;
        continue;
      }
      hurry = false;
      const abort = new AbortController();
      stream = abort;
      let idle: NodeJS.Timeout | undefined;
      const alive = () => {
        clearTimeout(idle);
        idle = setTimeout(() => {
          log.warn('runtime event stream went silent; resubscribing', { idleTimeoutMs });
          hurry = true;
          abort.abort();
        }, idleTimeoutMs);
      };
      const map = createRuntimeEventMapper();
      let problem: unknown;
      try {
        alive();
        const { stream: events } = await client.event.subscribe(dir, {
          signal: abort.signal,
          // The SDK would retry forever without telling; one attempt, and this loop decides.
          sseMaxRetryAttempts: 1,
          onSseError: (err) => (problem = err),
        });
        for await (const raw of events) {
          alive();
          if (isType(raw, 'server.connected')) {
            connected = true;
            failures = 0;
            log.debug('runtime event stream connected', { url: target?.url });
            if (everConnected) emit({ type: 'runtime.reconnected' });
            everConnected = true;
            for (const w of waiters.splice(0)) w.resolve();
            continue;
          }
          let mapped: RelayRuntimeEvent[];
          try {
            mapped = map(raw);
          } catch (err) {
            log.warn('dropped a malformed runtime event', { err, type: typeOf(raw) });
            continue;
          }
          for (const e of mapped) emit(e);
        }
      } catch (err) {
        problem = err;
      } finally {
        clearTimeout(idle);
        connected = false;
      }
      if (closed) return;
      if (hurry) {
        failures = 0;
        continue;
      }
      failures++;
      const delay = Math.min(backoffInitialMs * 2 ** (failures - 1), backoffMaxMs);
      log.debug('runtime event stream ended; resubscribing', { problem: describe(problem), delayMs: delay });
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, delay);
        wakeUp = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      wakeUp = undefined;
    }
  }

  const loop = streamLoop();

  return {
    get target() {
      return target;
    },
    setTarget(next) {
      if (next.url === target?.url && next.password === target?.password) return;
      log.info('runtime bridge retargeted', { url: next.url });
      target = { url: next.url, password: next.password };
      client = makeClient(target);
      hurry = true;
      stream?.abort();
      wakeUp?.();
    },
    createSession: (title, directory, permission) =>
      call('create session', (c, o) => c.session.create({ title, ...(directory ? { directory } : dir), ...(permission ? { permission } : {}) }, o)),
    addSessionPermission: (sessionId, permission) =>
      call('update session permission', (c, o) => c.session.update({ sessionID: sessionId, ...dir, permission }, o)),
    listSessions: () => call('list sessions', (c, o) => c.session.list(dir, o)),
    getSession: (sessionId) => call('get session', (c, o) => c.session.get({ sessionID: sessionId, ...dir }, o)),
    messages: (sessionId) => call('list messages', (c, o) => c.session.messages({ sessionID: sessionId, ...dir }, o)),
    prompt: async (sessionId, text, p = {}) => {
      await call('prompt', (c, o) =>
        c.session.promptAsync(
          {
            sessionID: sessionId,
            ...dir,
            parts: [{ type: 'text', text }],
            ...(p.messageId ? { messageID: p.messageId } : {}),
            ...(p.agent ? { agent: p.agent } : {}),
            ...(p.model ? { model: p.model } : {}),
          },
          o,
        ),
      );
    },
    abort: (sessionId) => call('abort', (c, o) => c.session.abort({ sessionID: sessionId, ...dir }, o)),
    listPermissions: () => call('list permissions', (c, o) => c.permission.list(dir, o)),
    connectedProviders: async () => (await call('list providers', (c, o) => c.provider.list(dir, o))).connected,
    replyPermission: async (requestId, reply, message) => {
      if (reply !== 'once' && reply !== 'reject') throw new RangeError(`reply must be "once" or "reject", not ${JSON.stringify(reply)}`);
      await call('reply to permission', (c, o) =>
        c.permission.reply({ requestID: requestId, ...dir, reply, ...(message !== undefined ? { message } : {}) }, o),
      );
    },
    onEvent(listener) {
      listeners.add(listener);
      return () => void listeners.delete(listener);
    },
    subscribed() {
      if (closed) return Promise.reject(new Error('the runtime bridge is closed'));
      return connected ? Promise.resolve() : new Promise((resolve, reject) => waiters.push({ resolve, reject }));
    },
    async close() {
      if (closed) return loop;
      closed = true;
      stream?.abort();
      wakeUp?.();
      listeners.clear();
      for (const w of waiters.splice(0)) w.reject(new Error('the runtime bridge was closed'));
      await loop;
    },
  };
}

function isType(raw: unknown, type: string): boolean {
  return typeOf(raw) === type;
}

function typeOf(raw: unknown): unknown {
  return raw && typeof raw === 'object' ? (raw as { type?: unknown }).type : undefined;
}

function describe(problem: unknown): string | undefined {
  if (problem === undefined) return undefined;
  return problem instanceof Error ? problem.message : String(problem);
}
