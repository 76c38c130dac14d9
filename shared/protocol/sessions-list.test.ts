import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ProtocolError } from './guard.ts';
import { parseSessionsList, UNAVAILABLE_REASON_MAX } from './sessions-list.ts';

const named = (field: string) => (e: unknown) => e instanceof ProtocolError && e.message.includes(field);
const P = 'result(sessions.list)';
const summary = { sessionId: 'ses_a', title: 'A', createdAt: 1, updatedAt: 2, directory: '/w/a', state: { status: 'busy' }, waiting: true };

test('a list is read with each summary, its state and the unavailable workspaces', () => {
  const unavailable = [{ workspace: '/w/b', reason: 'the coding runtime did not answer in time' }];
  assert.deepEqual(parseSessionsList({ sessions: [summary], unavailable }, P), { sessions: [summary], unavailable });
  const retrying = { ...summary, parentId: 'ses_p', state: { status: 'retry', attempt: 2, message: 'rate limited', next: 9 }, waiting: false };
  assert.deepEqual(parseSessionsList({ sessions: [retrying], unavailable: [] }, P).sessions, [retrying]);
  const { directory: _d, ...bare } = summary;
  assert.deepEqual(parseSessionsList({ sessions: [bare], unavailable: [] }, P).sessions, [bare], 'optional fields stay absent');
});

test('a malformed answer is refused, naming the field', () => {
  assert.throws(() => parseSessionsList(null, P), named(P));
  assert.throws(() => parseSessionsList({ sessions: {} }, P), named(`${P}.sessions`));
  assert.throws(() => parseSessionsList([summary], P), named(P), 'the plain list of old is no answer any more');
  assert.throws(() => parseSessionsList({ sessions: [{ ...summary, state: { status: 'sleeping' } }], unavailable: [] }, P), named('sessions[0].state.status'));
  assert.throws(() => parseSessionsList({ sessions: [{ ...summary, waiting: 'no' }], unavailable: [] }, P), named('sessions[0].waiting'));
  assert.throws(() => parseSessionsList({ sessions: [{ id: 'ses_a' }], unavailable: [] }, P), named('sessions[0].sessionId'), "the runtime's own shape is not a summary");
  assert.throws(() => parseSessionsList({ sessions: [], unavailable: [{ workspace: '/w' }] }, P), named(`${P}.unavailable[0].reason`));
  assert.throws(() => parseSessionsList({ sessions: [], unavailable: [{ workspace: '', reason: 'x' }] }, P), named('unavailable[0].workspace'));
  assert.throws(() => parseSessionsList({ sessions: [], unavailable: [{ workspace: '/w', reason: 'x'.repeat(UNAVAILABLE_REASON_MAX + 1) }] }, P), named('unavailable[0].reason'));
  assert.throws(() => parseSessionsList({ sessions: [], unavailable: 'all' }, P), named('unavailable'));
});

test('a page names the next one with a cursor; a reverted session names the message it was reverted to', () => {
  const page = parseSessionsList({ sessions: [{ ...summary, revertedTo: 'msg_1' }], unavailable: [], next: '100' }, P);
  assert.deepEqual([page.next, page.sessions[0]!.revertedTo], ['100', 'msg_1']);
  assert.throws(() => parseSessionsList({ sessions: [], unavailable: [], next: 100 }, P), named(`${P}.next`));
  assert.throws(() => parseSessionsList({ sessions: [], unavailable: [], next: '' }, P), named(`${P}.next`));
});
