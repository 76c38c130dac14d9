/**
 * Sends encrypted pushes (RFC 8030 with VAPID, RFC 8292, and the `aes128gcm` payload of RFC 8291,
 * made by the `web-push` package) without ever holding up the relay: each send runs on its own,
 * times out, is retried with backoff when the push service is busy (429, 5xx, no answer) and is
 * counted in the metrics by outcome. A 404 or 410 means the browser dropped the subscription, so
 * it is forgotten. The endpoint is checked again before every attempt and the host name's
 * addresses are checked as it resolves (host/push/endpoint.ts).
 * @module
 */
import { createHash } from 'node:crypto';
import { lookup as dnsLookup } from 'node:dns';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { LookupFunction } from 'node:net';
import type { PushPayload } from '../../shared/protocol/push.ts';
import { RelayError } from '../../shared/protocol/errors.ts';
import type { Logger } from '../log.ts';
import type { Metrics } from '../metrics/metrics.ts';
import type { PUSH_OUTCOMES } from '../metrics/table.ts';
import { checkEndpoint, isPublicAddress, type EndpointPolicy } from './endpoint.ts';
import type { VapidKeys } from './vapid.ts';
import type { StoredSubscription } from './subscriptions.ts';

export interface PushHttpRequest {
  url: URL;
  headers: Record<string, string>;
  body: Uint8Array;
  timeoutMs: number;
}

export interface PushHttpResponse {
  status: number;
  /** The `Retry-After` header, when the service sent one. */
  retryAfter?: string;
}

/** Makes one HTTP request to a push service. Tests pass their own to prove a refusal sends nothing. */
export type PushTransport = (req: PushHttpRequest) => Promise<PushHttpResponse>;

/** Who the push services may contact about this host's pushes (RFC 8292 `sub`); it names the project, not the person. */
export const VAPID_SUBJECT = 'mailto:openwork-relay@users.noreply.github.com';

export interface SenderOptions {
  vapid: VapidKeys;
  policy: EndpointPolicy;
  metrics: Pick<Metrics, 'inc'>;
  log: Pick<Logger, 'warn' | 'debug'>;
  /** The push service said the subscription is gone (or the endpoint is refused now). */
  onGone(deviceId: string, endpoint: string): void;
  transport?: PushTransport;
  /** Per attempt (default 10 s). */
  timeoutMs?: number;
  /** Attempts in all, the first included (default 4). */
  attempts?: number;
  /** The first retry's delay, doubled each time (default 2 s); a `Retry-After` is honoured up to a minute. */
  backoffMs?: number;
  /** Sends waiting or under way at most; more are dropped and counted (default 100). */
  maxPending?: number;
}

export interface PushSender {
  /** Queues a push to one device; returns at once. */
  send(entry: StoredSubscription, payload: PushPayload, urgency: 'normal' | 'high'): void;
  /** Resolves when every send started so far has ended (tests). */
  settled(): Promise<void>;
  /** Stops retrying; sends under way end on their own timeouts. */
  close(): void;
}

/** How long pushes wait at the push service for an offline phone: a request is answered or denied within minutes anyway. */
const TTL_SECONDS = 15 * 60;

