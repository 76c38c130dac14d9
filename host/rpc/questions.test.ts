import { test } from 'node:test';
import assert from 'node:assert/strict';
import { silentLogger } from '../log.ts';
import { RelayError } from '../../shared/protocol/errors.ts';
import type { QuestionAskedEvent, QuestionInfo } from '../../shared/protocol/questions.ts';
import type { ListedQuestion } from '../runtime/port.ts';
import { createQuestionDesk, type QuestionNotice, type QuestionRuntime } from './questions.ts';

const QUESTIONS: QuestionInfo[] = [
  {
    question: 'Which plan?',
    header: 'Plan',
    options: [
      { label: 'Small', description: 'a fix' },
      { label: 'Big', description: 'a rewrite' },
    ],
  },
  {
    question: 'Which checks?',
    header: 'Checks',
    multiple: true,
    options: [
      { label: 'Unit', description: '' },
      { label: 'Lint', description: '' },
    ],
  },
];

/** A runtime that lists `listed` (by reference, so a test can empty it) and records answers. */
function fakeRuntime(listed: ListedQuestion[], unseen: string[] = []) {
  const calls: unknown[][] = [];
  let fail = false;
  const runtime: QuestionRuntime = {
    listQuestions: async () => ({ requests: [...listed], unavailable: unseen.length ? [{ workspace: '/w/b', reason: 'down' }] : [], unseen: [...unseen] }),
    replyQuestion: async (id, answers) => {
      if (fail) throw new Error('answer question failed: 500');
      calls.push(['reply', id, answers]);
    },
    rejectQuestion: async (id) => void calls.push(['reject', id]),
  };
  return { runtime, calls, failNext: () => (fail = true) };
}

const listed = (id: string, sessionID = 'ses_a'): ListedQuestion => ({ id, sessionID, questions: QUESTIONS, tool: { messageID: 'msg_1', callID: 'call_1' } });
const asked = (requestId: string, sessionId = 'ses_a'): QuestionAskedEvent => ({
  type: 'question.asked',
  requestId,
  sessionId,
  questions: QUESTIONS,
  tool: { messageId: 'msg_1', callId: 'call_1' },
});
const code = (c: string, re?: RegExp) => (e: unknown) => e instanceof RelayError && e.code === c && (!re || re.test(e.message));

test('answers that fit reach the runtime once; the question is then no longer pending', async () => {
  const f = fakeRuntime([listed('que_1')]);
  const desk = createQuestionDesk(f.runtime, silentLogger);
  desk.observe(asked('que_1'));
  assert.deepEqual(
    desk.pending().map((q) => q.requestId),
    ['que_1'],
  );
  await desk.reply('que_1', [['Big'], ['Unit', 'Lint']]);
  assert.deepEqual(f.calls, [['reply', 'que_1', [['Big'], ['Unit', 'Lint']]]]);
  assert.deepEqual(desk.pending(), []);
  await assert.rejects(desk.reply('que_1', [['Big'], ['Unit']]), code('request.unknown', /already/));
  assert.equal(f.calls.length, 1);
});

test('answers that do not fit the questions are refused before the runtime sees them', async () => {
  const f = fakeRuntime([listed('que_1')]);
  const desk = createQuestionDesk(f.runtime, silentLogger);
  desk.observe(asked('que_1'));
  const invalid = (re: RegExp) => code('protocol.invalid', re);
  await assert.rejects(desk.reply('que_1', [['Big']]), invalid(/expected 2 answers/));
  await assert.rejects(desk.reply('que_1', [['Big', 'Small'], ['Unit']]), invalid(/takes one/));
  await assert.rejects(desk.reply('que_1', [[], ['Unit']]), invalid(/empty/));
  await assert.rejects(desk.reply('que_1', [['Big'], ['typed', 'also typed']]), invalid(/more than one typed/));
  assert.deepEqual(f.calls, []);
  // A typed answer is allowed unless the question says `custom: false`.
  await desk.reply('que_1', [['Something else'], ['Unit']]);
  assert.deepEqual(f.calls, [['reply', 'que_1', [['Something else'], ['Unit']]]]);
  const strict = fakeRuntime([{ ...listed('que_2'), questions: [{ ...QUESTIONS[0]!, custom: false }] }]);
  await assert.rejects(createQuestionDesk(strict.runtime, silentLogger).reply('que_2', [['Other']]), invalid(/not one of its options/));
});

