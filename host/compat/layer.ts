/**
 * The layer that lets OpenCode's own clients (`opencode attach`, `opencode run --attach`,
 * `@opencode-ai/sdk`) use the runtime through the host, at `<host URL>/opencode`. Each request
 * carries a computer's credential (HTTP basic auth: device id and secret, host/compat/credentials.ts)
 * and is checked, in this order, before anything reaches the runtime:
 *
 * 1. the credential: a paired computer that was not removed (the device file is read as it is now);
 * 2. the route: only those in the allow-list (host/compat/routes.ts), and the scope it needs;
 * 3. the workspace: the directory the request names (`x-opencode-directory` or `?directory=`) must
 *    be one the credential may use; without one, its first workspace is named for it. A session's
 *    or permission request's own workspace is checked too, and file paths must stay inside it.
 *
 * The runtime's own password is added on the way out and never shown to the client. Sessions get
 * the host's permission rules (as sessions phones create do); a permission answer goes through the
 * host's record, where `always` becomes a grant for that session only. Event streams are filtered
 * per event and end at once when the credential is removed or its access changes.
 * @module
 */
import { isAbsolute, relative, resolve } from 'node:path';
import type { HttpRequest, HttpResponse, TemplatedApp } from '@trufflesuite/uws-js-unofficial';
import type { Logger } from '../log.ts';
import type { DeviceRegistry } from '../devices/registry.ts';
import type { Device } from '../devices/store.ts';
import type { Metrics } from '../metrics/metrics.ts';
import type { PermissionGrants } from '../rpc/permissions.ts';
import type { PermissionRule } from '../policy/rules.ts';
import type { SessionRules } from '../policy/device-runtime.ts';
import type { WorkspaceGate } from '../policy/workspaces.ts';
import { authHeaders } from '../runtime/health.ts';
import type { RuntimeTarget } from '../runtime/bridge.ts';
import { retryOnReset } from '../runtime/reset-retry.ts';
import { SECURITY_HEADERS } from '../server/headers.ts';
import { readBody, sendResponse, type RequestState } from '../uws/respond.ts';
import { RelayError } from '../../shared/protocol/errors.ts';
import { parseBasicAuth, secretMatches } from './credentials.ts';
import { frameAllowed, frameSummary, sseFrames } from './events.ts';
import { matchRoute, unlistedMessage, type MatchedRoute } from './routes.ts';

/** The runtime's API, sent once more when Bun reset a reused connection unanswered (reset-retry.ts). */
const runtimeFetch = retryOnReset();

export const COMPAT_PATH = '/opencode';
/** Prompts with attached files can be large; anything beyond this is refused with 413. */
const MAX_BODY = 32 * 1024 * 1024;
/** How long a synchronous prompt's answer waits for the client's event stream to show the turn's end. */
const SYNC_WAIT_MS = 5000;
const JSON_TYPE = 'application/json; charset=utf-8';
/** Keys whose values are blanked in configuration answers: API keys and tokens stay on the host. */
const SECRET_KEY = /api[_-]?key|token|secret|password|authorization|credential|^headers$|^environment$|^env$/i;

export interface CompatLayerOptions {
  devices: Pick<DeviceRegistry, 'get' | 'seen' | 'onRemoved' | 'onAccessChanged'>;
  /** Where the runtime is now (undefined while it starts). */
  target: () => RuntimeTarget | undefined;
  gate: Pick<WorkspaceGate, 'allowed' | 'check' | 'visibleSessions' | 'allowsEvent'>;
  permissions: Pick<PermissionGrants, 'reply'>;
  rules: SessionRules;
  rulesFor(directory: string): PermissionRule[];
  metrics: Metrics;
  log: Logger;
  /** Set when the layer may not be served here (host/compat/exposure.ts): every request gets it as a 403. */
  refusal?: string;
  syncWaitMs?: number;
}

export interface CompatLayer {
  mount(app: TemplatedApp): void;
  /** Event streams open now. */
  streamCount(): number;
  /** Ends every open event stream. */
  close(): void;
}

/** An answer the layer gives itself, with the reason logged when it is a refusal. */
class Refusal extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

