import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { SessionInfo, SessionSummary } from '../../shared/protocol/sessions-list.ts';
import type { SessionState } from '../../shared/protocol/transcript.ts';
import { createSessionsStore, inWorkspace, summaryFromHost, workspaceName } from './sessions.ts';

/** A session as `session.create` answers it. */
const info = (id: string, updated: number, extra: Partial<SessionInfo> = {}): SessionInfo => ({
  sessionId: id,
  title: `Title ${id}`,
  createdAt: 1,
  updatedAt: updated,
  directory: '/w',
  ...extra,
});
/** A session as `sessions.list` answers it: with the runtime's state of it. */
const listed = (id: string, updated: number, state: SessionState = { status: 'idle' }, extra: Partial<SessionInfo> = {}): SessionSummary => ({
  ...info(id, updated, extra),
  state,
  waiting: false,
});

test('host sessions become summaries: listed ones with their status, made ones without', () => {
  const list = [listed('ses_a', 5), listed('ses_b', 9, { status: 'busy' }, { parentId: 'ses_a' }), info('ses_c', 11)].map(summaryFromHost);
  assert.deepEqual(
    list.map((s) => [s.sessionId, s.title, s.updatedAt, s.status, s.parentId]),
    [
      ['ses_a', 'Title ses_a', 5, 'idle', undefined],
      ['ses_b', 'Title ses_b', 9, 'running', 'ses_a'],
      ['ses_c', 'Title ses_c', 11, undefined, undefined],
    ],
  );
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
  store.replace(
    [summaryFromHost(listed('ses_a', 60, { status: 'idle' }, { directory: '/w/a' }))],
    (known) => known.directory !== undefined && inWorkspace(known.directory, '/w/b'),
  );
  assert.deepEqual(
    store.list().map((s) => [s.sessionId, s.status, s.note]),
    [
      ['ses_a', 'idle', undefined],
      ['ses_b', 'failed', 'quota'],
    ],
    'a session deleted in a workspace that answered goes',
  );
});

test('the live status the host lists becomes the summary status; a retry is running with a note', () => {
  const list = [
    listed('ses_busy', 1, { status: 'busy' }),
    listed('ses_idle', 2, { status: 'idle' }),
    listed('ses_retry', 3, { status: 'retry', attempt: 3, message: 'Rate limited', next: 1700000000000 }),
  ].map(summaryFromHost);
  assert.deepEqual(
    list.map((s) => [s.sessionId, s.status, s.note]),
    [
      ['ses_busy', 'running', undefined],
      ['ses_idle', 'idle', undefined],
      ['ses_retry', 'running', 'Retrying (attempt 3): Rate limited'],
    ],
  );
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
  store.replace(
    [listed('ses_a', 60, { status: 'idle' }), listed('ses_b', 70, { status: 'busy' }), listed('ses_c', 80, { status: 'retry', attempt: 1, message: 'overloaded', next: 2 })].map(
      summaryFromHost,
    ),
  );
  assert.deepEqual(
    store.list().map((s) => [s.sessionId, s.status, s.note]),
    [
      ['ses_c', 'running', 'Retrying (attempt 1): overloaded'],
      ['ses_b', 'running', undefined],
      ['ses_a', 'idle', undefined],
    ],
  );
  // Events carry on from there.
  t = 2000;
  store.apply({ type: 'session.status', sessionId: 'ses_c', status: 'busy' });
  assert.equal(store.get('ses_c')!.note, undefined, 'the retry note goes once it runs again');
  store.apply({ type: 'session.status', sessionId: 'ses_b', status: 'retry', attempt: 2, message: 'quota', next: 3 });
  assert.deepEqual([store.get('ses_b')!.status, store.get('ses_b')!.note], ['running', 'Retrying (attempt 2): quota']);
  // A session the host lists without a status (a session.create answer) keeps what is known.
  store.replace([...store.list(), summaryFromHost(info('ses_new', 90))]);
  assert.deepEqual(
    store.list().map((s) => [s.sessionId, s.status]),
    [
      ['ses_b', 'running'],
      ['ses_c', 'running'],
      ['ses_new', 'idle'],
      ['ses_a', 'idle'],
    ],
  );
});

