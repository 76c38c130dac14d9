import { timeoutMessage } from '../policy/timeouts.ts';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ProtocolError } from '../../shared/protocol/guard.ts';
import type { RelayRuntimeEvent } from '../../shared/protocol/runtime-events.ts';
import { createRuntimeEventMapper, mapRuntimeEvent, toComposerOptions, toImage, toSessionChanges, toSessionSummaries, toTranscript } from './to-relay.ts';
import { RelayError } from '../../shared/protocol/errors.ts';

// Recorded from `opencode serve` 1.18.33 driven by e2e/fixtures/fake-model.ts (ids shortened).
const S = 'ses_ded65fdedffejoISyaM1VKfi6y';
const REC = {
  connected: { id: 'evt_1', type: 'server.connected', properties: {} },
  heartbeat: { id: 'evt_2', type: 'server.heartbeat', properties: {} },
  pluginAdded: { id: 'evt_3', type: 'plugin.added', properties: { id: 'core/config-reference' } },
  runtimeFileEdited: { id: 'evt_4', type: 'file.edited', properties: { file: '/tmp/ws/hello.txt' } },
  sessionUpdated: {
    id: 'evt_5',
    type: 'session.updated',
    properties: {
      sessionID: S,
      info: {
        id: S,
        slug: 'neon-knight',
        projectID: 'a93c7f0d',
        directory: '/tmp/explore-X0xPp8/ws',
        path: '',
        title: 'New session - 2026-11-25T12:06:52.690Z',
        agent: 'build',
        model: { id: 'fake-model', providerID: 'fake', variant: 'default' },
        version: '1.18.33',
        cost: 0,
        tokens: { input: 0, output: 0, reasoning: 0, cache: { read: 0, write: 0 } },
        time: { created: 1795608412690, updated: 1795608413196 },
      },
    },
  },
  userMessage: {
    id: 'evt_6',
    type: 'message.updated',
    properties: {
      sessionID: S,
      info: { id: 'msg_user1', role: 'user', sessionID: S, time: { created: 1795608413196 }, agent: 'build', model: { providerID: 'fake', modelID: 'fake-model' } },
    },
  },
  userText: {
    id: 'evt_7',
    type: 'message.part.updated',
    properties: { sessionID: S, part: { type: 'text', text: 'hello [text:5]', messageID: 'msg_user1', sessionID: S, id: 'prt_user1' }, time: 1795608413237 },
  },
  textStart: {
    id: 'evt_8',
    type: 'message.part.updated',
    properties: { sessionID: S, part: { id: 'prt_text1', messageID: 'msg_a1', sessionID: S, type: 'text', text: '', time: { start: 1795608236788 } }, time: 1795608236788 },
  },
  textDelta: { id: 'evt_9', type: 'message.part.delta', properties: { sessionID: S, messageID: 'msg_a1', partID: 'prt_text1', field: 'text', delta: 'w0 ' } },
  textEnd: {
    id: 'evt_10',
    type: 'message.part.updated',
    properties: {
      sessionID: S,
      part: { id: 'prt_text1', messageID: 'msg_a1', sessionID: S, type: 'text', text: 'w0 w1 w2 w3 w4 ', time: { start: 1795608236788, end: 1795608236798 } },
      time: 1795608236798,
    },
  },
  reasoningStart: {
    id: 'evt_11',
    type: 'message.part.updated',
    properties: { sessionID: S, part: { id: 'prt_reason1', messageID: 'msg_a2', sessionID: S, type: 'reasoning', text: '', time: { start: 1795608431914 } }, time: 1795608431914 },
  },
  reasoningDelta: { id: 'evt_12', type: 'message.part.delta', properties: { sessionID: S, messageID: 'msg_a2', partID: 'prt_reason1', field: 'text', delta: 'Thinking ' } },
  reasoningEnd: {
    id: 'evt_13',
    type: 'message.part.updated',
    properties: {
      sessionID: S,
      part: { id: 'prt_reason1', messageID: 'msg_a2', sessionID: S, type: 'reasoning', text: 'Thinking about it.', time: { start: 1795608431914, end: 1795608431920 } },
      time: 1795608431920,
    },
  },
  stepStart: {
    id: 'evt_14',
    type: 'message.part.updated',
    properties: { sessionID: S, part: { id: 'prt_step', messageID: 'msg_a3', sessionID: S, snapshot: '84959a2d', type: 'step-start' }, time: 1795608422415 },
  },
  bashPending: {
    id: 'evt_15',
    type: 'message.part.updated',
    properties: {
      sessionID: S,
      part: { id: 'prt_tool1', messageID: 'msg_a3', sessionID: S, type: 'tool', tool: 'bash', callID: 'call_fake_1', state: { status: 'pending', input: {}, raw: '' } },
      time: 1795608423545,
    },
  },
  bashRunning: {
    id: 'evt_16',
    type: 'message.part.updated',
    properties: {
      sessionID: S,
      part: {
        type: 'tool',
        tool: 'bash',
        callID: 'call_fake_1',
        state: {
          metadata: { output: 'relay-ok\n' },
          status: 'running',
          input: { command: 'echo relay-ok', description: 'Run a scripted command' },
          time: { start: 1795608423698 },
        },
        id: 'prt_tool1',
        sessionID: S,
        messageID: 'msg_a3',
      },
      time: 1795608424756,
    },
  },
  bashCompleted: {
    id: 'evt_17',
    type: 'message.part.updated',
    properties: {
      sessionID: S,
      part: {
        type: 'tool',
        tool: 'bash',
        callID: 'call_fake_1',
        state: {
          status: 'completed',
          input: { command: 'echo relay-ok', description: 'Run a scripted command' },
          output: 'relay-ok\n',
          metadata: { output: 'relay-ok\n', exit: 0, truncated: false },
          title: 'echo relay-ok',
          time: { start: 1795608423698, end: 1795608424797 },
        },
        id: 'prt_tool1',
        sessionID: S,
        messageID: 'msg_a3',
      },
      time: 1795608424797,
    },
  },
  bashRejected: {
    id: 'evt_18',
    type: 'message.part.updated',
    properties: {
      sessionID: S,
      part: {
        type: 'tool',
        tool: 'bash',
        callID: 'call_fake_3',
        state: {
          status: 'error',
          input: { command: 'touch marker', description: 'Run a scripted command' },
          error: 'The user rejected permission to use this specific tool call.',
          time: { start: 1795608431124, end: 1795608431211 },
        },
        id: 'prt_tool3',
        sessionID: S,
        messageID: 'msg_a4',
      },
      time: 1795608431211,
    },
  },
  writeCompleted: {
    id: 'evt_19',
    type: 'message.part.updated',
    properties: {
      sessionID: S,
      part: {
        type: 'tool',
        tool: 'write',
        callID: 'call_fake_2',
        state: {
          status: 'completed',
          input: { filePath: 'hello.txt', content: 'written by the fake model\n' },
          output: 'Wrote file successfully.',
          metadata: { diagnostics: {}, filepath: '/tmp/explore-X0xPp8/ws/hello.txt', exists: false, truncated: false },
          title: 'hello.txt',
          time: { start: 1795608427444, end: 1795608427812 },
        },
        id: 'prt_tool2',
        sessionID: S,
        messageID: 'msg_a5',
      },
      time: 1795608427812,
    },
  },
  askBash: {
    id: 'evt_20',
    type: 'permission.asked',
    properties: {
      id: 'per_1',
      sessionID: S,
      permission: 'bash',
      patterns: ['echo relay-ok'],
      metadata: { command: 'echo relay-ok' },
      always: ['echo *'],
      tool: { messageID: 'msg_a3', callID: 'call_fake_1' },
    },
  },
  askEdit: {
    id: 'evt_21',
    type: 'permission.asked',
    properties: {
      id: 'per_2',
      sessionID: S,
      permission: 'edit',
      patterns: ['hello.txt'],
      metadata: { filepath: '/tmp/ws/hello.txt', diff: 'Index: /tmp/ws/hello.txt\n@@ -0,0 +1,1 @@\n+written by the fake model\n' },
      always: ['*'],
      tool: { messageID: 'msg_a5', callID: 'call_fake_2' },
    },
  },
  replied: { id: 'evt_22', type: 'permission.replied', properties: { sessionID: S, requestID: 'per_1', reply: 'once' } },
  todo: {
    id: 'evt_23',
    type: 'todo.updated',
    properties: {
      sessionID: S,
      todos: [
        { content: 'Write the fixture', status: 'completed', priority: 'high' },
        { content: 'Run the tests', status: 'in_progress', priority: 'medium' },
      ],
    },
  },
  busy: { id: 'evt_24', type: 'session.status', properties: { sessionID: S, status: { type: 'busy' } } },
  idle: { id: 'evt_25', type: 'session.idle', properties: { sessionID: S } },
  aborted: { id: 'evt_26', type: 'session.error', properties: { sessionID: S, error: { name: 'MessageAbortedError', data: { message: 'Aborted' } } } },
  abortedMessage: {
    id: 'evt_27',
    type: 'message.updated',
    properties: {
      sessionID: S,
      info: {
        id: 'msg_a6',
        parentID: 'msg_user6',
        role: 'assistant',
        mode: 'build',
        agent: 'build',
        path: { cwd: '/tmp/ws', root: '/tmp/ws' },
        cost: 0,
        tokens: { input: 0, output: 0, reasoning: 0, cache: { read: 0, write: 0 } },
        modelID: 'fake-model',
        providerID: 'fake',
        time: { created: 1795608433701, completed: 1795608434796 },
        sessionID: S,
        error: { name: 'MessageAbortedError', data: { message: 'Aborted' } },
      },
    },
  },
  // The diff entry shape as seen in a user message's summary.diffs (session.diff was empty in every run).
  sessionDiff: {
    id: 'evt_28',
    type: 'session.diff',
    properties: {
      sessionID: S,
      diff: [{ file: 'hello.txt', patch: 'Index: hello.txt\n@@ -0,0 +1,1 @@\n+written by the fake model\n', additions: 1, deletions: 0, status: 'added' }],
    },
  },
  emptyDiff: { id: 'evt_29', type: 'session.diff', properties: { sessionID: S, diff: [] } },
};

