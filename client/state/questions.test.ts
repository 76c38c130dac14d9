import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RequestError } from '../../shared/channel/client.ts';
import type { QuestionAskedEvent } from '../../shared/protocol/questions.ts';
import { createQuestions } from './questions.ts';

const asked = (id: string): QuestionAskedEvent => ({
  type: 'question.asked',
  requestId: id,
  sessionId: 'ses_a',
  questions: [{ question: 'Which?', header: 'Pick', options: [{ label: 'A', description: '' }] }],
  tool: { messageId: 'm', callId: `call_${id}` },
});

test('an answer the host refuses as expired rejects, and the question shows why, from the code the host sent', async () => {
  const refusal = new RequestError('permission.expired', 'question que_1 expired (runtime-restarted); the answer was not delivered', {
    reason: 'runtime-restarted',
    at: 5,
    detail: 'exit code 1',
  });
  const questions = createQuestions({ request: () => Promise.reject(refusal) });
  questions.asked(asked('que_1'));
  await assert.rejects(questions.reply(questions.waitingList()[0]!, [['A']]), /not delivered/);
  assert.deepEqual(
    questions.ended().map((e) => [e.request.requestId, e.reason]),
    [['que_1', 'the OpenCode runtime restarted (exit code 1) and no longer has this question']],
  );
  assert.deepEqual(questions.waitingList(), []);
  await assert.rejects(questions.reply(asked('que_1'), [['A']]), /can no longer be answered/, 'not sent again');
});

test("the host's timeout and a lost question end it with why; its tool call reads timed out only for the timeout", () => {
  const questions = createQuestions({ request: () => Promise.reject(new Error('no request in this test')) });
  questions.asked(asked('que_1'));
  questions.asked(asked('que_2'));
  questions.end('que_1', 'timeout');
  questions.end('que_2', { reason: 'withdrawn', at: 1 });
  assert.deepEqual(
    questions.ended().map((e) => [e.request.requestId, e.reason, e.timedOut ?? false]),
    [
      ['que_1', 'nobody answered in time, so your computer dismissed it and the agent stopped', true],
      ['que_2', 'the runtime no longer has this question', false],
    ],
  );
  assert.equal(questions.timedOut('call_que_1'), true);
  assert.equal(questions.timedOut('call_que_2'), false);
});
