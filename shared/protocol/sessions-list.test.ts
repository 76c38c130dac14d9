import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ProtocolError } from './guard.ts';
import { parseSessionsList, UNAVAILABLE_REASON_MAX } from './sessions-list.ts';

const named = (field: string) => (e: unknown) => e instanceof ProtocolError && e.message.includes(field);

test('both forms are read: { sessions, unavailable } and the plain list of an older host', () => {
  const unavailable = [{ workspace: '/w/b', reason: 'the coding runtime did not answer in time' }];
  assert.deepEqual(parseSessionsList({ sessions: [{ id: 'ses_a' }], unavailable }), { sessions: [{ id: 'ses_a' }], unavailable });
  assert.deepEqual(parseSessionsList([{ id: 'ses_a' }, 'junk']), { sessions: [{ id: 'ses_a' }, 'junk'], unavailable: [] }, 'sessions are left to their own parser');
  assert.deepEqual(parseSessionsList({ sessions: [] }), { sessions: [], unavailable: [] });
});

test('a malformed answer is refused, naming the field', () => {
  assert.throws(() => parseSessionsList(null), named('result(sessions.list)'));
  assert.throws(() => parseSessionsList({ sessions: {} }), named('result(sessions.list).sessions'));
  assert.throws(() => parseSessionsList({ sessions: [], unavailable: [{ workspace: '/w' }] }), named('result(sessions.list).unavailable[0].reason'));
  assert.throws(() => parseSessionsList({ sessions: [], unavailable: [{ workspace: '', reason: 'x' }] }), named('unavailable[0].workspace'));
  assert.throws(() => parseSessionsList({ sessions: [], unavailable: [{ workspace: '/w', reason: 'x'.repeat(UNAVAILABLE_REASON_MAX + 1) }] }), named('unavailable[0].reason'));
  assert.throws(() => parseSessionsList({ sessions: [], unavailable: 'all' }), named('unavailable'));
});