const one = (raw: unknown): RelayRuntimeEvent => {
  const out = mapRuntimeEvent(raw);
  assert.equal(out.length, 1, `expected one event, got ${JSON.stringify(out)}`);
  return out[0];
};

test('events the host does not relay map to nothing', () => {
  for (const raw of [REC.connected, REC.heartbeat, REC.pluginAdded, REC.runtimeFileEdited, REC.stepStart, REC.emptyDiff, { type: 'brand.new.event', properties: { x: 1 } }]) {
    assert.deepEqual(mapRuntimeEvent(raw), [], JSON.stringify(raw));
  }
});

test('text parts: snapshots at start and end, deltas in between', () => {
  assert.deepEqual(one(REC.textStart), { type: 'message.text.updated', sessionId: S, messageId: 'msg_a1', partId: 'prt_text1', text: '', done: false });
  assert.deepEqual(one(REC.textDelta), { type: 'message.text.delta', sessionId: S, messageId: 'msg_a1', partId: 'prt_text1', delta: 'w0 ' });
  assert.deepEqual(one(REC.textEnd), { type: 'message.text.updated', sessionId: S, messageId: 'msg_a1', partId: 'prt_text1', text: 'w0 w1 w2 w3 w4 ', done: true });
  // A user's text part carries no time: it is complete as it arrives.
  assert.deepEqual(one(REC.userText), { type: 'message.text.updated', sessionId: S, messageId: 'msg_user1', partId: 'prt_user1', text: 'hello [text:5]', done: true });
});

