import { test, mock } from 'node:test';
import assert from 'node:assert/strict';
import { silentLogger } from '../log.ts';
import type { RelayRuntimeEvent } from '../../shared/protocol/runtime-events.ts';
import { startPermissionTimeouts, startQuestionTimeouts, timeoutDenial, timeoutMessage, type QuestionTimeoutRuntime, type TimeoutRuntime } from './timeouts.ts';

/** `unseen`: ids of a workspace that is not answering, named by the list but not in it. */
function fakeRuntime(open: string[] = [], unseen: string[] = []) {
  const listeners = new Set<(e: RelayRuntimeEvent) => void>();
  const replies: unknown[][] = [];
  let failReplies = false;
  const runtime: TimeoutRuntime = {
    onEvent: (l) => (listeners.add(l), () => listeners.delete(l)),
    listPermissions: async () => ({
      requests: open.map((id) => ({ id })),
      unavailable: unseen.length ? [{ workspace: '/w/broken', reason: 'instance down' }] : [],
      unseen: [...unseen],
    }),
    replyPermission: async (...args) => {
      if (failReplies) throw new Error('404');
      replies.push(args);
    },
    subscribed: async () => {},
  };
  const emit = (e: RelayRuntimeEvent) => listeners.forEach((l) => void l(e));
  const asked = (requestId: string) => emit({ type: 'permission.asked', requestId, sessionId: 's', permission: 'bash', patterns: ['ls'], always: [], metadata: {} });
  const replied = (requestId: string) => emit({ type: 'permission.replied', requestId, sessionId: 's', reply: 'once' });
  return { runtime, replies, emit, asked, replied, listeners, failReplies: (fail = true) => (failReplies = fail) };
}

const flush = () => new Promise((r) => setImmediate(r));

test('the message says how long nobody answered, and apps recognise it in a tool error', () => {
  assert.equal(timeoutDenial(`The user rejected permission to use this specific tool call with the following feedback: ${timeoutMessage(90)}`), timeoutMessage(90));
  assert.equal(timeoutDenial('The user rejected permission to use this specific tool call.'), undefined);
  assert.equal(timeoutMessage(300), 'No one answered within 5 minutes, so the host denied it');
  assert.equal(timeoutMessage(60), 'No one answered within 1 minute, so the host denied it');
  assert.equal(timeoutMessage(90), 'No one answered within 90 seconds, so the host denied it');
});

test('an unanswered question is denied with the reason after the configured time; an answered one is not', async (t) => {
  mock.timers.enable({ apis: ['setTimeout'] });
  t.after(() => mock.timers.reset());
  const f = fakeRuntime();
  const timedOut: string[] = [];
  const timeouts = startPermissionTimeouts({ runtime: f.runtime, timeoutSeconds: 120, log: silentLogger, onTimeout: (id) => timedOut.push(id) });
  await flush();
  f.asked('per_a');
  f.asked('per_b');
  assert.equal(timeouts.waiting(), 2);
  mock.timers.tick(60_000);
  f.replied('per_b');
  mock.timers.tick(59_999);
  assert.deepEqual(f.replies, []);
  mock.timers.tick(1);
  await flush();
  assert.deepEqual(f.replies, [['per_a', 'reject', 'No one answered within 2 minutes, so the host denied it']]);
  assert.deepEqual(timedOut, ['per_a']);
  assert.equal(timeouts.answeredByTimeout('per_a'), true);
  assert.equal(timeouts.answeredByTimeout('per_b'), false);
  assert.equal(timeouts.waiting(), 0);
  timeouts.stop();
  assert.equal(f.listeners.size, 0);
});

test('each waiting question has a deadline devices can count down to, until it is answered', async (t) => {
  mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 1_000_000 });
  t.after(() => mock.timers.reset());
  const f = fakeRuntime();
  const timeouts = startPermissionTimeouts({ runtime: f.runtime, timeoutSeconds: 120, log: silentLogger });
  await flush();
  f.asked('per_a');
  assert.equal(timeouts.deadlineOf('per_a'), 1_000_000 + 120_000);
  mock.timers.tick(30_000);
  f.asked('per_a');
  assert.equal(timeouts.deadlineOf('per_a'), 1_120_000, 'asked again (a replay): the wait does not restart');
  assert.equal(timeouts.deadlineOf('per_other'), undefined);
  f.replied('per_a');
  assert.equal(timeouts.deadlineOf('per_a'), undefined, 'answered: nothing to count down to');
  timeouts.stop();
});

