import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { SessionSummary } from '../../shared/protocol/sessions-list.ts';
import { toLastMessage } from '../runtime/to-relay.ts';
import { createLastMessages } from './last-messages.ts';

/** Messages as the runtime stores them. */
const prompt = (id: string, text: string) => ({ info: { id, role: 'user', time: { created: 1 } }, parts: [{ id: `${id}_p`, type: 'text', text }] });
const reply = (id: string, parts: unknown[], error?: unknown) => ({ info: { id, role: 'assistant', time: { created: 2, completed: 3 }, ...(error ? { error } : {}) }, parts });
const text = (id: string, t: string) => ({ id, type: 'text', text: t, time: { start: 1, end: 2 } });
const tool = { id: 'prt_t', type: 'tool', callID: 'c1', tool: 'bash', state: { status: 'completed', input: {}, output: 'x' } };

test("a session's end: the last text as a preview, and a stop or a failure of its last turn", () => {
  assert.deepEqual(toLastMessage([prompt('m1', 'Fix the tests'), reply('m2', [text('t1', 'Fixed:\n\nboth  pass.')])]), { preview: 'Fixed: both pass.' });
  assert.deepEqual(toLastMessage([prompt('m1', 'Run it'), reply('m2', [tool])]), { preview: 'Run it' }, 'a reply of tool calls only: the prompt');
  assert.deepEqual(toLastMessage([prompt('m1', 'Run it'), reply('m2', [], { name: 'MessageAbortedError', data: { message: 'aborted' } })]), {
    preview: 'Run it',
    ended: { kind: 'aborted', name: 'MessageAbortedError', message: 'aborted' },
  });
  const failed = toLastMessage([reply('m2', [text('t1', 'Trying')], { name: 'APIError', data: { message: 'x'.repeat(5000) } })]);
  assert.deepEqual([failed.preview, failed.ended?.kind, failed.ended?.message.length], ['Trying', 'provider', 1000], 'the message capped');
  assert.deepEqual(toLastMessage([reply('m0', [], { name: 'APIError' }), prompt('m1', 'Again')]), { preview: 'Again' }, 'a new prompt: no ending yet');
  assert.deepEqual(toLastMessage([]), {});
  assert.deepEqual(toLastMessage('nonsense'), {});
});

const summary = (id: string, updatedAt: number, status: 'idle' | 'busy' = 'idle'): SessionSummary => ({
  sessionId: id,
  title: id,
  createdAt: 1,
  updatedAt,
  state: { status },
  waiting: false,
});

test('reads each session once until it changes, a few at a time; a session that cannot be read is listed without', async () => {
  const reads: string[] = [];
  let open = 0;
  let most = 0;
  const skipped: unknown[] = [];
  const last = createLastMessages({
    parallel: 2,
    skipped: (err) => skipped.push(err),
    async messages(sessionId, limit) {
      assert.equal(limit, 2);
      reads.push(sessionId);
      open++;
      most = Math.max(most, open);
      await new Promise((r) => setTimeout(r, 5));
      open--;
      if (sessionId === 'ses_bad') throw new Error('gone');
      return [prompt('m1', `about ${sessionId}`)];
    },
  });
  const first = await last.add([summary('ses_a', 1), summary('ses_b', 1), summary('ses_run', 1, 'busy'), summary('ses_bad', 1)]);
  assert.deepEqual(
    first.map((s) => [s.sessionId, s.preview]),
    [
      ['ses_a', 'about ses_a'],
      ['ses_b', 'about ses_b'],
      ['ses_run', 'about ses_run'],
      ['ses_bad', undefined],
    ],
  );
  assert.equal(most, 2, 'two at a time');
  assert.equal(skipped.length, 1);
  reads.length = 0;
  await last.add([summary('ses_a', 1), summary('ses_b', 2), summary('ses_run', 1, 'busy'), summary('ses_bad', 1)]);
  assert.deepEqual(reads.sort(), ['ses_b', 'ses_bad', 'ses_run'], 'not ses_a, unchanged; a running one and a failed read again');
});

test('remembers a bounded number of sessions, forgetting the least recently listed', async () => {
  const reads: string[] = [];
  const last = createLastMessages({ remember: 2, messages: async (id) => (reads.push(id), []) });
  await last.add([summary('a', 1), summary('b', 1)]);
  await last.add([summary('a', 1)]);
  await last.add([summary('c', 1)]);
  reads.length = 0;
  await last.add([summary('a', 1), summary('b', 1), summary('c', 1)]);
  assert.deepEqual(reads, ['b'], 'b was listed least recently, so it went');
});