test('reasoning deltas are told apart by the stream mapper, which forgets finished parts', () => {
  assert.equal(one(REC.reasoningDelta).type, 'message.text.delta', 'without context a delta counts as text');
  assert.equal(mapRuntimeEvent(REC.reasoningDelta, (id) => (id === 'prt_reason1' ? 'reasoning' : undefined))[0].type, 'message.reasoning.delta');

  const map = createRuntimeEventMapper();
  assert.deepEqual(map(REC.reasoningStart), [{ type: 'message.reasoning.updated', sessionId: S, messageId: 'msg_a2', partId: 'prt_reason1', text: '', done: false }]);
  assert.deepEqual(map(REC.reasoningDelta), [{ type: 'message.reasoning.delta', sessionId: S, messageId: 'msg_a2', partId: 'prt_reason1', delta: 'Thinking ' }]);
  assert.equal(map(REC.textDelta)[0].type, 'message.text.delta');
  assert.equal(map(REC.reasoningEnd)[0].type, 'message.reasoning.updated');
  assert.equal(map(REC.reasoningDelta)[0].type, 'message.text.delta', 'a part that ended is no longer tracked');
});

test('the stream mapper bounds how many open reasoning parts it remembers', () => {
  const map = createRuntimeEventMapper(2);
  const start = (id: string) => ({ ...REC.reasoningStart, properties: { ...REC.reasoningStart.properties, part: { ...REC.reasoningStart.properties.part, id } } });
  const delta = (id: string) => ({ ...REC.reasoningDelta, properties: { ...REC.reasoningDelta.properties, partID: id } });
  for (const id of ['a', 'b', 'c']) map(start(id));
  assert.equal(map(delta('a'))[0].type, 'message.text.delta', 'the oldest was dropped');
  assert.equal(map(delta('c'))[0].type, 'message.reasoning.delta');
});