test('a dismissal reaches the runtime as its reject', async () => {
  const f = fakeRuntime([listed('que_1')]);
  const desk = createQuestionDesk(f.runtime, silentLogger);
  desk.observe(asked('que_1'));
  await desk.reject('que_1');
  assert.deepEqual(f.calls, [['reject', 'que_1']]);
  assert.deepEqual(desk.pending(), []);
});

test('a question the runtime lost expires with the reason; answering it is refused, not reported delivered', async () => {
  const runtimeList = [listed('que_1'), listed('que_2')];
  const f = fakeRuntime(runtimeList);
  const notices: QuestionNotice[] = [];
  const desk = createQuestionDesk(f.runtime, silentLogger, (n) => notices.push(n));
  desk.observe(asked('que_1'));
  desk.observe(asked('que_2'));
  runtimeList.length = 0; // the runtime restarted
  await desk.sync('runtime-restarted', 'killed by SIGKILL');
  assert.deepEqual(
    notices.map((n) => ({ ...n, at: 0 })),
    [
      { type: 'question.expired', requestId: 'que_1', sessionId: 'ses_a', reason: 'runtime-restarted', detail: 'killed by SIGKILL', at: 0 },
      { type: 'question.expired', requestId: 'que_2', sessionId: 'ses_a', reason: 'runtime-restarted', detail: 'killed by SIGKILL', at: 0 },
    ],
  );
  assert.deepEqual(desk.pending(), []);
  await assert.rejects(
    desk.reply('que_1', [['Big'], ['Unit']]),
    (e: unknown) => code('permission.expired')(e) && e instanceof RelayError && e.expiry?.reason === 'runtime-restarted' && e.expiry.detail === 'killed by SIGKILL',
  );
  await assert.rejects(desk.reject('que_2'), code('permission.expired'));
  await assert.rejects(desk.reject('que_never'), code('request.unknown', /no question/));
  assert.deepEqual(f.calls, []);
});

test('a question found in the runtime that the host never saw is announced; one in a workspace not answering keeps waiting', async () => {
  const f = fakeRuntime([listed('que_new', 'ses_b')], ['que_hidden']);
  const notices: QuestionNotice[] = [];
  const desk = createQuestionDesk(f.runtime, silentLogger, (n) => notices.push(n));
  desk.observe(asked('que_hidden'));
  await desk.sync('withdrawn');
  assert.deepEqual(notices, [asked('que_new', 'ses_b')]);
  assert.deepEqual(
    desk.pending().map((q) => q.requestId),
    ['que_hidden', 'que_new'],
  );
  await assert.rejects(desk.reply('que_hidden', [['Big'], ['Unit']]), code('runtime.error', /still waits/));
  assert.deepEqual(
    desk.pending().map((q) => q.requestId),
    ['que_hidden', 'que_new'],
    'refused, not expired',
  );
});

test('answered or dismissed elsewhere: no longer pending', () => {
  const desk = createQuestionDesk(fakeRuntime([]).runtime, silentLogger);
  desk.observe(asked('que_1'));
  desk.observe(asked('que_2'));
  desk.observe({ type: 'question.replied', requestId: 'que_1', sessionId: 'ses_a', answers: [['Big'], ['Unit']] });
  desk.observe({ type: 'question.rejected', requestId: 'que_2', sessionId: 'ses_a' });
  assert.deepEqual(desk.pending(), []);
});

test('a session that went idle with a question open (its turn was stopped) has the question dismissed in the runtime', async () => {
  const f = fakeRuntime([listed('que_1'), listed('que_2', 'ses_b')]);
  const desk = createQuestionDesk(f.runtime, silentLogger);
  desk.observe(asked('que_1'));
  desk.observe(asked('que_2', 'ses_b'));
  desk.observe({ type: 'session.idle', sessionId: 'ses_a' });
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(f.calls, [['reject', 'que_1']], 'only the idle session’s question');
});

test('a failed delivery of a question the runtime still has is reported as the runtime’s error, and it stays answerable', async () => {
  const f = fakeRuntime([listed('que_1')]);
  const desk = createQuestionDesk(f.runtime, silentLogger);
  desk.observe(asked('que_1'));
  f.failNext();
  await assert.rejects(desk.reply('que_1', [['Big'], ['Unit']]), /500/);
  assert.deepEqual(
    desk.pending().map((q) => q.requestId),
    ['que_1'],
  );
});
