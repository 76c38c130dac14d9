import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ProtocolError } from './guard.ts';
import { PREVIEW_MAX, parseSessionsList, toPreview, UNAVAILABLE_REASON_MAX } from './sessions-list.ts';

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

test("a summary may carry its last message's preview and how its last turn ended", () => {
  const ended = { kind: 'aborted', name: 'MessageAbortedError', message: '' };
  const listed = { ...summary, preview: 'Done: both files written.', ended };
  assert.deepEqual(parseSessionsList({ sessions: [listed], unavailable: [] }, P).sessions, [listed]);
  assert.throws(() => parseSessionsList({ sessions: [{ ...summary, preview: 'x'.repeat(PREVIEW_MAX + 1) }], unavailable: [] }, P), named('sessions[0].preview'));
  assert.throws(() => parseSessionsList({ sessions: [{ ...summary, ended: { kind: 'gone' } }], unavailable: [] }, P), named('sessions[0].ended.kind'));
});

test('a preview is one line of plain text, capped, and never half a character', () => {
  assert.equal(toPreview('  Fixed it.\n\n- one\r\n- two\t done  '), 'Fixed it. - one - two done');
  assert.equal(toPreview('a\u0000b\u001bc\u202ed\u200be'), 'abcde', 'control and direction characters dropped');
  assert.equal(toPreview('word '.repeat(100)), `${'word '.repeat(31)}word…`, 'PREVIEW_MAX characters with the ellipsis');
  const emoji = toPreview(`${'a'.repeat(PREVIEW_MAX - 2)}😀😀`);
  assert.equal(emoji, `${'a'.repeat(PREVIEW_MAX - 2)}…`, 'the emoji is left out whole');
  assert.equal(toPreview(''), '');
});
