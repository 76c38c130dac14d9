import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ProtocolError } from './guard.ts';
import { parseHostMessage, parseRequest } from './messages.ts';
import { answersProblem, type QuestionInfo } from './questions.ts';
import { parseEvent } from './runtime-events.ts';

const QUESTION: QuestionInfo = { question: 'Which plan?', header: 'Plan', options: [{ label: 'Small', description: 'a fix' }] };

test('question events parse as the host sends them; a malformed one names its field', () => {
  const asked = { type: 'question.asked', requestId: 'que_1', sessionId: 'ses_1', questions: [QUESTION], tool: { messageId: 'msg_1', callId: 'call_1' }, deadline: 5 };
  assert.deepEqual(parseEvent(asked), asked);
  assert.deepEqual(parseEvent({ type: 'question.rejected', requestId: 'que_1', sessionId: 'ses_1', by: 'timeout' }), {
    type: 'question.rejected',
    requestId: 'que_1',
    sessionId: 'ses_1',
    by: 'timeout',
  });
  assert.deepEqual(parseEvent({ type: 'question.replied', requestId: 'que_1', sessionId: 'ses_1', answers: [['Small']] })?.type, 'question.replied');
  assert.throws(
    () => parseEvent({ ...asked, questions: [{ ...QUESTION, options: [{ label: 1 }] }] }),
    (e: unknown) => e instanceof ProtocolError && /options\[0\]\.label/.test(e.message),
  );
  assert.throws(() => parseEvent({ type: 'question.rejected', requestId: 'que_1', sessionId: 'ses_1', by: 'someone' }), ProtocolError);
  assert.throws(() => parseEvent({ type: 'question.expired', requestId: 'que_1', sessionId: 'ses_1' }), /reason/);
  assert.deepEqual(parseEvent({ type: 'question.expired', requestId: 'que_1', sessionId: 'ses_1', reason: 'withdrawn', at: 5 }), {
    type: 'question.expired',
    requestId: 'que_1',
    sessionId: 'ses_1',
    reason: 'withdrawn',
    at: 5,
  });
});

test('question.reply and question.reject are parsed requests; answers are lists of strings; ids are runtime ids', () => {
  assert.deepEqual(parseRequest({ t: 'question.reply', id: '1', requestId: 'que_1', answers: [['Small'], ['typed']] }), {
    t: 'question.reply',
    id: '1',
    requestId: 'que_1',
    answers: [['Small'], ['typed']],
  });
  assert.deepEqual(parseRequest({ t: 'question.reject', id: '1', requestId: 'que_1' }), { t: 'question.reject', id: '1', requestId: 'que_1' });
  assert.throws(() => parseRequest({ t: 'question.reply', id: '1', requestId: 'que_1', answers: 'Small' }), /answers/);
  assert.throws(() => parseRequest({ t: 'question.reply', id: '1', requestId: 'que_1', answers: [[1]] }), /answers\[0\]/);
  assert.throws(() => parseRequest({ t: 'question.reject', id: '1', requestId: '../pty' }), /ids are letters/);
});

test('resync lists the waiting questions; a host before questions sends none', () => {
  const question = { type: 'question.asked', requestId: 'que_1', sessionId: 'ses_1', questions: [QUESTION] };
  const resync = parseHostMessage({ t: 'resync', reason: 'new', seq: 0, permissions: [], questions: [question] });
  assert.deepEqual(resync.t === 'resync' && resync.questions, [question]);
  const older = parseHostMessage({ t: 'resync', reason: 'new', seq: 0, permissions: [] });
  assert.equal(older.t === 'resync' && older.questions, undefined);
});

test('answers must fit their questions', () => {
  const multi: QuestionInfo = { ...QUESTION, multiple: true, options: [...QUESTION.options, { label: 'Big', description: '' }] };
  assert.equal(answersProblem([QUESTION, multi], [['Small'], ['Small', 'Big']]), undefined);
  assert.equal(answersProblem([QUESTION], [['my own words']]), undefined, 'typed answers are allowed by default');
  assert.match(answersProblem([QUESTION], [['Small'], ['Small']])!, /expected 1 answer, one per question, got 2/);
  assert.match(answersProblem([multi], [['Small', 'Small']])!, /twice/);
  assert.match(answersProblem([{ ...QUESTION, custom: false }], [['other']])!, /not one of its options/);
  assert.match(answersProblem([QUESTION], [['  ']])!, /empty/);
});
