/**
 * Notifications (Web Push): the settings a device keeps on the host, the subscription it hands
 * over, and the payload the host encrypts to it. Both the host and the phone's service worker
 * parse with these; requests.ts has the requests that carry them.
 * @module
 */
import { ProtocolError, bool, obj, oneOf, optStr, record, str, type Obj } from './guard.ts';

/** What may notify: a request waiting for an answer, a task finished, a task failed or stopped. */
export const PUSH_KINDS = ['permission', 'finished', 'failed'] as const;
export type PushKind = (typeof PUSH_KINDS)[number];

export interface PushSettings {
  kinds: Record<PushKind, boolean>;
  /** Lock-screen privacy: only "the agent needs you in <session>", no command, no error text. */
  private: boolean;
}

export const DEFAULT_PUSH_SETTINGS: PushSettings = { kinds: { permission: true, finished: true, failed: true }, private: false };

/** A browser's `PushSubscription.toJSON()`, the parts the host needs. */
export interface PushSubscriptionJson {
  endpoint: string;
  keys: { p256dh: string; auth: string };
}

const B64URL = /^[A-Za-z0-9_-]+={0,2}$/;

function b64url(o: Obj, key: string, path: string, len: { min: number; max: number }): string {
  const v = str(o, key, path, len);
  if (!B64URL.test(v)) throw new ProtocolError(`${path}.${key}`, 'expected base64url');
  return v;
}

export function parsePushSettings(v: unknown, path: string): PushSettings {
  const o = obj(v, path);
  const kinds = record(o, 'kinds', path);
  return {
    kinds: Object.fromEntries(PUSH_KINDS.map((k) => [k, bool(kinds, k, `${path}.kinds`)])) as Record<PushKind, boolean>,
    private: bool(o, 'private', path),
  };
}

export function parsePushSubscription(v: unknown, path: string): PushSubscriptionJson {
  const o = obj(v, path);
  const keys = record(o, 'keys', path);
  return {
    endpoint: str(o, 'endpoint', path, { min: 1, max: 2048 }),
    // A P-256 point (65 bytes) and a 16-byte secret, base64url, with or without padding.
    keys: { p256dh: b64url(keys, 'p256dh', `${path}.keys`, { min: 86, max: 88 }), auth: b64url(keys, 'auth', `${path}.keys`, { min: 22, max: 24 }) },
  };
}

/** What `push.status` answers: the key to subscribe with and this device's subscription, if any. */
export interface PushStatus {
  /** The host's VAPID public key, base64url: the `applicationServerKey`. */
  publicKey: string;
  /** Absent: this device gets no notifications. */
  subscription?: { endpoint: string } & PushSettings;
}

export function parsePushStatus(v: unknown, path: string): PushStatus {
  const o = obj(v, path);
  const publicKey = str(o, 'publicKey', path, { min: 1, max: 200 });
  if (o.subscription === undefined) return { publicKey };
  const s = obj(o.subscription, `${path}.subscription`);
  return { publicKey, subscription: { endpoint: str(s, 'endpoint', `${path}.subscription`, { min: 1, max: 2048 }), ...parsePushSettings(s, `${path}.subscription`) } };
}

/**
 * The decrypted push, as the service worker reads it. `show`: a notification (replacing any with
 * the same tag); `close`: the request it showed was answered elsewhere (the worker replaces it
 * with a quiet "answered" note, since a push that shows nothing counts against the site on some
 * platforms).
 */
export type PushPayload =
  | {
      v: 1;
      type: 'show';
      kind: PushKind;
      hostId: string;
      tag: string;
      title: string;
      body: string;
      sessionId: string;
      /** Set for a permission request: the notification offers Allow once and Deny. */
      requestId?: string;
    }
  | { v: 1; type: 'close'; hostId: string; tag: string; sessionId: string; title: string; body: string };

export function parsePushPayload(v: unknown): PushPayload {
  const path = 'push';
  const o = obj(v, path);
  if (o.v !== 1) throw new ProtocolError(`${path}.v`, 'expected 1');
  const type = oneOf(o, 'type', path, ['show', 'close'] as const);
  const common = {
    v: 1 as const,
    hostId: str(o, 'hostId', path, { min: 1, max: 128 }),
    tag: str(o, 'tag', path, { min: 1, max: 300 }),
    sessionId: str(o, 'sessionId', path, { min: 1, max: 128 }),
    title: str(o, 'title', path, { max: 300 }),
    body: str(o, 'body', path, { max: 2000 }),
  };
  if (type === 'close') return { type, ...common };
  const requestId = optStr(o, 'requestId', path, { min: 1, max: 128 });
  return { type, kind: oneOf(o, 'kind', path, PUSH_KINDS), ...common, ...(requestId ? { requestId } : {}) };
}
