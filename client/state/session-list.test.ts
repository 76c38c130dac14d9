import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { RequestBody } from '../../shared/channel/client.ts';
import { readResult } from '../../shared/channel/errors.ts';
import type { HostRecord } from '../storage/db.ts';
import { createSessionList } from './session-list.ts';
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
