import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resetApp, type ResetDeps } from './reset.ts';

function fakes() {
  const calls: string[] = [];
  const cacheNames = new Set(['relay-shell-v1', 'old']);
  const deps: ResetDeps = {
    serviceWorker: {
      getRegistrations: async () => [{ unregister: async () => (calls.push('unregister'), true) } as unknown as ServiceWorkerRegistration],
    },
    caches: {
      keys: async () => (calls.push('keys'), [...cacheNames]),
      delete: async (name: string) => (calls.push(`delete ${name}`), cacheNames.delete(name)),
    },
    deleteDatabase: async () => void calls.push('deleteDatabase'),
  };
  return { deps, calls, cacheNames };
}

test('unregisters workers before emptying caches, and keeps the database by default', async () => {
  const { deps, calls, cacheNames } = fakes();
  assert.deepEqual(await resetApp({ forgetHosts: false }, deps), { workers: 1, caches: 2, forgotHosts: false });
  assert.deepEqual(calls, ['unregister', 'keys', 'delete relay-shell-v1', 'delete old']);
  assert.equal(cacheNames.size, 0);
});

test('deletes the database when asked to forget hosts', async () => {
  const { deps, calls } = fakes();
  await resetApp({ forgetHosts: true }, deps);
  assert.equal(calls.at(-1), 'deleteDatabase');
});

test('copes with a page that has no service worker or Cache Storage (insecure context)', async () => {
  const result = await resetApp({ forgetHosts: false }, { serviceWorker: undefined, caches: undefined, deleteDatabase: async () => {} });
  assert.deepEqual(result, { workers: 0, caches: 0, forgotHosts: false });
});