test('lists top-level sessions by last activity and follows their status', () => {
  let t = 100;
  const store = createSessionsStore(() => t);
  store.replace([listed('ses_a', 5), listed('ses_b', 9), listed('ses_c', 50, undefined, { parentId: 'ses_a' })].map(summaryFromHost));
  assert.deepEqual(
    store.list().map((s) => s.sessionId),
    ['ses_b', 'ses_a'],
  );
  t = 200;
  assert.equal(store.apply({ type: 'session.status', sessionId: 'ses_a', status: 'busy' }), true);
  assert.deepEqual(
    store.list().map((s) => [s.sessionId, s.status]),
    [
      ['ses_a', 'running'],
      ['ses_b', 'idle'],
    ],
  );
  store.apply({ type: 'session.error', sessionId: 'ses_a', kind: 'provider', name: 'APIError', message: 'quota' });
  store.apply({ type: 'session.idle', sessionId: 'ses_a' });
  assert.equal(store.get('ses_a')!.status, 'failed');
  assert.match(store.get('ses_a')!.note!, /quota/);
  // The runtime says idle after a failure: a fresh list keeps the failure while nothing happened since…
  store.replace([listed('ses_a', 5), listed('ses_b', 9)].map(summaryFromHost));
  assert.equal(store.get('ses_a')!.status, 'failed');
  assert.match(store.get('ses_a')!.note!, /quota/);
  // …and drops it once the session was active again (a later task, unseen while offline).
  store.replace([listed('ses_a', 300), listed('ses_b', 9)].map(summaryFromHost));
  assert.deepEqual([store.get('ses_a')!.status, store.get('ses_a')!.note], ['idle', undefined]);
  store.apply({ type: 'session.error', sessionId: 'ses_a', kind: 'provider', name: 'APIError', message: 'quota' });
  store.apply({ type: 'session.deleted', sessionId: 'ses_b' });
  assert.deepEqual(
    store.list().map((s) => s.sessionId),
    ['ses_a'],
  );
});

test("an interrupted session reads Interrupted in the list until it runs again; the host's word on one session settles its status", () => {
  const cut = { messageId: 'msg_a', at: 7, reason: 'host-restarted' as const };
  const store = createSessionsStore(() => 1000);
  store.replace(
    [listed('ses_a', 5, { status: 'idle' }), { ...listed('ses_b', 6, { status: 'idle' }), interrupted: cut }, { ...listed('ses_c', 7, { status: 'busy' }), interrupted: cut }].map(
      summaryFromHost,
    ),
  );
  assert.deepEqual(
    store.list().map((s) => [s.sessionId, s.status]),
    [
      ['ses_c', 'running'],
      ['ses_b', 'interrupted'],
      ['ses_a', 'idle'],
    ],
  );
  assert.equal(store.apply({ type: 'session.interrupted', sessionId: 'ses_a', ...cut }), true);
  assert.equal(store.get('ses_a')?.status, 'interrupted');
  // The restarted runtime then says the session is idle: it is, and still reads interrupted.
  store.apply({ type: 'session.status', sessionId: 'ses_a', status: 'idle' });
  store.apply({ type: 'session.idle', sessionId: 'ses_a' });
  assert.equal(store.get('ses_a')?.status, 'interrupted');
  // A list the host made before it recorded the interruption does not undo it either.
  store.replace([listed('ses_a', 5, { status: 'idle' })].map(summaryFromHost));
  assert.equal(store.get('ses_a')?.status, 'interrupted');
  store.apply({ type: 'session.status', sessionId: 'ses_a', status: 'busy' });
  assert.equal(store.get('ses_a')?.status, 'running', 'Retry runs it');

  // The list said running (its events were lost); the session's transcript says otherwise.
  assert.equal(store.settle('ses_a', 'interrupted', ''), true);
  assert.equal(store.get('ses_a')?.status, 'interrupted');
  assert.equal(store.settle('ses_a', 'interrupted', ''), false, 'nothing changed: nothing to save');
  assert.equal(store.settle('ses_x', 'idle', ''), false, 'a session the list does not have is left to the list');
});