test('tool parts through their states', () => {
  const base = { type: 'tool.updated', sessionId: S, messageId: 'msg_a3', partId: 'prt_tool1', callId: 'call_fake_1', tool: 'bash' };
  const input = { command: 'echo relay-ok', description: 'Run a scripted command' };
  const subject = { command: 'echo relay-ok', description: 'Run a scripted command' };
  assert.deepEqual(one(REC.bashPending), { ...base, status: 'pending', input: {} });
  assert.deepEqual(one(REC.bashRunning), { ...base, status: 'running', input, subject, output: 'relay-ok\n', time: { start: 1795608423698 } });
  assert.deepEqual(one(REC.bashCompleted), {
    ...base,
    status: 'completed',
    input,
    subject,
    title: 'echo relay-ok',
    output: 'relay-ok\n',
    time: { start: 1795608423698, end: 1795608424797 },
  });
  const [write] = mapRuntimeEvent(REC.writeCompleted);
  assert.deepEqual(write?.type === 'tool.updated' && write.subject, { path: 'hello.txt', content: 'written by the fake model\n' }, "what a call is about, in the relay's words");
  const rejected = one(REC.bashRejected);
  assert.equal(rejected.type === 'tool.updated' && rejected.status, 'error');
  assert.equal(rejected.type === 'tool.updated' && rejected.error, 'The user rejected permission to use this specific tool call.');
  assert.equal(rejected.type === 'tool.updated' && rejected.denied, 'refused', 'a refused permission is said as a code, not left to the words');
  const failed = one({
    ...REC.bashRejected,
    properties: { ...REC.bashRejected.properties, part: { ...REC.bashRejected.properties.part, state: { ...REC.bashRejected.properties.part.state, error: 'exit code 1' } } },
  });
  assert.equal(failed.type === 'tool.updated' && failed.denied, undefined);
  const withError = (error: string) =>
    one({
      ...REC.bashRejected,
      properties: { ...REC.bashRejected.properties, part: { ...REC.bashRejected.properties.part, state: { ...REC.bashRejected.properties.part.state, error } } },
    });
  const timedOut = withError(`The user rejected permission to use this specific tool call with the following feedback: ${timeoutMessage(300)}`);
  assert.equal(timedOut.type === 'tool.updated' && timedOut.denied, 'timeout', "the host's own timeout is told apart from a person's refusal");
  assert.equal(
    timedOut.type === 'tool.updated' && timedOut.error,
    'No one answered within 5 minutes, so the host denied it',
    "and carries the host's words, not the runtime's preamble",
  );
});

test('a finished edit tool also reports the file it changed', () => {
  const [tool, edit] = mapRuntimeEvent(REC.writeCompleted);
  assert.equal(tool.type, 'tool.updated');
  assert.deepEqual(edit, { type: 'file.edited', sessionId: S, path: '/tmp/explore-X0xPp8/ws/hello.txt', source: 'tool', callId: 'call_fake_2' });
  assert.deepEqual(mapRuntimeEvent(REC.sessionDiff), [
    {
      type: 'file.edited',
      sessionId: S,
      path: 'hello.txt',
      diff: 'Index: hello.txt\n@@ -0,0 +1,1 @@\n+written by the fake model\n',
      additions: 1,
      deletions: 0,
      status: 'added',
      source: 'snapshot',
    },
  ]);
});

test('permissions', () => {
  assert.deepEqual(one(REC.askBash), {
    type: 'permission.asked',
    requestId: 'per_1',
    sessionId: S,
    permission: 'bash',
    patterns: ['echo relay-ok'],
    always: ['echo *'],
    metadata: { command: 'echo relay-ok' },
    subject: { command: 'echo relay-ok' },
    tool: { messageId: 'msg_a3', callId: 'call_fake_1' },
  });
  const edit = one(REC.askEdit);
  assert.deepEqual(edit.type === 'permission.asked' && edit.subject, {
    path: '/tmp/ws/hello.txt',
    diff: 'Index: /tmp/ws/hello.txt\n@@ -0,0 +1,1 @@\n+written by the fake model\n',
  });
  assert.deepEqual(one(REC.replied), { type: 'permission.replied', requestId: 'per_1', sessionId: S, reply: 'once' });
});

