import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSessionsStore, summariesFromHost } from './sessions.ts';

const raw = (id: string, updated: number, extra: Record<string, unknown> = {}) => ({
  id, slug: 's', projectID: 'p', directory: '/w', title: `Title ${id}`, version: '1', time: { created: 1, updated }, ...extra,
});

test('host sessions become summaries; malformed ones are skipped', () => {
  const list = summariesFromHost([raw('ses_a', 5), { id: 3 }, raw('ses_b', 9, { parentID: 'ses_a' })]);
  assert.deepEqual(list.map((s) => [s.sessionId, s.title, s.updatedAt, s.status, s.parentId]), [
    ['ses_a', 'Title ses_a', 5, 'idle', undefined],
    ['ses_b', 'Title ses_b', 9, 'idle', 'ses_a'],
  ]);
});

test('lists top-level sessions by last activity and follows their status', () => {
  let t = 100;
  const store = createSessionsStore(() => t);
  store.replace(summariesFromHost([raw('ses_a', 5), raw('ses_b', 9), raw('ses_c', 50, { parentID: 'ses_a' })]));
  assert.deepEqual(store.list().map((s) => s.sessionId), ['ses_b', 'ses_a']);
  t = 200;
  assert.equal(store.apply({ type: 'session.status', sessionId: 'ses_a', status: 'busy' }), true);
  assert.deepEqual(store.list().map((s) => [s.sessionId, s.status]), [['ses_a', 'running'], ['ses_b', 'idle']]);
  store.apply({ type: 'session.error', sessionId: 'ses_a', name: 'APIError', message: 'quota' });
  store.apply({ type: 'session.idle', sessionId: 'ses_a' });
  assert.equal(store.get('ses_a')!.status, 'failed');
  assert.match(store.get('ses_a')!.note!, /quota/);
  // A fresh list from the host keeps what only events told us.
  store.replace(summariesFromHost([raw('ses_a', 5), raw('ses_b', 9)]));
  assert.equal(store.get('ses_a')!.status, 'failed');
  store.apply({ type: 'session.deleted', sessionId: 'ses_b' });
  assert.deepEqual(store.list().map((s) => s.sessionId), ['ses_a']);
});
