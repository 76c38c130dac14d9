import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRoot } from 'solid-js';
import { createTimeline, type NoticeItem, type TextItem, type ToolItem } from './timeline.ts';

const S = 'ses_1';
const part = { sessionId: S, messageId: 'msg_a1', partId: 'prt_1' };

/** A schedule the test runs by hand, counting what was asked of it. */
function manualSchedule() {
  const queued: Array<() => void> = [];
  return {
    schedule: (show: () => void) => void queued.push(show),
    get asked() {
      return queued.length;
    },
    run: () => queued.splice(0).forEach((show) => void show()),
  };
}

test('deltas grow one text item without touching the item list, shown once per frame', () => {
  const frame = manualSchedule();
  const tl = createTimeline(S, { schedule: frame.schedule });
  tl.apply({ type: 'message.text.delta', ...part, delta: 'w0 ' });
  const list = tl.items();
  for (let i = 1; i < 5; i++) tl.apply({ type: 'message.text.delta', ...part, delta: `w${i} ` });
  assert.equal(tl.items(), list, 'same array: nothing re-rendered for a delta');
  assert.equal((list[0] as TextItem).text(), '', 'not shown before the frame');
  assert.equal(frame.asked, 1, 'five deltas, one frame');
  frame.run();
  assert.equal((list[0] as TextItem).text(), 'w0 w1 w2 w3 w4 ');
  // A late, older snapshot of the part does not step back; the final one wins.
  tl.apply({ type: 'message.text.updated', ...part, text: 'w0 ', done: false });
  assert.equal((list[0] as TextItem).text(), 'w0 w1 w2 w3 w4 ');
  tl.apply({ type: 'message.text.updated', ...part, text: 'final', done: true });
  assert.equal((list[0] as TextItem).text(), 'final');
  assert.equal((list[0] as TextItem).done(), true);
});

test('a full text arriving before the frame wins over the deltas waiting to be shown, and deltas continue from it', () => {
  const frame = manualSchedule();
  const tl = createTimeline(S, { schedule: frame.schedule });
  tl.apply({ type: 'message.text.delta', ...part, delta: 'old ' });
  tl.apply({ type: 'message.text.updated', ...part, text: 'rewritten', done: false });
  const item = tl.items()[0] as TextItem;
  assert.equal(item.text(), 'rewritten', 'a replacement shows at once');
  frame.run();
  assert.equal(item.text(), 'rewritten', 'the pending deltas do not come back');
  tl.apply({ type: 'message.text.delta', ...part, delta: ' more' });
  // An older snapshot (a prefix of what arrived) changes nothing, also before the frame.
  tl.apply({ type: 'message.text.updated', ...part, text: 'rewritten', done: false });
  assert.equal(frame.asked, 1);
  frame.run();
  assert.equal(item.text(), 'rewritten more');
});

test('orders parts by message and part id, whatever order they arrive in; roles follow message.updated', () => {
  const tl = createTimeline(S);
  tl.apply({ type: 'message.text.updated', sessionId: S, messageId: 'msg_b', partId: 'prt_2', text: 'answer', done: true });
  tl.apply({ type: 'message.text.updated', sessionId: S, messageId: 'msg_a', partId: 'prt_1', text: 'question', done: true });
  tl.apply({ type: 'message.updated', sessionId: S, messageId: 'msg_a', role: 'user', time: { created: 1 } });
  tl.apply({ type: 'message.text.delta', sessionId: 'other', messageId: 'msg_c', partId: 'prt_9', delta: 'not mine' });
  const texts = tl.items() as TextItem[];
  assert.deepEqual(
    texts.map((t) => [t.text(), t.role()]),
    [
      ['question', 'user'],
      ['answer', 'assistant'],
    ],
  );
});

test('tool calls update in place; diffs attach by call id; the todo list follows its event', () => {
  createRoot((dispose) => {
    const tl = createTimeline(S);
    const base = { type: 'tool.updated' as const, ...part, callId: 'call_1', tool: 'bash', input: { command: 'ls' } };
    tl.apply({ ...base, status: 'pending', input: {} });
    tl.apply({ ...base, status: 'running', output: 'a' });
    tl.attachDiff('call_1', '+x');
    tl.apply({ ...base, status: 'completed', output: 'a\nb' });
    assert.equal(tl.items().length, 1);
    const tool = (tl.items()[0] as ToolItem).state;
    assert.deepEqual(
      { status: tool.status, output: tool.output, diff: tool.diff, input: tool.input },
      { status: 'completed', output: 'a\nb', diff: '+x', input: { command: 'ls' } },
    );
    tl.apply({ type: 'todo.updated', sessionId: S, items: [{ content: 'x', status: 'pending', priority: 'high' }] });
    assert.deepEqual(tl.todos(), [{ content: 'x', status: 'pending', priority: 'high' }]);
    dispose();
  });
});

