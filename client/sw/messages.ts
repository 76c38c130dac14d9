/**
 * Messages the page posts to the service worker. Typed and checked on arrival, because a worker
 * outlives many versions of the page that talks to it.
 * @module
 */
export type SwMessage = { readonly type: 'skip-waiting' };

export function isSwMessage(data: unknown): data is SwMessage {
  return typeof data === 'object' && data !== null && (data as { type?: unknown }).type === 'skip-waiting';
}