// Recorded from `opencode serve` 1.18.33 with the fake model's `[question]` (questions shortened).
const Q = [
  {
    question: 'Which plan should I follow?',
    header: 'Plan',
    options: [
      { label: 'Small fix', description: 'Change only the failing function' },
      { label: 'Refactor', description: 'Rewrite the module first' },
    ],
  },
  { question: 'Which checks?', header: 'Checks', options: [{ label: 'Unit tests', description: 'The fast suite' }], multiple: true },
];
const questionPart = (state: Record<string, unknown>) => ({
  id: 'evt_q4',
  type: 'message.part.updated',
  properties: { sessionID: S, part: { type: 'tool', tool: 'question', callID: 'call_fake_1', id: 'prt_q', sessionID: S, messageID: 'msg_a6', state } },
});

test("the agent's questions map to question events; the question tool's card carries its questions and the answers given", () => {
  assert.deepEqual(
    mapRuntimeEvent({ id: 'evt_q1', type: 'question.asked', properties: { id: 'que_1', sessionID: S, questions: Q, tool: { messageID: 'msg_a6', callID: 'call_fake_1' } } }),
    [{ type: 'question.asked', requestId: 'que_1', sessionId: S, questions: Q, tool: { messageId: 'msg_a6', callId: 'call_fake_1' } }],
  );
  assert.deepEqual(mapRuntimeEvent({ id: 'evt_q2', type: 'question.replied', properties: { sessionID: S, requestID: 'que_1', answers: [['Refactor'], ['Unit tests']] } }), [
    { type: 'question.replied', requestId: 'que_1', sessionId: S, answers: [['Refactor'], ['Unit tests']] },
  ]);
  assert.deepEqual(mapRuntimeEvent({ id: 'evt_q3', type: 'question.rejected', properties: { sessionID: S, requestID: 'que_1' } }), [
    { type: 'question.rejected', requestId: 'que_1', sessionId: S },
  ]);
  const card = one(
    questionPart({
      status: 'completed',
      input: { questions: Q },
      output: 'User has answered your questions: …',
      title: 'Asked 2 questions',
      metadata: { answers: [['Refactor'], ['Unit tests']], truncated: false },
      time: { start: 1, end: 2 },
    }),
  );
  assert.deepEqual(
    card.type === 'tool.updated' && [card.questions, card.answers],
    [Q, [['Refactor'], ['Unit tests']]],
    "the phone reads the relay's fields, not the tool's arguments",
  );
  const dismissed = one(questionPart({ status: 'error', input: { questions: Q }, error: 'The user dismissed this question', time: { start: 1, end: 2 } }));
  assert.equal(dismissed.type === 'tool.updated' && dismissed.denied, 'refused', 'a dismissal is said as a code, not left to the words');
  const odd = one(questionPart({ status: 'running', input: { questions: 'not a list' }, time: { start: 1 } }));
  assert.equal(odd.type === 'tool.updated' && odd.questions, undefined, "the model's malformed arguments leave the card without questions, not the part out");
  assert.throws(
    () => mapRuntimeEvent({ type: 'question.asked', properties: { id: 'que_2', sessionID: S, questions: [{ question: 'x', header: 'h', options: 'none' }] } }),
    ProtocolError,
  );
});