export function createPushSender(opts: SenderOptions): PushSender {
  const transport = opts.transport ?? nodeTransport(opts.policy);
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const attempts = opts.attempts ?? 4;
  const backoffMs = opts.backoffMs ?? 2000;
  const maxPending = opts.maxPending ?? 100;
  const pending = new Set<Promise<void>>();
  /** Backoff waits under way, each with how to end it early (on close). */
  const waits = new Map<NodeJS.Timeout, () => void>();
  let closed = false;
  const count = (outcome: (typeof PUSH_OUTCOMES)[number]) => opts.metrics.inc('push_sends_total', { outcome });

  const wait = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        waits.delete(timer);
        resolve();
      }, ms);
      timer.unref();
      waits.set(timer, resolve);
    });

  async function deliver(entry: StoredSubscription, payload: PushPayload, urgency: 'normal' | 'high'): Promise<void> {
    const { endpoint } = entry.subscription;
    let url: URL;
    try {
      url = checkEndpoint(endpoint, opts.policy);
    } catch (err) {
      count('refused');
      opts.log.warn('refused a stored push address; the device must turn notifications on again', { deviceId: entry.deviceId, err });
      opts.onGone(entry.deviceId, endpoint);
      return;
    }
    // One notification per session: the push service may also replace a waiting push of the same topic.
    const topic = createHash('sha256').update(payload.tag).digest('base64url').slice(0, 32);
    // Loaded on the first send, not at start: a host that sends no notifications never pays for it.
    const { default: webpush } = await import('web-push');
    const details = webpush.generateRequestDetails(entry.subscription, JSON.stringify(payload), {
      vapidDetails: { subject: VAPID_SUBJECT, publicKey: opts.vapid.publicKey, privateKey: opts.vapid.privateKey },
      TTL: TTL_SECONDS,
      urgency,
      topic,
    });
    const headers = Object.fromEntries(Object.entries(details.headers).map(([k, v]) => [k, String(v)]));
    const body = details.body ?? new Uint8Array();
    for (let attempt = 1; ; attempt++) {
      let retryAfter: string | undefined;
      let problem: string;
      try {
        const res = await transport({ url, headers, body, timeoutMs });
        if (res.status >= 200 && res.status < 300) return count('sent');
        if (res.status === 404 || res.status === 410) {
          count('gone');
          opts.onGone(entry.deviceId, endpoint);
          return;
        }
        if (res.status !== 429 && res.status < 500) {
          count('failed');
          opts.log.warn('the push service refused a notification', { deviceId: entry.deviceId, status: res.status, service: url.host });
          return;
        }
        retryAfter = res.retryAfter;
        problem = `status ${res.status}`;
      } catch (err) {
        problem = (err as Error).message;
      }
      if (closed || attempt >= attempts) {
        count('failed');
        opts.log.warn('could not deliver a notification', { deviceId: entry.deviceId, service: url.host, problem, attempts: attempt });
        return;
      }
      count('retried');
      await wait(retryDelay(retryAfter, backoffMs * 2 ** (attempt - 1)));
      if (closed) return count('failed');
    }
  }

  return {
    send(entry, payload, urgency) {
      if (closed) return;
      if (pending.size >= maxPending) {
        count('dropped');
        opts.log.warn('too many notifications waiting to be sent; dropped one', { deviceId: entry.deviceId });
        return;
      }
      const p = deliver(entry, payload, urgency).catch((err: unknown) => {
        count('failed');
        opts.log.warn('could not send a notification', { deviceId: entry.deviceId, err });
      });
      pending.add(p);
      void p.finally(() => pending.delete(p));
    },
    async settled() {
      while (pending.size) await Promise.all([...pending]);
    },
    close() {
      closed = true;
      // Waiting sends end now (as failed) instead of hanging on a cleared timer.
      for (const [timer, resolve] of waits) {
        clearTimeout(timer);
        resolve();
      }
      waits.clear();
    },
  };
}

/** `Retry-After` in seconds or as a date, capped at a minute; otherwise the backoff. */
function retryDelay(header: string | undefined, backoff: number): number {
  if (!header) return backoff;
  const seconds = /^\d+$/.test(header) ? Number(header) : (Date.parse(header) - Date.now()) / 1000;
  return Number.isFinite(seconds) && seconds >= 0 ? Math.min(seconds * 1000, 60_000) : backoff;
}

/**
 * Node's http(s) with a resolver that refuses a name resolving to any address that is not public,
 * so the connection is never attempted (a public name can be pointed at the LAN).
 */
function nodeTransport(policy: EndpointPolicy): PushTransport {
  return (req) =>
    new Promise((resolve, reject) => {
      const local = policy.localReceiver && req.url.protocol === 'http:';
      const send = local ? httpRequest : httpsRequest;
      const r = send(req.url, { method: 'POST', headers: req.headers, timeout: req.timeoutMs, ...(local ? {} : { lookup: publicOnly }) }, (res) => {
        res.resume();
        const retryAfter = res.headers['retry-after'];
        res.on('end', () => resolve({ status: res.statusCode ?? 0, ...(retryAfter ? { retryAfter } : {}) }));
        res.on('error', reject);
      });
      r.on('timeout', () => r.destroy(new Error(`no answer within ${req.timeoutMs} ms`)));
      r.on('error', reject);
      r.end(req.body);
    });
}

const publicOnly: LookupFunction = (hostname, options, callback) => {
  dnsLookup(hostname, { ...options, all: true }, (err, addresses) => {
    if (err) return callback(err, []);
    const bad = addresses.find((a) => !isPublicAddress(a.address));
    if (bad || addresses.length === 0) {
      return callback(new RelayError('push.refused', `${hostname} resolves to ${bad?.address ?? 'nothing'}, not a public address`), []);
    }
    if (options.all) return callback(null, addresses);
    callback(null, addresses[0]!.address, addresses[0]!.family);
  });
};