interface Stream {
  deviceId: string;
  end(): void;
}

interface Incoming {
  method: string;
  path: string;
  query: URLSearchParams;
  authorization: string;
  directoryHeader: string;
  contentType: string;
  accept: string;
}

export function createCompatLayer(opts: CompatLayerOptions): CompatLayer {
  const { log, metrics } = opts;
  const streams = new Set<Stream>();
  /** `${deviceId} ${sessionId}` → the event count when that session's last idle went to that device. */
  const idles = new Map<string, number>();
  let forwarded = 0;
  const waiters = new Set<{ key: string; wake: () => void }>();

  const endStreams = (deviceId: string) => {
    for (const s of [...streams]) if (s.deviceId === deviceId) s.end();
  };
  const stopRemovals = opts.devices.onRemoved((d) => endStreams(d.id));
  const stopChanges = opts.devices.onAccessChanged((d) => endStreams(d.id));

  const count = (route: string, status: number) => metrics.inc('compat_requests_total', { route, status: String(status) });

  const noteFrame = (deviceId: string, frame: string) => {
    forwarded++;
    const summary = frameSummary(frame);
    if (summary?.type !== 'session.idle' || !summary.sessionId) return;
    const key = `${deviceId} ${summary.sessionId}`;
    idles.set(key, forwarded);
    if (idles.size > 1000) idles.delete(idles.keys().next().value as string);
    for (const w of [...waiters]) if (w.key === key) w.wake();
  };

  /**
   * OpenCode answers a synchronous prompt before its event stream carries the turn's last events,
   * and `opencode run` stops reading events once it has the answer: so it would print nothing. The
   * answer waits (a bounded time) until this device's open stream has passed the session's idle.
   */
  const afterTurnShown = async (deviceId: string, sessionId: string, since: number) => {
    if (![...streams].some((s) => s.deviceId === deviceId)) return;
    const key = `${deviceId} ${sessionId}`;
    if ((idles.get(key) ?? 0) > since) return;
    await new Promise<void>((done) => {
      const waiter = { key, wake: () => finish() };
      const timer = setTimeout(() => finish(), opts.syncWaitMs ?? SYNC_WAIT_MS);
      const finish = () => {
        clearTimeout(timer);
        waiters.delete(waiter);
        done();
      };
      waiters.add(waiter);
    });
  };

  const authenticate = (authorization: string): Device => {
    const creds = parseBasicAuth(authorization);
    if (!creds) throw new Refusal(401, 'sign in with the credential from `npm start -- pair --computer <name>`: -u <device id> -p <secret>');
    const device = opts.devices.get(creds.user);
    if (!device || !secretMatches(device, creds.password)) {
      throw new Refusal(401, `unknown, removed or wrong credential for "${creds.user.slice(0, 40)}": make a new one with npm start -- pair --computer <name>`);
    }
    return device;
  };

  /** The workspace the request is about; refuses a directory the credential may not use. */
  const directoryFor = (req: Incoming, device: Device): string => {
    const allowed = opts.gate.allowed(device);
    const named: string[] = [];
    if (req.directoryHeader) {
      try {
        named.push(decodeURIComponent(req.directoryHeader));
      } catch {
        throw new Refusal(400, 'x-opencode-directory is not a valid percent-encoded path');
      }
    }
    for (const d of req.query.getAll('directory')) named.push(d);
    for (const d of named) {
      if (!isAbsolute(d) || !allowed.includes(resolve(d))) {
        throw new Refusal(
          403,
          `this credential may not use the directory ${d.slice(0, 200)}; its workspaces: ${allowed.join(', ') || 'none'} ` +
            '(the host can change them with npm start -- devices workspaces)',
        );
      }
    }
    const directory = named[0] ?? allowed[0];
    if (!directory) throw new Refusal(403, 'this credential may use no workspace of this host; the host can allow one with npm start -- devices workspaces');
    return resolve(directory);
  };

  const checkScope = (matched: MatchedRoute, device: Device) => {
    const { scope } = matched.route;
    if (scope && !device.scopes.includes(scope)) {
      throw new Refusal(
        403,
        `this credential may not ${SCOPE_VERB[scope]} (it lacks the "${scope}" scope); the host can grant it with ` +
          `npm start -- devices scopes ${device.id} ${[...device.scopes, scope].join(',')}`,
      );
    }
  };

  const checkTargets = async (matched: MatchedRoute, device: Device, req: Incoming, directory: string) => {
    const { sessionID, requestID } = matched.params;
    if (sessionID) await opts.gate.check({ t: 'session.messages', id: 'compat', sessionId: sessionID }, device);
    if (requestID) await opts.gate.check({ t: 'permission.reply', id: 'compat', requestId: requestID, reply: 'once' }, device);
    if (matched.route.kind === 'file') {
      const path = req.query.get('path') ?? '';
      const rel = relative(directory, resolve(directory, path));
      if (rel.startsWith('..') || isAbsolute(rel)) throw new Refusal(403, `${path.slice(0, 200)} is outside the workspace ${directory}`);
    }
  };

  const handle = (res: HttpResponse, req: HttpRequest) => {
    const state: RequestState = { aborted: false, done: false };
    const upstream = new AbortController();
    let onAbort: (() => void) | undefined;
    res.onAborted(() => {
      state.aborted = true;
      upstream.abort();
      onAbort?.();
    });
    const incoming: Incoming = {
      method: req.getMethod().toUpperCase(),
      path: req.getUrl().slice(COMPAT_PATH.length) || '/',
      query: new URLSearchParams(req.getQuery() ?? ''),
      authorization: req.getHeader('authorization'),
      directoryHeader: req.getHeader('x-opencode-directory'),
      contentType: req.getHeader('content-type'),
      accept: req.getHeader('accept'),
    };
    let routeName = 'unlisted';
    let who = 'unknown';
    const reply = (status: number, body: string | Uint8Array, type: string, extra: [string, string][] = []) => {
      sendResponse(res, state, { status, headers: [...SECURITY_HEADERS, ['Cache-Control', 'no-store'], ['Content-Type', type], ...extra], body });
      count(routeName, status);
    };
    const refuse = (err: unknown) => {
      // The client went away (and the call to the runtime was cancelled with it): nobody to answer.
      if (state.aborted) return;
      const { status, message } = toRefusal(err);
      if (status >= 500) log.error('an OpenCode client request failed', { device: who, method: incoming.method, path: incoming.path, err });
      else log.warn('refused an OpenCode client request', { device: who, method: incoming.method, path: incoming.path, status, reason: message });
      reply(
        status,
        JSON.stringify({ error: message, name: 'OpenWorkRelayRefusal', data: { message } }),
        JSON_TYPE,
        status === 401 ? [['WWW-Authenticate', 'Basic realm="OpenWork Relay", charset="UTF-8"']] : [],
      );
    };

    const serve = async (matched: MatchedRoute, device: Device, req: Incoming, directory: string, body: Buffer | undefined) => {
      await checkTargets(matched, device, req, directory);
      const { kind } = matched.route;
      const { sessionID, requestID } = matched.params;
      if (kind === 'permission-reply' || kind === 'legacy-permission-reply') {
        const parsed = jsonBody(body) as { reply?: unknown; response?: unknown; message?: unknown };
        const answer = kind === 'permission-reply' ? parsed.reply : parsed.response;
        if (answer !== 'once' && answer !== 'always' && answer !== 'reject') throw new Refusal(400, 'the answer must be "once", "always" or "reject"');
        const message = typeof parsed.message === 'string' ? parsed.message : undefined;
        // `always` is OpenCode's grant for every session of the runtime; here it covers this session only, as on phones.
        await opts.permissions.reply(requestID!, answer === 'always' ? 'session' : answer, message);
        log.info('an OpenCode client answered a permission request', { device: device.id, requestId: requestID, answer });
        return reply(200, 'true', JSON_TYPE);
      }
      let outgoing = body;
      if (kind === 'create-session') {
        const parsed = (body?.length ? jsonBody(body) : {}) as { permission?: unknown };
        const own = Array.isArray(parsed.permission) ? parsed.permission : [];
        // The host's rules last: the last matching rule wins, so they beat the client's.
        outgoing = Buffer.from(JSON.stringify({ ...parsed, permission: [...own, ...opts.rulesFor(directory)] }));
      }
      if (kind === 'prompt' || kind === 'sync-prompt') await opts.rules.ensure(sessionID!);
      const since = forwarded;
      const answer = await forward(req, directory, outgoing);
      if (kind === 'events' && answer.ok && answer.body) return stream(answer, device);
      const bytes = Buffer.from(await answer.arrayBuffer());
      const type = answer.headers.get('content-type') ?? 'application/octet-stream';
      if (kind === 'create-session' && answer.ok) rememberSession(bytes);
      if (kind === 'sync-prompt' && answer.ok) await afterTurnShown(device.id, sessionID!, since);
      if (!answer.ok) return reply(answer.status, bytes, type);
      if (kind === 'config') return reply(answer.status, redacted(bytes), type);
      if (kind === 'session-list' || kind === 'session-status') return reply(answer.status, visibleTo(kind, bytes, device), type);
      return reply(answer.status, bytes, type);
    };

    /** A session list (an array) or status map (by session id) cut to the credential's workspaces. */
    const visibleTo = (kind: 'session-list' | 'session-status', bytes: Buffer, device: Device): Buffer => {
      const value: unknown = JSON.parse(bytes.toString('utf8'));
      if (kind === 'session-list') {
        const sessions = Array.isArray(value) ? value : [];
        return Buffer.from(JSON.stringify(opts.gate.visibleSessions({ sessions, unavailable: [] }, device).sessions));
      }
      const statuses = typeof value === 'object' && value !== null ? Object.entries(value) : [];
      return Buffer.from(JSON.stringify(Object.fromEntries(statuses.filter(([sessionId]) => opts.gate.allowsEvent({ sessionId }, device)))));
    };

    const rememberSession = (bytes: Buffer) => {
      try {
        const id = (JSON.parse(bytes.toString('utf8')) as { id?: unknown }).id;
        if (typeof id === 'string') opts.rules.remember(id);
      } catch {
        // Not a session: the next prompt checks its rules instead.
      }
    };

    const forward = async (req: Incoming, directory: string, body: Buffer | undefined): Promise<Response> => {
      const target = opts.target();
      if (!target) throw new Refusal(503, 'the OpenCode runtime is not ready yet; try again in a moment');
      const url = new URL(req.path.replace(/^\//, ''), target.url.endsWith('/') ? target.url : `${target.url}/`);
      for (const [k, v] of req.query) if (k !== 'auth_token') url.searchParams.append(k, v);
      log.debug('forwarding an OpenCode client request', { device: who, method: req.method, path: req.path, directory });
      const headers: Record<string, string> = { ...authHeaders(target.password), 'x-opencode-directory': encodeURIComponent(directory) };
      if (req.contentType) headers['content-type'] = req.contentType;
      if (req.accept) headers.accept = req.accept;
      try {
        return await runtimeFetch(url, { method: req.method, headers, ...(body ? { body: new Uint8Array(body) } : {}), signal: upstream.signal });
      } catch (err) {
        if (state.aborted) throw err;
        throw new Refusal(502, `the OpenCode runtime did not answer (${(err as Error).message})`);
      }
    };

    const stream = async (answer: Response, device: Device) => {
      if (state.aborted || state.done) return void answer.body?.cancel();
      const reader = answer.body!.getReader();
      const decoder = new TextDecoder();
      const split = sseFrames();
      let wake: (() => void) | undefined;
      const entry: Stream = {
        deviceId: device.id,
        end() {
          streams.delete(entry);
          if (!state.aborted && !state.done) res.cork(() => res.end());
          state.done = true;
          upstream.abort();
          wake?.();
        },
      };
      onAbort = () => {
        streams.delete(entry);
        wake?.();
      };
      streams.add(entry);
      res.cork(() => {
        res.writeStatus('200 OK');
        for (const [name, value] of [...SECURITY_HEADERS, ['Cache-Control', 'no-store'], ['Content-Type', 'text/event-stream'], ['X-Accel-Buffering', 'no']] as const) {
          res.writeHeader(name, value);
        }
      });
      count(routeName, 200);
      const inWorkspaces = (dir: string) => opts.gate.allowed(opts.devices.get(device.id) ?? { workspaces: [] }).includes(resolve(dir));
      try {
        for (;;) {
          const { done, value } = await reader.read();
          if (done || state.aborted || state.done) break;
          for (const frame of split(decoder.decode(value, { stream: true }))) {
            // The device as it is now: its scopes may have changed since the stream opened.
            const now = opts.devices.get(device.id);
            if (!now) return entry.end();
            if (!frameAllowed(frame, now, inWorkspaces)) continue;
            let ok = true;
            res.cork(() => {
              ok = res.write(`${frame}\n\n`);
            });
            noteFrame(device.id, frame);
            // Backpressure: read no more from the runtime until uWS has sent what it holds.
            if (!ok) {
              await new Promise<void>((r) => {
                wake = r;
                res.onWritable(() => {
                  r();
                  return true;
                });
              });
              wake = undefined;
              if (state.aborted || state.done) break;
            }
          }
        }
      } catch (err) {
        if (!state.aborted && !state.done) log.warn('an OpenCode client event stream from the runtime failed', { device: device.id, err });
      } finally {
        void reader.cancel().catch(() => {});
        if (!state.aborted && !state.done) entry.end();
        streams.delete(entry);
      }
    };

    try {
      if (opts.refusal) throw new Refusal(403, opts.refusal);
      const device = authenticate(incoming.authorization);
      who = device.id;
      const matched = matchRoute(incoming.method, incoming.path);
      if (!matched) throw new Refusal(403, unlistedMessage(incoming.method, incoming.path));
      routeName = `${matched.route.method} ${matched.route.path}`;
      checkScope(matched, device);
      const directory = directoryFor(incoming, device);
      opts.devices.seen(device.id);
      const go = (body: Buffer | undefined) => {
        serve(matched, device, incoming, directory, body).catch(refuse);
      };
      if (incoming.method === 'GET') go(undefined);
      else readBody(res, state, MAX_BODY, (body) => (body ? go(body) : refuse(new Refusal(413, `the body may be at most ${MAX_BODY} bytes`))));
    } catch (err) {
      refuse(err);
    }
  };

  return {
    mount(app) {
      app.any(COMPAT_PATH, handle);
      app.any(`${COMPAT_PATH}/*`, handle);
    },
    streamCount: () => streams.size,
    close() {
      stopRemovals();
      stopChanges();
      for (const s of [...streams]) s.end();
    },
  };
}

const SCOPE_VERB = { read: 'read sessions and events', run: 'start or stop tasks', approve: 'answer permission requests and questions' } as const;

function jsonBody(body: Buffer | undefined): unknown {
  try {
    const parsed: unknown = JSON.parse(body?.toString('utf8') ?? '');
    if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) return parsed;
  } catch {
    // Answered below.
  }
  throw new Refusal(400, 'the body must be a JSON object');
}

/** A configuration answer with every credential-like value blanked. */
function redacted(bytes: Buffer): Buffer {
  let value: unknown;
  try {
    value = JSON.parse(bytes.toString('utf8'));
  } catch {
    return Buffer.from('{}');
  }
  const walk = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(walk);
    if (typeof v !== 'object' || v === null) return v;
    return Object.fromEntries(
      Object.entries(v).map(([k, x]) => [k, SECRET_KEY.test(k) && (typeof x === 'string' || (typeof x === 'object' && x !== null)) ? '[kept on the host]' : walk(x)]),
    );
  };
  return Buffer.from(JSON.stringify(walk(value)));
}

function toRefusal(err: unknown): { status: number; message: string } {
  if (err instanceof Refusal) return { status: err.status, message: err.message };
  if (err instanceof RelayError) {
    const status = err.code === 'scope.denied' ? 403 : err.code === 'request.unknown' ? 404 : err.code === 'permission.expired' ? 410 : 502;
    return { status, message: err.message };
  }
  return { status: 500, message: 'the host could not handle this request; see its log' };
}