test('sessions, messages and todos', () => {
  assert.deepEqual(one(REC.sessionUpdated), {
    type: 'session.updated',
    sessionId: S,
    title: 'New session - 2026-11-25T12:06:52.690Z',
    directory: '/tmp/explore-X0xPp8/ws',
    createdAt: 1795608412690,
    updatedAt: 1795608413196,
  });
  assert.deepEqual(one(REC.userMessage), { type: 'message.updated', sessionId: S, messageId: 'msg_user1', role: 'user', time: { created: 1795608413196 } });
  assert.deepEqual(one(REC.abortedMessage), {
    type: 'message.updated',
    sessionId: S,
    messageId: 'msg_a6',
    role: 'assistant',
    parentId: 'msg_user6',
    time: { created: 1795608433701, completed: 1795608434796 },
    error: { kind: 'aborted', name: 'MessageAbortedError', message: 'Aborted' },
  });
  assert.deepEqual(one(REC.busy), { type: 'session.status', sessionId: S, status: 'busy' });
  assert.deepEqual(one({ type: 'session.status', properties: { sessionID: S, status: { type: 'retry', attempt: 2, message: 'rate limited', next: 1795608440000 } } }), {
    type: 'session.status',
    sessionId: S,
    status: 'retry',
    attempt: 2,
    message: 'rate limited',
    next: 1795608440000,
  });
  assert.deepEqual(one(REC.idle), { type: 'session.idle', sessionId: S });
  assert.deepEqual(one(REC.aborted), { type: 'session.error', sessionId: S, kind: 'aborted', name: 'MessageAbortedError', message: 'Aborted' });
  assert.deepEqual(one({ type: 'session.error', properties: {} }), { type: 'session.error', kind: 'other', name: 'UnknownError', message: '' });
  const kindOf = (name: string) => {
    const e = one({ type: 'session.error', properties: { sessionID: S, error: { name, data: { message: 'm' } } } });
    return e.type === 'session.error' ? e.kind : undefined;
  };
  assert.deepEqual(['ProviderAuthError', 'APIError', 'ContextOverflowError'].map(kindOf), ['provider-auth', 'provider', 'other'], 'the kind a device acts on');
  assert.deepEqual(one(REC.todo), {
    type: 'todo.updated',
    sessionId: S,
    items: [
      { content: 'Write the fixture', status: 'completed', priority: 'high' },
      { content: 'Run the tests', status: 'in_progress', priority: 'medium' },
    ],
  });
  assert.deepEqual(one({ type: 'session.deleted', properties: { sessionID: S, info: {} } }), { type: 'session.deleted', sessionId: S });
});

test('malformed events throw a ProtocolError naming the field', () => {
  const cases: Array<[unknown, RegExp]> = [
    [null, /^event: expected an object/],
    ['{"type":"session.idle"}', /^event: expected an object/],
    [{ properties: {} }, /^event\.type: expected a string/],
    [{ type: 'session.idle' }, /^session\.idle\.properties: expected an object/],
    [{ type: 'session.idle', properties: { sessionID: 42 } }, /^session\.idle\.properties\.sessionID: expected a string/],
    [{ type: 'message.part.delta', properties: { ...REC.textDelta.properties, delta: null } }, /delta: expected a string/],
    [{ type: 'session.status', properties: { sessionID: S, status: { type: 'sleeping' } } }, /status\.type: expected one of idle, busy, retry/],
    [{ type: 'permission.asked', properties: { ...REC.askBash.properties, patterns: 'echo' } }, /patterns: expected a list/],
    [{ type: 'permission.asked', properties: { ...REC.askBash.properties, patterns: [1] } }, /patterns\[0\]\S*: expected a string/],
    [{ type: 'permission.replied', properties: { ...REC.replied.properties, reply: 'maybe' } }, /reply: expected one of once, always, reject/],
    [{ type: 'message.part.updated', properties: { sessionID: S, part: { ...REC.bashPending.properties.part, state: { status: 'paused' } } } }, /state\.status: expected one of/],
    [{ type: 'message.part.updated', properties: { sessionID: S, part: { ...REC.bashCompleted.properties.part, callID: undefined } } }, /part\.callID: expected a string/],
    [{ type: 'message.updated', properties: { info: { ...REC.userMessage.properties.info, role: 'system' } } }, /info\.role: expected one of user, assistant/],
    [{ type: 'todo.updated', properties: { sessionID: S, todos: [{ content: 'x' }] } }, /todos\[0\]\.status: expected a string/],
    [{ type: 'session.diff', properties: { sessionID: S, diff: [{ file: 'a', additions: '1' }] } }, /diff\[0\]\.additions: expected a number/],
  ];
  for (const [raw, message] of cases) {
    assert.throws(
      () => mapRuntimeEvent(raw),
      (err: unknown) => err instanceof ProtocolError && message.test(err.message),
      JSON.stringify(raw),
    );
  }
});

