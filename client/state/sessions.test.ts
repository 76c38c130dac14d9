import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ProtocolError } from '../../shared/protocol/guard.ts';
import { createSessionsStore, inWorkspace, listFromHost, summariesFromHost, workspaceName } from './sessions.ts';

const raw = (id: string, updated: number, extra: Record<string, unknown> = {}) => ({
  id, slug: 's', projectID: 'p', directory: '/w', title: `Title ${id}`, version: '1', time: { created: 1, updated }, ...extra,
});

test('host sessions become summaries; malformed ones are skipped', () => {
  const list = summariesFromHost([raw('ses_a', 5), { id: 3 }, raw('ses_b', 9, { parentID: 'ses_a' })]);
  assert.deepEqual(list.map((s) => [s.sessionId, s.title, s.updatedAt, s.status, s.parentId]), [
    ['ses_a', 'Title ses_a', 5, undefined, undefined],
    ['ses_b', 'Title ses_b', 9, undefined, 'ses_a'],
  ]);
});

test('a list answer names the workspaces that did not answer; a plain list (an older host) names none', () => {
  const unavailable = [{ workspace: '/w/b', reason: 'the coding runtime did not answer in time' }];
  const listed = listFromHost({ sessions: [raw('ses_a', 5), { id: 3 }], unavailable });
  assert.deepEqual(listed.sessions.map((s) => s.sessionId), ['ses_a']);
  assert.deepEqual(listed.unavailable, unavailable);
  const older = listFromHost([raw('ses_a', 5)]);
  assert.deepEqual([older.sessions.map((s) => s.sessionId), older.unavailable], [['ses_a'], []]);
  assert.throws(() => listFromHost({ sessions: [], unavailable: [{ workspace: '/w/b' }] }), ProtocolError);
  assert.throws(() => listFromHost('nonsense'), ProtocolError);
});

test('workspaces: what lies inside one, and the name a person knows it by', () => {
  assert.ok(inWorkspace('/w/b', '/w/b') && inWorkspace('/w/b/pkg', '/w/b') && inWorkspace('/w/b/pkg', '/w/b/'));
  assert.ok(!inWorkspace('/w/bc', '/w/b') && !inWorkspace('/w', '/w/b'));
  assert.ok(inWorkspace('C:\\code\\app\\src', 'C:\\code\\app'));
  assert.deepEqual(['/home/me/code/app', '/home/me/code/app/', 'C:\\code\\app', '/'].map(workspaceName), ['app', 'app', 'app', '/']);
});

test('a workspace that did not answer keeps the sessions last known in it', () => {
  const store = createSessionsStore(() => 1000);
  store.replace([
    { sessionId: 'ses_a', title: 'A', createdAt: 1, updatedAt: 50, status: 'idle', directory: '/w/a' },
    { sessionId: 'ses_b', title: 'B', createdAt: 1, updatedAt: 40, status: 'failed', note: 'quota', directory: '/w/b/pkg' },
    { sessionId: 'ses_gone', title: 'Gone', createdAt: 1, updatedAt: 30, status: 'idle', directory: '/w/a' },
  ]);
  store.replace(summariesFromHost([raw('ses_a', 60, { directory: '/w/a' })]), (known) => known.directory !== undefined && inWorkspace(known.directory, '/w/b'));
  assert.deepEqual(store.list().map((s) => [s.sessionId, s.status, s.note]), [['ses_a', 'idle', undefined], ['ses_b', 'failed', 'quota']], 'a session deleted in a workspace that answered goes');
});

test('the live status the host lists becomes the summary status; a retry is running with a note', () => {
  const list = summariesFromHost([
    raw('ses_busy', 1, { relayStatus: { type: 'busy' } }),
    raw('ses_idle', 2, { relayStatus: { type: 'idle' } }),
    raw('ses_retry', 3, { relayStatus: { type: 'retry', attempt: 3, message: 'Rate limited', next: 1700000000000 } }),
    raw('ses_odd', 4, { relayStatus: { type: 'sleeping' } }),
  ]);
  assert.deepEqual(list.map((s) => [s.sessionId, s.status, s.note]), [
    ['ses_busy', 'running', undefined],
    ['ses_idle', 'idle', undefined],
    ['ses_retry', 'running', 'Retrying (attempt 3): Rate limited'],
    ['ses_odd', undefined, undefined],
  ]);
  assert.ok(!('note' in list[0]!), 'no empty note');
});

test('a cold list shows what runs now; the host answer replaces stale statuses', () => {
  let t = 1000;
  const store = createSessionsStore(() => t);
  // A cached copy from the last visit, when ses_a was running and ses_b idle.
  store.replace([
    { sessionId: 'ses_a', title: 'A', createdAt: 1, updatedAt: 50, status: 'running' },
    { sessionId: 'ses_b', title: 'B', createdAt: 1, updatedAt: 40, status: 'idle' },
  ]);
  store.replace(summariesFromHost([
    raw('ses_a', 60, { relayStatus: { type: 'idle' } }),
    raw('ses_b', 70, { relayStatus: { type: 'busy' } }),
    raw('ses_c', 80, { relayStatus: { type: 'retry', attempt: 1, message: 'overloaded', next: 2 } }),
  ]));
  assert.deepEqual(store.list().map((s) => [s.sessionId, s.status, s.note]), [
    ['ses_c', 'running', 'Retrying (attempt 1): overloaded'],
    ['ses_b', 'running', undefined],
    ['ses_a', 'idle', undefined],
  ]);
  // Events carry on from there.
  t = 2000;
  store.apply({ type: 'session.status', sessionId: 'ses_c', status: 'busy' });
  assert.equal(store.get('ses_c')!.note, undefined, 'the retry note goes once it runs again');
  store.apply({ type: 'session.status', sessionId: 'ses_b', status: 'retry', attempt: 2, message: 'quota', next: 3 });
  assert.deepEqual([store.get('ses_b')!.status, store.get('ses_b')!.note], ['running', 'Retrying (attempt 2): quota']);
  // A session the host lists without a status (a session.create answer) keeps what is known.
  store.replace([...store.list(), ...summariesFromHost(raw('ses_new', 90))]);
  assert.deepEqual(store.list().map((s) => [s.sessionId, s.status]), [['ses_b', 'running'], ['ses_c', 'running'], ['ses_new', 'idle'], ['ses_a', 'idle']]);
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
  // The runtime says idle after a failure: a fresh list keeps the failure while nothing happened since…
  store.replace(summariesFromHost([raw('ses_a', 5, { relayStatus: { type: 'idle' } }), raw('ses_b', 9, { relayStatus: { type: 'idle' } })]));
  assert.equal(store.get('ses_a')!.status, 'failed');
  assert.match(store.get('ses_a')!.note!, /quota/);
  // …and drops it once the session was active again (a later task, unseen while offline).
  store.replace(summariesFromHost([raw('ses_a', 300, { relayStatus: { type: 'idle' } }), raw('ses_b', 9, { relayStatus: { type: 'idle' } })]));
  assert.deepEqual([store.get('ses_a')!.status, store.get('ses_a')!.note], ['idle', undefined]);
  store.apply({ type: 'session.error', sessionId: 'ses_a', name: 'APIError', message: 'quota' });
  store.apply({ type: 'session.deleted', sessionId: 'ses_b' });
  assert.deepEqual(store.list().map((s) => s.sessionId), ['ses_a']);
});
