/**
 * "Reset app": removes the service worker and every cache, and optionally all stored data, so the
 * next load starts from what the computer serves now. The way out of a broken or stuck install.
 * @module
 */
import { deleteRelayDb } from '../../storage/db.ts';

export interface ResetOptions {
  /** Also delete IndexedDB: paired hosts, cached sessions, unsent messages. */
  forgetHosts: boolean;
}

export interface ResetResult {
  workers: number;
  caches: number;
  forgotHosts: boolean;
}

/** The browser APIs used, passed in so tests can supply fakes. */
export interface ResetDeps {
  serviceWorker: Pick<ServiceWorkerContainer, 'getRegistrations'> | undefined;
  caches: Pick<CacheStorage, 'keys' | 'delete'> | undefined;
  deleteDatabase: () => Promise<void>;
}

const browserDeps = (): ResetDeps => ({
  // Both are missing on insecure pages; then there is nothing of theirs to reset.
  serviceWorker: 'serviceWorker' in navigator ? navigator.serviceWorker : undefined,
  caches: 'caches' in globalThis ? caches : undefined,
  deleteDatabase: deleteRelayDb,
});

export async function resetApp(opts: ResetOptions, deps: ResetDeps = browserDeps()): Promise<ResetResult> {
  // Unregister first, so a worker cannot refill the caches while they are being emptied.
  const registrations = (await deps.serviceWorker?.getRegistrations()) ?? [];
  await Promise.all(registrations.map((r) => r.unregister()));
  const names = (await deps.caches?.keys()) ?? [];
  await Promise.all(names.map((name) => deps.caches!.delete(name)));
  if (opts.forgetHosts) await deps.deleteDatabase();
  return { workers: registrations.length, caches: names.length, forgotHosts: opts.forgetHosts };
}