test('stored messages become a transcript: parts the relay carries, the last todo list, the state given', () => {
  const parts = (...ps: Array<{ properties: { part: unknown } }>) => ps.map((p) => p.properties.part);
  const todos = [{ content: 'Write it', status: 'completed', priority: 'high' }];
  const todowrite = {
    id: 'prt_todo',
    sessionID: S,
    messageID: 'msg_a3',
    type: 'tool',
    tool: 'todowrite',
    callID: 'call_t',
    state: { status: 'completed', input: { todos }, output: '', title: '1 todo', time: { start: 1, end: 2 } },
  };
  const edit = { ...REC.writeCompleted.properties.part, state: { ...REC.writeCompleted.properties.part.state, metadata: { filepath: '/w/hello.txt', diff: '+x\n' } } };
  const stored = [
    { info: REC.userMessage.properties.info, parts: parts(REC.userText) },
    {
      info: REC.abortedMessage.properties.info,
      parts: [...parts(REC.stepStart, REC.reasoningEnd, REC.bashCompleted), todowrite, edit, { id: 'prt_x', type: 'agent' }, { id: 'prt_bad', type: 'tool' }],
    },
    { info: { id: 'msg_bad' } },
  ];
  const skipped: unknown[] = [];
  const t = toTranscript(S, stored, { status: 'busy' }, (err) => skipped.push(err));
  assert.deepEqual(t.state, { status: 'busy' });
  assert.deepEqual(t.todos, todos);
  assert.deepEqual(
    t.messages.map((m) => [m.messageId, m.role, m.error?.kind]),
    [
      ['msg_user1', 'user', undefined],
      ['msg_a6', 'assistant', 'aborted'],
    ],
  );
  assert.deepEqual(t.messages[0]!.parts, [{ kind: 'text', partId: 'prt_user1', text: 'hello [text:5]', done: true }]);
  const [step, reasoning, bash, todo, write] = t.messages[1]!.parts;
  assert.deepEqual(step, { kind: 'step', partId: 'prt_step', phase: 'start' });
  assert.deepEqual(reasoning, { kind: 'reasoning', partId: 'prt_reason1', text: 'Thinking about it.', done: true });
  assert.deepEqual(bash, {
    kind: 'tool',
    partId: 'prt_tool1',
    callId: 'call_fake_1',
    tool: 'bash',
    status: 'completed',
    input: { command: 'echo relay-ok', description: 'Run a scripted command' },
    subject: { command: 'echo relay-ok', description: 'Run a scripted command' },
    title: 'echo relay-ok',
    output: 'relay-ok\n',
    time: { start: 1795608423698, end: 1795608424797 },
  });
  assert.equal(todo?.kind, 'tool');
  assert.equal(write?.kind === 'tool' && write.diff, '+x\n', 'an edit carries its diff');
  assert.equal(t.messages[1]!.parts.length, 5, 'an agent part is not carried; a malformed part is left out');
  assert.equal(skipped.length, 2, 'the malformed part and message are reported');
});

test("an attached file's data: URL stays on the host: devices get its name, type and size", () => {
  const png = Buffer.alloc(100_000, 7).toString('base64');
  const file = (url: string) => ({ id: 'prt_f', sessionID: S, messageID: 'msg_user1', type: 'file', mime: 'image/png', filename: 'photo.png', url });
  const t = toTranscript(S, [{ info: REC.userMessage.properties.info, parts: [file(`data:image/png;base64,${png}`), file('file:///w/notes.md')] }], { status: 'idle' });
  assert.deepEqual(t.messages[0]!.parts, [
    { kind: 'file', partId: 'prt_f', mime: 'image/png', filename: 'photo.png', size: 100_000 },
    { kind: 'file', partId: 'prt_f', mime: 'image/png', filename: 'photo.png', url: 'file:///w/notes.md' },
  ]);
});

test("the composer's models say whether they read images, as the runtime's capabilities do", () => {
  const model = (id: string, image?: boolean) => ({ id, name: id, ...(image === undefined ? {} : { capabilities: { input: { text: true, image } } }) });
  const options = toComposerOptions({
    agents: [],
    commands: [],
    providers: { providers: [{ id: 'p', name: 'P', models: { a: model('a', true), b: model('b', false), c: model('c') } }] },
  });
  assert.deepEqual(
    options.models.map((m) => [m.modelId, m.images]),
    [
      ['a', true],
      ['b', false],
      ['c', undefined],
    ],
  );
});