test("a task's sub-agent sessions are not listed at the top but found from their parent, as they appear", () => {
  const store = createSessionsStore(() => 100);
  store.replace([listed('ses_a', 5), listed('ses_c', 50, undefined, { parentId: 'ses_a', createdAt: 3 })].map(summaryFromHost));
  // A sub-agent the task starts while the phone watches: known from its event alone.
  store.apply({ type: 'session.updated', sessionId: 'ses_d', title: 'Look around (@general subagent)', createdAt: 2, updatedAt: 60, parentId: 'ses_a' });
  assert.deepEqual(
    store.list().map((s) => s.sessionId),
    ['ses_a'],
  );
  assert.deepEqual(
    store.children('ses_a').map((s) => s.sessionId),
    ['ses_d', 'ses_c'],
    'oldest first',
  );
  assert.deepEqual(store.children('ses_c'), []);
});

test('a reverted session says to which message, from the list and from its events, until it is unreverted', () => {
  const store = createSessionsStore(() => 100);
  store.replace([listed('ses_a', 5, undefined, { revertedTo: 'msg_1' })].map(summaryFromHost));
  assert.equal(store.get('ses_a')!.revertedTo, 'msg_1');
  store.apply({ type: 'session.updated', ...info('ses_a', 6) });
  assert.equal(store.get('ses_a')!.revertedTo, undefined, 'an update without one: unreverted');
  assert.ok(!('revertedTo' in store.get('ses_a')!), 'nothing left behind to store');
  store.apply({ type: 'session.updated', ...info('ses_a', 7, { revertedTo: 'msg_2' }) });
  assert.equal(store.get('ses_a')!.revertedTo, 'msg_2');
});

test('how the last turn ended: stopped or failed from the host, stopped and previews live from events', () => {
  const store = createSessionsStore(() => 100);
  const aborted = { kind: 'aborted', name: 'MessageAbortedError', message: '' } as const;
  const failed = { kind: 'provider', name: 'APIError', message: 'quota' } as const;
  store.replace(
    [
      { ...listed('ses_s', 5), preview: 'half an answer', ended: aborted },
      { ...listed('ses_f', 6), ended: failed },
      { ...listed('ses_r', 7, { status: 'busy' }), ended: aborted },
    ].map(summaryFromHost),
  );
  assert.deepEqual([store.get('ses_s')!.status, store.get('ses_s')!.stopped, store.get('ses_s')!.preview], ['idle', true, 'half an answer']);
  assert.deepEqual([store.get('ses_f')!.status, store.get('ses_f')!.stopped], ['failed', undefined]);
  assert.match(store.get('ses_f')!.note!, /quota/);
  assert.deepEqual([store.get('ses_r')!.status, store.get('ses_r')!.stopped], ['running', undefined], 'running again: no ending yet');

  store.apply({ type: 'session.status', sessionId: 'ses_s', status: 'busy' });
  assert.equal(store.get('ses_s')!.stopped, undefined, 'running again');
  store.apply({ type: 'message.text.updated', sessionId: 'ses_s', messageId: 'm', partId: 'p', text: 'Half\n\nway', done: false });
  assert.equal(store.get('ses_s')!.preview, 'half an answer', 'not while the text is being written');
  store.apply({ type: 'message.text.updated', sessionId: 'ses_s', messageId: 'm', partId: 'p', text: 'All\n\ndone.', done: true });
  assert.equal(store.get('ses_s')!.preview, 'All done.');
  store.apply({ type: 'session.error', sessionId: 'ses_s', ...aborted });
  store.apply({ type: 'session.idle', sessionId: 'ses_s' });
  assert.deepEqual([store.get('ses_s')!.status, store.get('ses_s')!.stopped], ['idle', true]);
  // The stopped reply says so too, should the runtime's error name no session.
  store.apply({ type: 'session.status', sessionId: 'ses_r', status: 'busy' });
  store.apply({ type: 'message.updated', sessionId: 'ses_r', messageId: 'm2', role: 'assistant', time: { created: 1 }, error: aborted });
  store.apply({ type: 'session.error', ...aborted });
  store.apply({ type: 'session.status', sessionId: 'ses_r', status: 'idle' });
  assert.deepEqual([store.get('ses_r')!.status, store.get('ses_r')!.stopped], ['idle', true]);
});
