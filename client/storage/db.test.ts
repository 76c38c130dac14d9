/**
 * The phone's database upgrades in place (fake-indexeddb): what a version 3 app stored (its
 * computers, queued tasks, cached sessions) is still there after the upgrade to version 4, which
 * adds the store of composer options.
 */
import 'fake-indexeddb/auto';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openDB } from 'idb';
import { pairedHost } from '../state/test-records.ts';
import { loadComposerOptions, saveComposerOptions } from './composer.ts';
import { DB_NAME, deleteRelayDb, openRelayDb } from './db.ts';

test('upgrading from version 3 keeps computers, queued tasks and cached sessions, and adds the composer options', async (t) => {
  t.after(deleteRelayDb);
  // The stores as version 3 left them (db.ts, versions 1 to 3).
  const old = await openDB(DB_NAME, 3, {
    upgrade(db) {
      db.createObjectStore('hosts', { keyPath: 'hostId' });
      db.createObjectStore('sessions', { keyPath: ['hostId', 'sessionId'] });
      db.createObjectStore('transcripts', { keyPath: ['hostId', 'sessionId'] });
      db.createObjectStore('outbox', { keyPath: 'key' }).createIndex('byHost', 'hostId');
      db.createObjectStore('meta');
    },
  });
  await old.put('hosts', pairedHost());
  await old.put('outbox', { key: 'tsk_1', hostId: 'H1', order: 1, text: 'queued offline', createdAt: 1, newSession: true });
  await old.put('sessions', { hostId: 'H1', sessionId: 'ses_a', title: 'First', createdAt: 1, updatedAt: 1, status: 'idle', directory: '/w' });
  old.close();

  const db = await openRelayDb();
  t.after(() => db.close());
  assert.equal((await db.get('hosts', 'H1'))?.label, 'Desk');
  assert.equal((await db.get('outbox', 'tsk_1'))?.text, 'queued offline');
  assert.equal((await db.get('sessions', ['H1', 'ses_a']))?.title, 'First');
  const options = { agents: [{ name: 'build' }], models: [], commands: [{ name: 'review' }] };
  await saveComposerOptions(db, 'H1', '/w', options);
  assert.deepEqual(await loadComposerOptions(db, 'H1', '/w'), options);
  assert.equal(await loadComposerOptions(db, 'H1', '/elsewhere'), undefined);
});