test('listed sessions become summaries with their state and whether a request waits', () => {
  const listed = [
    { ...REC.sessionUpdated.properties.info, relayStatus: { type: 'retry', attempt: 1, message: 'slow', next: 5 } },
    { id: 'ses_b', title: 'b', parentID: S, time: { created: 1, updated: 2 } },
    { id: 'ses_bad' },
  ];
  const skipped: unknown[] = [];
  assert.deepEqual(
    toSessionSummaries(listed, new Set(['ses_b']), (e) => skipped.push(e)),
    [
      {
        sessionId: S,
        title: 'New session - 2026-11-25T12:06:52.690Z',
        directory: '/tmp/explore-X0xPp8/ws',
        createdAt: 1795608412690,
        updatedAt: 1795608413196,
        state: { status: 'retry', attempt: 1, message: 'slow', next: 5 },
        waiting: false,
      },
      { sessionId: 'ses_b', title: 'b', parentId: S, createdAt: 1, updatedAt: 2, state: { status: 'idle' }, waiting: true },
    ],
  );
  assert.equal(skipped.length, 1);
});

test("a turn's large diff is kept up to PATCH_MAX, and a larger one is left out of its file, not the file", () => {
  const patch = (lines: number) => `@@ -0,0 +1,${lines} @@\n${'+let x = 1;\n'.repeat(lines)}`;
  const turn = {
    info: {
      id: 'msg_1',
      role: 'user',
      time: { created: 1 },
      summary: {
        diffs: [
          { file: 'big.ts', patch: patch(5000), additions: 5000, deletions: 0, status: 'added' },
          { file: 'huge.ts', patch: patch(300_000), additions: 300_000, deletions: 0, status: 'added' },
        ],
      },
    },
    parts: [],
  };
  const [big, huge] = toSessionChanges([turn], undefined);
  assert.equal(big!.patch, patch(5000), 'a 60 KB diff whole');
  assert.deepEqual([huge!.path, huge!.additions, huge!.patch, huge!.patchOmitted], ['huge.ts', 300_000, undefined, true]);
});

test("an attached picture is read from its prompt's data: URL, exactly; anything else is refused with why", () => {
  const png = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.from(Array.from({ length: 1001 }, (_, i) => (i * 7) % 251))]);
  const part = (id: string, fields: Record<string, unknown>) => ({ id, sessionID: S, messageID: 'msg_1', ...fields });
  const file = (id: string, mime: string, url: string) => part(id, { type: 'file', mime, filename: `${id}.x`, url });
  const dataUrl = (mime: string, bytes: Buffer) => `data:${mime};base64,${bytes.toString('base64')}`;
  const messages = [
    {
      info: { id: 'msg_1', sessionID: S, role: 'user', time: { created: 1 } },
      parts: [
        part('prt_text', { type: 'text', text: 'look' }),
        file('prt_png', 'image/png', dataUrl('image/png', png)),
        file('prt_txt', 'text/plain', dataUrl('text/plain', Buffer.from('hello'))),
        file('prt_svg', 'image/svg+xml', dataUrl('image/svg+xml', Buffer.from('<svg onload="alert(1)"/>'))),
        file('prt_path', 'image/png', 'file:///etc/passwd'),
        file('prt_fake', 'image/png', dataUrl('image/png', Buffer.from('<html>not a picture</html>'))),
        file('prt_big', 'image/jpeg', dataUrl('image/jpeg', Buffer.concat([Buffer.from([0xff, 0xd8, 0xff]), Buffer.alloc(10 * 1024 * 1024)]))),
      ],
    },
  ];
  const read = toImage(messages, 'msg_1', 'prt_png');
  assert.equal(read.mime, 'image/png');
  assert.ok(read.bytes.equals(png), 'the same bytes');

  const refused = (partId: string, code: string, why: RegExp, messageId = 'msg_1') =>
    assert.throws(
      () => toImage(messages, messageId, partId),
      (e: unknown) => e instanceof RelayError && e.code === code && why.test(e.message),
      partId,
    );
  refused('prt_none', 'request.unknown', /has no part prt_none/);
  refused('prt_png', 'request.unknown', /message msg_2 of this session has no part/, 'msg_2');
  refused('prt_text', 'attachment.not-image', /not a file/);
  refused('prt_txt', 'attachment.not-image', /text\/plain; the host sends back only png, jpeg, webp and gif/);
  refused('prt_svg', 'attachment.not-image', /image\/svg\+xml/);
  refused('prt_path', 'attachment.not-image', /not sent with the task/);
  refused('prt_fake', 'attachment.not-image', /labelled image\/png but its bytes are not/);
  refused('prt_big', 'attachment.too-large', /10485763 bytes; the host sends back pictures up to 10485760 bytes/);
});