test('questions asked while the host was not listening are found and timed too; a failed denial is not counted', async (t) => {
  mock.timers.enable({ apis: ['setTimeout'] });
  t.after(() => mock.timers.reset());
  const open = ['per_early'];
  const f = fakeRuntime(open);
  const timedOut: string[] = [];
  const timeouts = startPermissionTimeouts({ runtime: f.runtime, timeoutSeconds: 1, log: silentLogger, onTimeout: (id) => timedOut.push(id) });
  await flush();
  assert.equal(timeouts.waiting(), 1);
  open.splice(0, 1, 'per_missed');
  f.emit({ type: 'runtime.reconnected' });
  await flush();
  assert.equal(timeouts.waiting(), 1, 'the answered one was dropped, the missed one added');
  f.failReplies();
  mock.timers.tick(1000);
  await flush();
  assert.deepEqual(timedOut, []);
  assert.equal(timeouts.answeredByTimeout('per_missed'), false);
  timeouts.stop();
});

test('a question whose workspace is not answering keeps its timer; a denial it could not take is tried again later', async (t) => {
  mock.timers.enable({ apis: ['setTimeout'] });
  t.after(() => mock.timers.reset());
  const unseen: string[] = [];
  const f = fakeRuntime([], unseen);
  const timedOut: string[] = [];
  const timeouts = startPermissionTimeouts({ runtime: f.runtime, timeoutSeconds: 60, log: silentLogger, onTimeout: (id) => timedOut.push(id) });
  await flush();
  f.asked('per_hidden');
  f.asked('per_gone');
  unseen.push('per_hidden');
  f.emit({ type: 'runtime.reconnected' });
  await flush();
  assert.equal(timeouts.waiting(), 1, 'the unlisted one of a workspace that answered is dropped; the unseen one is kept');

  f.failReplies();
  mock.timers.tick(60_000);
  await flush();
  assert.deepEqual(timedOut, []);
  assert.equal(timeouts.answeredByTimeout('per_hidden'), false);
  assert.equal(timeouts.waiting(), 1, 'armed again: it may still wait');

  f.failReplies(false);
  unseen.length = 0;
  mock.timers.tick(60_000);
  await flush();
  assert.deepEqual(f.replies, [['per_hidden', 'reject', timeoutMessage(60)]]);
  assert.deepEqual(timedOut, ['per_hidden']);
  assert.equal(timeouts.waiting(), 0);
  timeouts.stop();
});

test("the agent's questions are dismissed after the same time; answered or dismissed ones are not", async (t) => {
  mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 1_000_000 });
  t.after(() => mock.timers.reset());
  const listeners = new Set<(e: RelayRuntimeEvent) => void>();
  const dismissed: string[] = [];
  const runtime: QuestionTimeoutRuntime = {
    onEvent: (l) => (listeners.add(l), () => listeners.delete(l)),
    listQuestions: async () => ({ requests: [], unavailable: [], unseen: [] }),
    rejectQuestion: async (id) => void dismissed.push(id),
    subscribed: async () => {},
  };
  const emit = (e: RelayRuntimeEvent) => listeners.forEach((l) => void l(e));
  const asked = (requestId: string) => emit({ type: 'question.asked', requestId, sessionId: 's', questions: [] });
  const timeouts = startQuestionTimeouts({ runtime, timeoutSeconds: 60, log: silentLogger });
  await flush();
  asked('que_a');
  asked('que_b');
  asked('que_c');
  assert.equal(timeouts.deadlineOf('que_a'), 1_060_000);
  emit({ type: 'question.replied', requestId: 'que_b', sessionId: 's', answers: [['x']] });
  emit({ type: 'question.rejected', requestId: 'que_c', sessionId: 's' });
  mock.timers.tick(60_000);
  await flush();
  assert.deepEqual(dismissed, ['que_a']);
  assert.equal(timeouts.answeredByTimeout('que_a'), true, 'its question.rejected is then marked by: timeout');
  assert.equal(timeouts.answeredByTimeout('que_b'), false);
  // Permission events do not arm question timers.
  emit({ type: 'permission.asked', requestId: 'per_x', sessionId: 's', permission: 'bash', patterns: [], always: [], metadata: {} });
  assert.equal(timeouts.waiting(), 0);
  timeouts.stop();
});
