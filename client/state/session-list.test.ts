import 'fake-indexeddb/auto';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { RequestBody } from '../../shared/channel/client.ts';
import { readResult } from '../../shared/channel/errors.ts';
import { loadSessions } from '../storage/cache.ts';
import type { HostRecord } from '../storage/db.ts';
import { createSessionList } from './session-list.ts';
import { freshDb } from './test-records.ts';
import { createWithDb } from './with-db.ts';

/** A session as the host lists it. */
const session = (id: string, title: string) => ({ sessionId: id, directory: '/w', title, createdAt: 1, updatedAt: 2, state: { status: 'idle' }, waiting: false });

test('workspaces the host could not list are named; what this phone knew there stays until they answer', async () => {
  const requests: RequestBody[] = [];
  const answers: Partial<Record<RequestBody['t'], unknown>> = {};
  const list = createSessionList({
    // IndexedDB does not exist in Node: the list works from memory.
    withDb: createWithDb(() => Promise.reject(new Error('no IndexedDB here'))),
    request: (async (body: RequestBody) => {
      requests.push(body);
      // Read as the channel reads what the host sends.
      return readResult(body.t, answers[body.t]);
    }) as never,
    activeHost: () => ({ hostId: 'H1' }) as HostRecord,
    activeId: () => 'H1',
    generation: () => 0,
    now: Date.now,
  });
  const inB = (id: string, title: string) => ({ ...session(id, title), directory: '/w/b' });
  answers['sessions.list'] = { sessions: [session('ses_a', 'First'), inB('ses_b', 'In b')], unavailable: [] };
  await list.refresh();
  assert.deepEqual(
    requests.find((r) => r.t === 'sessions.list'),
    { t: 'sessions.list' },
  );
  assert.deepEqual(list.unavailable(), []);

  const unavailable = [{ workspace: '/w/b', reason: 'the coding runtime did not answer in time' }];
  answers['sessions.list'] = { sessions: [session('ses_a2', 'Second')], unavailable };
  await list.refresh();
  assert.deepEqual(list.unavailable(), unavailable);
  assert.equal(list.error(), '');
  assert.equal(list.fresh(), true);
  assert.deepEqual(
    list.sessions
      .list()
      .map((s) => s.title)
      .sort(),
    ['In b', 'Second'],
    'ses_a is gone from /w, which answered',
  );

  answers['sessions.list'] = { sessions: [inB('ses_b2', 'Back')], unavailable: [] };
  await list.refresh();
  assert.deepEqual(list.unavailable(), []);
  assert.deepEqual(
    list.sessions.list().map((s) => s.title),
    ['Back'],
  );

  answers['sessions.list'] = { sessions: 'garbled', unavailable };
  await list.refresh();
  assert.match(list.error(), /sessions/);
  assert.deepEqual(list.unavailable(), [], 'a list that failed as a whole says so instead');
});

test('a session made while an answer streams is in the cache before the answer ends', async (t) => {
  const db = freshDb(t);
  const list = createSessionList({
    withDb: createWithDb(() => db),
    request: (async () => session('ses_new', 'New')) as never,
    activeHost: () => ({ hostId: 'H1' }) as HostRecord,
    activeId: () => 'H1',
    generation: () => 0,
    now: Date.now,
  });
  await list.create('key-1');
  // The runtime's status events come faster than a write may wait: an app closed at any moment of
  // this stream still finds the session in its cache when it opens again offline.
  const cached = async () => (await loadSessions(await db, 'H1')).map((s) => s.sessionId);
  const deadline = Date.now() + 10_000;
  let found: string[] = [];
  while (Date.now() < deadline) {
    list.apply({ type: 'session.status', sessionId: 'ses_new', status: 'busy' });
    await new Promise((r) => setTimeout(r, 50));
    list.apply({ type: 'session.status', sessionId: 'ses_new', status: 'idle' });
    found = await cached();
    if (found.length) break;
  }
  assert.deepEqual(found, ['ses_new']);
});
