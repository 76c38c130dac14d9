/**
 * The service worker (built to /sw.js, a permanent URL). It only makes the app shell work offline:
 * precache the build, clean up old versions, answer navigations with index.html, and activate an
 * update when the page asks (after the person agreed to reload); and show notifications (push.ts).
 * Everything else, including
 * WebSockets, non-GET requests, cross-origin requests and host endpoints such as /healthz,
 * goes to the network untouched: workbox only responds to GETs that a route below matches.
 */
import { clientsClaim, cacheNames, setCacheNameDetails } from 'workbox-core';
import { createHandlerBoundToURL, precacheAndRoute, type PrecacheEntry } from 'workbox-precaching';
import { NavigationRoute, registerRoute } from 'workbox-routing';
import { isSwMessage } from './messages.ts';
import { onNotificationClick, showPush } from './push.ts';

declare let self: ServiceWorkerGlobalScope & { __WB_MANIFEST: Array<PrecacheEntry | string> };

/** Bump when the cache layout changes: activation deletes every cache this version does not use. */
const CACHE_VERSION = 'v1';

/**
 * Paths the host answers itself; a navigation to one must never get the cached shell. The guides
 * at /trust and /troubleshooting are pages of the build (client/docs/page.ts): the precache
 * route (below) answers them by their clean URL, so they open offline too.
 */
const HOST_PATHS = [/^\/healthz$/, /^\/relay$/, /^\/metrics$/, /^\/admin(\/|$)/, /^\/(trust|troubleshooting)(\/|$)/, /^\/ca\.(crt|pem)$/, /^\/ws(\/|$)/, /^\/api(\/|$)/];

setCacheNameDetails({ prefix: 'relay', precache: 'shell', runtime: 'runtime', suffix: CACHE_VERSION });

precacheAndRoute(self.__WB_MANIFEST);
registerRoute(new NavigationRoute(createHandlerBoundToURL('index.html'), { denylist: HOST_PATHS }));

// Take control of pages opened before the first install, so the shell works offline right away.
// Updates do not skip waiting on their own: the page asks, after the person agreed to reload.
clientsClaim();

self.addEventListener('activate', (event) => {
  event.waitUntil(deleteOtherCaches());
});

self.addEventListener('message', (event) => {
  if (isSwMessage(event.data) && event.data.type === 'skip-waiting') void self.skipWaiting();
});

// Notifications (client/sw/push.ts): each push shows one; a click answers or opens the app.
self.addEventListener('push', (event) => {
  let data: unknown;
  try {
    data = event.data?.json();
  } catch {
    data = undefined;
  }
  event.waitUntil(showPush(self.registration, data));
});

self.addEventListener('notificationclick', (event) => {
  event.waitUntil(onNotificationClick(self, event.notification, event.action));
});

async function deleteOtherCaches(): Promise<void> {
  const keep = new Set([cacheNames.precache, cacheNames.runtime]);
  const stale = (await caches.keys()).filter((name) => !keep.has(name));
  await Promise.all(stale.map((name) => caches.delete(name)));
}
