import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ProtocolError } from './guard.ts';
import { EVENT_TYPES, parseEvent } from './runtime-events.ts';

const named = (field: string) => (e: unknown) => e instanceof ProtocolError && e.message.includes(field);
const part = { sessionId: 's', messageId: 'm', partId: 'p' };

/** One well-formed event of each type, as the host sends them (host/runtime/to-relay.ts). */
const SAMPLES = {
  'message.text.delta': { ...part, delta: 'hi' },
  'message.reasoning.delta': { ...part, delta: 'hmm' },
  'message.text.updated': { ...part, text: 'hi', done: false },
  'message.reasoning.updated': { ...part, text: 'hmm', done: true },
  'message.file.updated': { ...part, mime: 'image/png', filename: 'photo.png', size: 60_000 },
  'message.updated': {
    sessionId: 's',
    messageId: 'm',
    role: 'assistant',
    parentId: 'u',
    time: { created: 1, completed: 2 },
    error: { kind: 'provider', name: 'APIError', message: 'x' },
  },
  'tool.updated': { ...part, callId: 'c', tool: 'bash', status: 'running', input: { command: 'ls' }, subject: { command: 'ls' }, output: 'a\n', time: { start: 1 } },
  'file.edited': { sessionId: 's', path: '/w/a.txt', diff: '+a', source: 'tool', callId: 'c' },
  'todo.updated': { sessionId: 's', items: [{ content: 'x', status: 'pending', priority: 'high' }] },
  'session.status': { sessionId: 's', status: 'retry', attempt: 1, message: 'slow', next: 9 },
  'session.idle': { sessionId: 's' },
  'session.error': { sessionId: 's', kind: 'aborted', name: 'MessageAbortedError', message: '' },
  'session.updated': { sessionId: 's', title: 'T', createdAt: 1, updatedAt: 2, directory: '/w' },
  'session.deleted': { sessionId: 's' },
  'permission.asked': {
    requestId: 'r',
    sessionId: 's',
    permission: 'bash',
    patterns: ['ls'],
    always: ['ls *'],
    metadata: { command: 'ls' },
    subject: { command: 'ls', description: 'list' },
    tool: { messageId: 'm', callId: 'c' },
  },
  'permission.replied': { requestId: 'r', sessionId: 's', reply: 'once' },
  'permission.expired': { requestId: 'r', sessionId: 's', reason: 'withdrawn', at: 5 },
  'question.asked': {
    requestId: 'q',
    sessionId: 's',
    questions: [{ question: 'Which?', header: 'Pick', options: [{ label: 'A', description: 'the first' }], multiple: true }],
    tool: { messageId: 'm', callId: 'c' },
    deadline: 9,
  },
  'question.replied': { requestId: 'q', sessionId: 's', answers: [['A']] },
  'question.rejected': { requestId: 'q', sessionId: 's', by: 'timeout' },
  'question.expired': { requestId: 'q', sessionId: 's', reason: 'runtime-restarted', at: 5, detail: 'killed' },
  'runtime.reconnected': {},
  'session.interrupted': { sessionId: 's', messageId: 'm', replyId: 'r', taskId: 't', at: 5, reason: 'runtime-restarted', detail: 'the runtime was killed by SIGKILL' },
};

test('every event type has a parser that reads its well-formed sample back unchanged', () => {
  assert.deepEqual(Object.keys(SAMPLES).sort(), [...EVENT_TYPES].sort());
  for (const [type, fields] of Object.entries(SAMPLES)) assert.deepEqual(parseEvent({ type, ...fields }), { type, ...fields }, type);
});

test("an unknown type is not an error (a newer host's), a malformed field is, by name", () => {
  assert.equal(parseEvent({ type: 'session.compacted', sessionId: 's' }), undefined);
  assert.throws(() => parseEvent({ type: 'session.status', sessionId: 's', status: 'busy!' }), named('event(session.status).status'));
  assert.throws(() => parseEvent({ type: 'tool.updated', ...SAMPLES['tool.updated'], status: 'paused' }), named('event(tool.updated).status'));
  assert.throws(() => parseEvent({ type: 'todo.updated', sessionId: 's', items: [{ content: 'x' }] }), named('items[0].status'));
  assert.throws(() => parseEvent({ type: 'message.updated', ...SAMPLES['message.updated'], role: 'system' }), named('.role'));
  assert.throws(() => parseEvent({ type: 'session.error', sessionId: 's', name: 'X', message: '' }), named('.kind'), 'a kind to act on, not a name to match');
  assert.throws(() => parseEvent({ type: 'permission.expired', requestId: 'r', sessionId: 's', reason: 'it restarted', at: 1 }), named('.reason'), 'a code, not text');
  assert.throws(() => parseEvent({ type: 'session.interrupted', sessionId: 's', messageId: 'm', at: 5, reason: 'it restarted' }), named('.reason'), 'a code, not text');
  assert.throws(() => parseEvent({ type: 'permission.asked', ...SAMPLES['permission.asked'], metadata: null }), named('.metadata'));
  assert.throws(() => parseEvent({ type: 'question.expired', requestId: 'q', sessionId: 's', reason: 'it restarted', at: 1 }), named('.reason'), 'a code, like permission.expired');
  assert.throws(() => parseEvent({ type: 'tool.updated', ...SAMPLES['tool.updated'], answers: [[1]] }), named('answers'));
  assert.throws(() => parseEvent({ sessionId: 's' }), named('event.type'));
});
