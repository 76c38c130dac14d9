/**
 * Notifications in the service worker: shows what a push says, and answers a permission request
 * from the notification's Allow once and Deny without opening the app. The worker opens this
 * device's own encrypted channel to the host with the keys the app keeps in IndexedDB (the same
 * handshake and channel as the app, shared/channel/client.ts), sends `permission.reply` and shows
 * the outcome; when that fails it opens the app at the request instead, so nothing is lost.
 * @module
 */
import { connect } from '../../shared/channel/client.ts';
import { relaySocketUrl } from '../../shared/pairing/link.ts';
import { parsePushPayload, type PushPayload } from '../../shared/protocol/push.ts';
import { formatRoute } from '../routes.ts';
import { openRelayDb } from '../storage/db.ts';

/** What a notification carries for its click. */
export interface NotificationData {
  hostId: string;
  sessionId: string;
  requestId?: string;
}

const ALLOW = 'allow';
const DENY = 'deny';
/** How long an answer from the notification may take before the app is opened instead. */
const ANSWER_TIMEOUT_MS = 15_000;

export async function showPush(registration: ServiceWorkerRegistration, data: unknown): Promise<void> {
  let payload: PushPayload;
  try {
    payload = parsePushPayload(data);
  } catch (err) {
    // A push must show something (browsers penalise silent ones); this one says the app needs updating.
    await registration.showNotification('OpenWork Relay', { body: 'A notification this version of the app cannot read. Open the app to update it.' });
    console.warn('unreadable push', err);
    return;
  }
  const data_: NotificationData = {
    hostId: payload.hostId,
    sessionId: payload.sessionId,
    ...(payload.type === 'show' && payload.requestId ? { requestId: payload.requestId } : {}),
  };
  const asking = payload.type === 'show' && payload.requestId !== undefined;
  await registration.showNotification(payload.title, {
    body: payload.body,
    tag: payload.tag,
    data: data_,
    // A close replaces the question quietly; a new question or outcome alerts again.
    silent: payload.type === 'close',
    ...(asking
      ? {
          requireInteraction: true,
          actions: [
            { action: ALLOW, title: 'Allow once' },
            { action: DENY, title: 'Deny' },
          ],
        }
      : {}),
  } as NotificationOptions);
}

/** The app at the session (whose screen shows a waiting request). */
export function appUrl(scope: string, data: NotificationData): string {
  return new URL(formatRoute({ name: 'session', param: data.sessionId }), scope).href;
}

/**
 * What a click does: Allow once or Deny answers the request over the device's own channel; the
 * notification's body, or an answer that fails, opens the app at the session.
 */
export async function onNotificationClick(sw: ServiceWorkerGlobalScope, notification: Notification, action: string): Promise<void> {
  const data = notification.data as NotificationData | undefined;
  notification.close();
  if (!data) return openApp(sw, sw.registration.scope);
  if ((action === ALLOW || action === DENY) && data.requestId) {
    try {
      await answer(data.hostId, data.requestId, action === ALLOW ? 'once' : 'reject');
      await sw.registration.showNotification(action === ALLOW ? 'Allowed once' : 'Denied', { body: 'The agent continues.', tag: notification.tag, data, silent: true });
      return;
    } catch (err) {
      console.warn('could not answer from the notification; opening the app', err);
    }
  }
  await openApp(sw, appUrl(sw.registration.scope, data));
}

/** Sends the answer over a fresh channel to the host, with this device's keys from IndexedDB. */
export async function answer(hostId: string, requestId: string, reply: 'once' | 'reject'): Promise<void> {
  const db = await openRelayDb();
  const host = await db.get('hosts', hostId).finally(() => db.close());
  if (!host) throw new Error('this computer is no longer paired');
  // A reconnect's hello names the device only for the record; the host knows it by its key.
  const name = 'OpenWork Relay';
  const platform = 'notification';
  let lastError: unknown = new Error('the computer has no address');
  for (const address of host.addresses) {
    const timer = new AbortController();
    const timeout = setTimeout(() => timer.abort(), ANSWER_TIMEOUT_MS);
    try {
      const channel = await Promise.race([
        connect({ socket: relaySocketUrl(address), deviceKey: host.deviceKey, hostKey: host.hostKey, name, platform }),
        new Promise<never>((_, reject) => timer.signal.addEventListener('abort', () => reject(new Error('the computer did not answer in time')))),
      ]);
      try {
        await channel.request({ t: 'permission.reply', requestId, reply });
        return;
      } finally {
        channel.close(1000, 'answered from a notification');
      }
    } catch (err) {
      lastError = err;
    } finally {
      clearTimeout(timeout);
    }
  }
  throw lastError;
}

async function openApp(sw: ServiceWorkerGlobalScope, url: string): Promise<void> {
  const windows = await sw.clients.matchAll({ type: 'window', includeUncontrolled: true });
  const open = windows[0];
  if (open) {
    await open.focus();
    await open.navigate(url).catch(() => undefined);
    return;
  }
  await sw.clients.openWindow(url);
}