test('status: busy → running, error → failed with a reason, abort → idle with a "Stopped." notice', () => {
  const tl = createTimeline(S);
  tl.apply({ type: 'session.status', sessionId: S, status: 'busy' });
  assert.equal(tl.status(), 'running');
  tl.apply({ type: 'session.error', sessionId: S, kind: 'provider', name: 'APIError', message: 'rate limited' });
  tl.apply({ type: 'session.idle', sessionId: S });
  assert.equal(tl.status(), 'failed');
  assert.match(tl.statusNote(), /rate limited/);
  tl.apply({ type: 'session.status', sessionId: S, status: 'busy' });
  tl.apply({ type: 'session.error', sessionId: S, kind: 'aborted', name: 'MessageAbortedError', message: 'Aborted' });
  tl.apply({
    type: 'message.updated',
    sessionId: S,
    messageId: 'msg_z',
    role: 'assistant',
    time: { created: 1, completed: 2 },
    error: { kind: 'aborted', name: 'MessageAbortedError', message: 'Aborted' },
  });
  assert.equal(tl.status(), 'idle');
  assert.deepEqual(
    tl.items().map((i) => i.kind === 'notice' && i.text),
    ['Stopped.'],
  );
});

test('a session.messages transcript becomes the same items; its state says whether the turn runs', () => {
  const tl = createTimeline(S);
  const todos = [{ content: 'Write it', status: 'in_progress', priority: 'high' }];
  tl.applySnapshot({
    sessionId: S,
    state: { status: 'busy' },
    todos,
    messages: [
      { messageId: 'msg_a', role: 'user', time: { created: 1 }, parts: [{ kind: 'text', partId: 'prt_a', text: 'do it', done: true }] },
      {
        messageId: 'msg_b',
        role: 'assistant',
        parentId: 'msg_a',
        time: { created: 2, completed: 3 },
        parts: [
          { kind: 'step', partId: 'prt_0', phase: 'start' },
          { kind: 'text', partId: 'prt_b', text: 'working', done: true },
          { kind: 'tool', partId: 'prt_c', callId: 'c1', tool: 'write', status: 'completed', input: { filePath: 'a.txt' }, output: 'ok', diff: '+a' },
          { kind: 'tool', partId: 'prt_d', callId: 'c2', tool: 'bash', status: 'error', input: { command: 'rm x' }, error: 'no', denied: 'refused' },
        ],
      },
    ],
  });
  assert.equal(tl.loaded(), true);
  assert.deepEqual(
    tl.items().map((i) => i.key),
    ['prt_a', 'prt_b', 'prt_c', 'prt_d'],
    'a step part is not shown',
  );
  assert.equal((tl.items()[0] as TextItem).role(), 'user');
  const [, , write, bash] = tl.items() as [TextItem, TextItem, ToolItem, ToolItem];
  assert.equal(write.state.diff, '+a', 'an edit shows its diff');
  assert.equal(bash.state.denied, 'refused');
  assert.deepEqual(tl.todos(), todos);
  assert.equal(tl.status(), 'running', 'the host says the turn still runs, though its last reply completed');

  const done = createTimeline(S);
  done.applySnapshot({ sessionId: S, state: { status: 'idle' }, todos: [], messages: [{ messageId: 'msg_b', role: 'assistant', time: { created: 2 }, parts: [] }] });
  assert.equal(done.status(), 'idle', 'the host says the turn is over, though the last reply never completed (the runtime restarted)');
  const failed = createTimeline(S);
  failed.applySnapshot({
    sessionId: S,
    state: { status: 'idle' },
    todos: [],
    messages: [{ messageId: 'msg_b', role: 'assistant', time: { created: 2, completed: 3 }, error: { kind: 'provider', name: 'APIError', message: 'quota' }, parts: [] }],
  });
  assert.equal(failed.status(), 'failed');
  const retrying = createTimeline(S);
  retrying.applySnapshot({ sessionId: S, state: { status: 'retry', attempt: 2, message: 'slow', next: 9 }, todos: [], messages: [] });
  assert.deepEqual([retrying.status(), retrying.statusNote()], ['running', 'Retrying (attempt 2): slow']);
});

test('a turn cut short reads Interrupted after what it wrote, offers its prompt for Retry, and ends when the session runs again', () => {
  const cut = { messageId: 'msg_a', replyId: 'msg_b', at: 7, reason: 'runtime-restarted' as const, detail: 'the runtime was killed by SIGKILL' };
  const snapshot = {
    sessionId: S,
    state: { status: 'idle' as const },
    todos: [],
    interrupted: cut,
    messages: [
      { messageId: 'msg_a', role: 'user' as const, time: { created: 1 }, parts: [{ kind: 'text' as const, partId: 'prt_a', text: 'write a poem', done: true }] },
      {
        messageId: 'msg_b',
        role: 'assistant' as const,
        parentId: 'msg_a',
        time: { created: 2 },
        parts: [{ kind: 'text' as const, partId: 'prt_b', text: 'Roses are', done: false }],
      },
    ],
  };
  const tl = createTimeline(S);
  tl.applySnapshot(snapshot);
  assert.equal(tl.status(), 'interrupted', 'not running: the runtime says idle and the host says it was cut');
  const [prompt, partial, notice] = tl.items();
  assert.equal((partial as TextItem).text(), 'Roses are', 'the partial answer is kept');
  assert.equal(notice?.kind, 'notice');
  assert.match((notice as NoticeItem).text, /^Interrupted: the coding runtime stopped \(the runtime was killed by SIGKILL\)/);
  assert.equal((notice as NoticeItem).retry, 'msg_a');
  assert.equal(tl.promptText('msg_a'), 'write a poem', 'Retry sends this again');
  assert.equal((prompt as TextItem).role(), 'user');

  // The event says the same, once, to a phone that had the session open.
  const live = createTimeline(S);
  live.applySnapshot({ ...snapshot, interrupted: undefined });
  assert.equal(live.status(), 'idle');
  live.apply({ type: 'session.interrupted', sessionId: S, ...cut });
  live.apply({ type: 'session.interrupted', sessionId: S, ...cut });
  assert.equal(live.status(), 'interrupted');
  assert.equal(live.items().filter((i) => i.kind === 'notice').length, 1);
  // The restarted runtime then says the session is idle: it is, and still reads interrupted; so
  // does an answer the host made before it recorded the interruption.
  live.apply({ type: 'session.status', sessionId: S, status: 'idle' });
  live.apply({ type: 'session.idle', sessionId: S });
  live.applySnapshot({ ...snapshot, interrupted: undefined });
  assert.equal(live.status(), 'interrupted');

  // Retry (or a follow-up) runs: the session is running; the cut turn keeps its notice.
  live.apply({ type: 'session.status', sessionId: S, status: 'busy' });
  assert.equal(live.status(), 'running');
  assert.equal(live.items().filter((i) => i.kind === 'notice').length, 1);
  // Reloaded once the session ran again: the cut turn is history, with its notice and Retry.
  const ran = createTimeline(S);
  ran.applySnapshot({ ...snapshot, state: { status: 'busy' }, interrupted: undefined, interruptions: [cut] });
  assert.equal(ran.status(), 'running', 'a transcript of a session running again is not interrupted');
  assert.deepEqual(
    ran.items().flatMap((i) => (i.kind === 'notice' ? [(i as NoticeItem).retry] : [])),
    ['msg_a'],
  );
});

test('a page of earlier messages goes before the newest, without touching the state or todos the newest page set', () => {
  const tl = createTimeline(S);
  const todos = [{ content: 'Now', status: 'in_progress', priority: 'high' }];
  const text = (messageId: string, role: 'user' | 'assistant', partId: string) => ({
    messageId,
    role,
    time: { created: 1 },
    parts: [{ kind: 'text' as const, partId, text: partId, done: true }],
  });
  tl.applySnapshot({ sessionId: S, state: { status: 'busy' }, todos, messages: [text('msg_c', 'user', 'prt_c'), text('msg_d', 'assistant', 'prt_d')] });
  const shown = tl.items();
  tl.applyEarlier({
    sessionId: S,
    state: { status: 'idle' },
    todos: [{ content: 'Old', status: 'completed', priority: 'low' }],
    messages: [text('msg_a', 'user', 'prt_a'), { ...text('msg_b', 'assistant', 'prt_b'), error: { kind: 'provider', name: 'APIError', message: 'old' } }],
  });
  assert.deepEqual(
    tl.items().map((i) => i.key),
    ['prt_a', 'prt_b', 'msg_b:notice', 'prt_c', 'prt_d'],
  );
  assert.equal(tl.items()[3], shown[0], 'the items already shown are the same objects');
  assert.deepEqual([(tl.items()[0] as TextItem).role(), (tl.items()[1] as TextItem).role()], ['user', 'assistant']);
  assert.equal(tl.status(), 'running', "the newest page's state stands");
  assert.deepEqual(tl.todos(), todos);
});
