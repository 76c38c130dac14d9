import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '../log.ts';
import { openTaskLedger, type Interruption, type TaskLedger } from './ledger.ts';
import { createInterruptions, openTurn, type InterruptionRuntime, type InterruptionsOptions } from './interruptions.ts';
import { taskMessageId } from './message-id.ts';

type TestContext = { after(fn: () => void): void };
const T0 = Date.UTC(2030, 0, 10, 12);

/** A session as OpenCode stores it: messages with `info`, and a status it reports only when not idle. */
interface FakeSession {
  messages: Array<{ info: Record<string, unknown>; parts: unknown[] }>;
  status?: { type: 'busy' | 'retry' };
  updated: number;
}

const user = (id: string) => ({ info: { id, role: 'user', time: { created: 1 } }, parts: [] });
const reply = (id: string, parentID: string, end?: 'completed' | 'error') => ({
  info: {
    id,
    role: 'assistant',
    parentID,
    time: { created: 2, ...(end === 'completed' ? { completed: 3 } : {}) },
    ...(end === 'error' ? { error: { name: 'MessageAbortedError' } } : {}),
  },
  parts: [{ type: 'text', text: 'Half an ans' }],
});

function setup(t: TestContext) {
  const root = mkdtempSync(join(tmpdir(), 'owr-interruptions-'));
  const ledgers: TaskLedger[] = [];
  t.after(() => {
    for (const l of ledgers) l.close();
    rmSync(root, { recursive: true, force: true });
  });
  let clock = T0;
  const sessions = new Map<string, FakeSession>();
  const reads: string[] = [];
  const aborted: string[] = [];
  /** Runs once when a session's messages are read, before they are answered (a turn starting meanwhile). */
  let onRead: ((sessionId: string) => void) | undefined;
  const runtime: InterruptionRuntime = {
    async listSessions() {
      return { sessions: [...sessions].map(([id, s]) => ({ id, time: { updated: s.updated }, ...(s.status ? { relayStatus: s.status } : { relayStatus: { type: 'idle' } }) })) };
    },
    async sessionStatus(sessionId) {
      return sessions.get(sessionId)?.status ?? { type: 'idle' };
    },
    async messages(sessionId) {
      reads.push(sessionId);
      const s = sessions.get(sessionId);
      const copy = structuredClone(s?.messages ?? []);
      onRead?.(sessionId);
      return copy;
    },
    async abort(sessionId) {
      aborted.push(sessionId);
      delete sessions.get(sessionId)!.status;
      return true;
    },
  };
  /** A fresh ledger and detector over the same directory: what a host restart gets. */
  const start = (more: Pick<InterruptionsOptions, 'settleMs'> = {}) => {
    const ledger = openTaskLedger({ dir: join(root, 'tasks'), log: silentLogger, now: () => clock });
    ledgers.push(ledger);
    const told: Interruption[] = [];
    const ended: string[] = [];
    const interruptions = createInterruptions({
      ledger,
      runtime,
      log: silentLogger,
      onInterrupted: (r) => told.push(r),
      onEnded: (id) => ended.push(id),
      now: () => clock,
      ...more,
    });
    return { ledger, interruptions, told, ended };
  };
  /** A task accepted and confirmed by the runtime, with its prompt stored in its session. */
  const forward = (ledger: TaskLedger, taskId: string, sessionId: string) => {
    const messageId = taskMessageId(taskId, clock);
    ledger.accept({ taskId, sessionId, messageId, acceptedAt: clock, text: `do ${taskId}` });
    ledger.confirm(taskId);
    const s = sessions.get(sessionId) ?? { messages: [], updated: clock };
    s.messages.push(user(messageId));
    s.status = { type: 'busy' };
    s.updated = clock;
    sessions.set(sessionId, s);
    return messageId;
  };
  return {
    sessions,
    reads,
    aborted,
    runtime,
    start,
    forward,
    tick: (ms: number) => (clock += ms),
    onRead: (fn: typeof onRead) => (onRead = fn),
  };
}

test('openTurn: an unfinished last reply or an unanswered last prompt is open; an ended turn is not', () => {
  assert.deepEqual(openTurn([user('msg_1'), reply('msg_2', 'msg_1')]), { messageId: 'msg_1', replyId: 'msg_2' });
  assert.deepEqual(openTurn([user('msg_1'), reply('msg_2', 'msg_1', 'completed'), user('msg_3')]), { messageId: 'msg_3' });
  assert.equal(openTurn([user('msg_1'), reply('msg_2', 'msg_1', 'completed')]), undefined);
  assert.equal(openTurn([user('msg_1'), reply('msg_2', 'msg_1', 'error')]), undefined, 'a stopped or failed turn ended');
  assert.equal(openTurn([]), undefined);
  assert.equal(openTurn('not a list'), undefined);
});

test('after a restart, the task whose reply was cut is recorded interrupted, told once, and remembered by the next host', async (t) => {
  const s = setup(t);
  const a = s.start();
  const prompt = s.forward(a.ledger, 'tsk_1', 'ses_1');
  a.interruptions.observe({ type: 'session.status', sessionId: 'ses_1', status: 'busy' });
  s.sessions.get('ses_1')!.messages.push(reply('msg_z', prompt));
  s.tick(10_000);
  // The runtime is killed mid-answer and started again: the session is idle, the reply unfinished.
  delete s.sessions.get('ses_1')!.status;
  const found = await a.interruptions.check({ reason: 'runtime-restarted', detail: 'the runtime was killed by SIGKILL' });
  assert.deepEqual(found, [
    { sessionId: 'ses_1', messageId: prompt, replyId: 'msg_z', taskId: 'tsk_1', at: T0 + 10_000, reason: 'runtime-restarted', detail: 'the runtime was killed by SIGKILL' },
  ]);
  assert.deepEqual(a.told, found);
  assert.deepEqual(a.ledger.unfinished(), [], 'the task no longer counts as running');
  assert.deepEqual(await a.interruptions.check({ reason: 'runtime-lost' }), [{ ...found[0] }], 'the same turn is found again…');
  assert.equal(a.told.length, 1, '…but recorded and told only once');

  const b = s.start();
  assert.deepEqual(b.interruptions.of('ses_1'), found[0], 'a host restart remembers it');
  assert.equal(b.ledger.get('tsk_1')?.finishedAt, T0 + 10_000);
});

test('a turn found before the check a restart starts (a device opening it, the event stream back) is named by what the host knows cut it', async (t) => {
  const s = setup(t);
  const a = s.start();
  const cut = (taskId: string, sessionId: string) => {
    const prompt = s.forward(a.ledger, taskId, sessionId);
    a.interruptions.observe({ type: 'session.status', sessionId, status: 'busy' });
    s.sessions.get(sessionId)!.messages.push(reply(`msg_r${taskId}`, prompt));
  };
  cut('tsk_1', 'ses_1');
  cut('tsk_2', 'ses_2');
  s.tick(10_000);
  const killed = { reason: 'runtime-restarted', detail: 'the runtime was killed by SIGKILL' } as const;
  a.interruptions.lost(killed);
  for (const id of ['ses_1', 'ses_2']) delete s.sessions.get(id)!.status;
  // A device opens one session before the host has looked…
  const opened = await a.interruptions.inspect('ses_1', s.sessions.get('ses_1')!.messages, undefined);
  assert.deepEqual([opened?.reason, opened?.detail], [killed.reason, killed.detail]);
  // …and the event stream comes back first: its check, which knows no cause, finds the other.
  await a.interruptions.check({ reason: 'runtime-lost' });
  assert.deepEqual(
    a.told.map((r) => [r.sessionId, r.reason, r.detail]),
    [
      ['ses_1', killed.reason, killed.detail],
      ['ses_2', killed.reason, killed.detail],
    ],
  );
  // Every session looked at since: a turn cut later was lost for no reason the host saw.
  cut('tsk_3', 'ses_3');
  s.tick(10_000);
  delete s.sessions.get('ses_3')!.status;
  const later = await a.interruptions.inspect('ses_3', s.sessions.get('ses_3')!.messages, undefined);
  assert.equal(later?.reason, 'runtime-lost');
});

test('on host start, only the ledger knows the running task: its session is looked at and found cut', async (t) => {
  const s = setup(t);
  const a = s.start();
  const prompt = s.forward(a.ledger, 'tsk_1', 'ses_1');
  s.sessions.get('ses_1')!.messages.push(reply('msg_z', prompt));
  // An old session the host never ran a task in, and a long-finished one: neither is touched.
  s.sessions.set('ses_old', { messages: [user('msg_a'), reply('msg_b', 'msg_a')], updated: T0 - 3 * 24 * 3600_000 });
  s.sessions.set('ses_done', { messages: [user('msg_a'), reply('msg_b', 'msg_a', 'completed')], updated: T0 });
  s.tick(60_000);
  delete s.sessions.get('ses_1')!.status;
  const b = s.start();
  const found = await b.interruptions.check({ reason: 'host-restarted' });
  assert.deepEqual(
    found.map((r) => [r.sessionId, r.taskId]),
    [['ses_1', 'tsk_1']],
  );
  assert.ok(!s.reads.includes('ses_old'), 'sessions not updated lately are left alone');
});

test('a prompt the runtime stored but never answered counts only for a forwarded task, and not while it may be starting', async (t) => {
  const s = setup(t);
  const a = s.start();
  const prompt = s.forward(a.ledger, 'tsk_1', 'ses_1');
  delete s.sessions.get('ses_1')!.status;
  assert.deepEqual(await a.interruptions.check({ reason: 'runtime-restarted', detail: 'the runtime was killed by SIGKILL' }), [], 'just forwarded: the runtime may be starting it');
  s.tick(6000);
  const found = await a.interruptions.check({ reason: 'runtime-restarted', detail: 'the runtime was killed by SIGKILL' });
  assert.deepEqual(
    found.map((r) => [r.messageId, r.replyId, r.taskId]),
    [[prompt, undefined, 'tsk_1']],
  );
  // A prompt typed elsewhere (no task of this host) without a reply: not this host's to judge.
  s.sessions.set('ses_2', { messages: [user('msg_x')], updated: T0 });
  assert.equal(await a.interruptions.inspect('ses_2', s.sessions.get('ses_2')!.messages, { type: 'idle' }), undefined);
});

test('a prompt too recent to judge when the runtime came back is looked at again once it settled, and found cut', async (t) => {
  const s = setup(t);
  const a = s.start({ settleMs: 200 });
  const prompt = s.forward(a.ledger, 'tsk_1', 'ses_1');
  a.interruptions.observe({ type: 'session.status', sessionId: 'ses_1', status: 'busy' });
  // The runtime is killed right after it stored the prompt, before it began the turn.
  delete s.sessions.get('ses_1')!.status;
  assert.deepEqual(await a.interruptions.check({ reason: 'runtime-restarted' }), [], 'just forwarded: the runtime may be starting it');
  s.tick(300);
  // Nothing else happens (no event, no device opening it): the host looks again by itself.
  const deadline = Date.now() + 5000;
  while (a.told.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  assert.deepEqual(
    a.told.map((r) => [r.sessionId, r.messageId, r.taskId, r.reason]),
    [['ses_1', prompt, 'tsk_1', 'runtime-restarted']],
  );
});

test('a session seen running whose turn ended while its idle event was lost (the runtime killed right after) is told idle, once', async (t) => {
  const s = setup(t);
  const a = s.start();
  const prompt = s.forward(a.ledger, 'tsk_1', 'ses_1');
  a.interruptions.observe({ type: 'session.status', sessionId: 'ses_1', status: 'busy' });
  s.sessions.get('ses_1')!.messages.push(reply('msg_z', prompt, 'completed'));
  s.tick(10_000);
  delete s.sessions.get('ses_1')!.status;
  assert.deepEqual(await a.interruptions.check({ reason: 'runtime-restarted' }), [], 'not cut: its reply is complete');
  assert.deepEqual(a.ended, ['ses_1'], 'devices are told it is idle');
  assert.deepEqual(a.ledger.unfinished(), []);
  await a.interruptions.check({ reason: 'runtime-lost' });
  assert.deepEqual(a.ended, ['ses_1'], 'told once');
  // A session that ended as the runtime said is not told again.
  s.forward(a.ledger, 'tsk_2', 'ses_2');
  a.interruptions.observe({ type: 'session.status', sessionId: 'ses_2', status: 'busy' });
  s.sessions.get('ses_2')!.messages.push(reply('msg_y', s.sessions.get('ses_2')!.messages[0]!.info.id as string, 'completed'));
  delete s.sessions.get('ses_2')!.status;
  a.interruptions.observe({ type: 'session.idle', sessionId: 'ses_2' });
  await a.interruptions.check({ reason: 'runtime-lost' });
  assert.deepEqual(a.ended, ['ses_1']);
});

test('a running session, a turn that starts while its messages are read, and a finished turn are not interrupted', async (t) => {
  const s = setup(t);
  const a = s.start();
  const p1 = s.forward(a.ledger, 'tsk_1', 'ses_1');
  s.sessions.get('ses_1')!.messages.push(reply('msg_r1', p1));
  s.tick(10_000);
  assert.deepEqual(await a.interruptions.check({ reason: 'runtime-lost' }), [], 'busy: still running');

  // Idle when listed, but a new turn starts while its messages are read.
  s.sessions.get('ses_1')!.messages[1] = reply('msg_r1', p1, 'completed');
  delete s.sessions.get('ses_1')!.status;
  s.sessions.get('ses_1')!.messages.push(user('msg_s2'), reply('msg_t2', 'msg_s2'));
  s.onRead((id) => (s.sessions.get(id)!.status = { type: 'busy' }));
  assert.deepEqual(await a.interruptions.check({ reason: 'runtime-lost' }), [], 'the status asked after reading says busy');
  s.onRead(undefined);

  // The turn completes and the events say so: its task is finished, nothing is interrupted.
  a.interruptions.observe({ type: 'message.updated', sessionId: 'ses_1', role: 'assistant', parentId: p1, time: { completed: 3 } });
  assert.equal(a.ledger.get('tsk_1')?.finishedAt, T0 + 10_000);
  assert.equal(a.interruptions.of('ses_1'), undefined);
});

test('inspect finds a cut turn a device opens, keeps it until the session runs again, then forgets it', async (t) => {
  const s = setup(t);
  const a = s.start();
  s.sessions.set('ses_1', { messages: [user('msg_a'), reply('msg_b', 'msg_a')], updated: T0 });
  const found = await a.interruptions.inspect('ses_1', s.sessions.get('ses_1')!.messages, undefined);
  assert.equal(found?.replyId, 'msg_b');
  assert.equal(a.told.length, 1, 'every device is told');
  assert.equal(await a.interruptions.inspect('ses_1', s.sessions.get('ses_1')!.messages, { type: 'busy' }), undefined, 'busy: running, not interrupted');

  // Retry: the session runs again (a new prompt) and completes.
  a.interruptions.observe({ type: 'session.status', sessionId: 'ses_1', status: 'busy' });
  assert.equal(a.interruptions.of('ses_1'), undefined, 'running again ends the interruption');
  assert.deepEqual(a.interruptions.history('ses_1'), [found], "the cut turn stays in the session's history");
  s.sessions.get('ses_1')!.messages.push(user('msg_c'), reply('msg_d', 'msg_c', 'completed'));
  assert.equal(await a.interruptions.inspect('ses_1', s.sessions.get('ses_1')!.messages, undefined), undefined);
  assert.equal(a.told.length, 1);
  const b = s.start();
  assert.equal(b.interruptions.of('ses_1'), undefined, 'the resume is remembered too');
  assert.deepEqual(b.interruptions.history('ses_1'), [found]);
});

test('a recorded interruption whose session moved on while the host was away is dropped', async (t) => {
  const s = setup(t);
  const a = s.start();
  s.sessions.set('ses_1', { messages: [user('msg_a'), reply('msg_b', 'msg_a')], updated: T0 });
  await a.interruptions.inspect('ses_1', s.sessions.get('ses_1')!.messages, undefined);
  s.sessions.get('ses_1')!.messages.push(user('msg_c'), reply('msg_d', 'msg_c', 'completed'));
  const b = s.start();
  assert.equal(await b.interruptions.inspect('ses_1', s.sessions.get('ses_1')!.messages, undefined), undefined);
  assert.equal(b.interruptions.of('ses_1'), undefined);
});

test('a session the runtime no longer lists ends its tasks; a failed read is retried by the next check', async (t) => {
  const s = setup(t);
  const a = s.start();
  s.forward(a.ledger, 'tsk_gone', 'ses_gone');
  s.sessions.delete('ses_gone');
  const p = s.forward(a.ledger, 'tsk_1', 'ses_1');
  s.sessions.get('ses_1')!.messages.push(reply('msg_z', p));
  delete s.sessions.get('ses_1')!.status;
  s.tick(10_000);
  const messages = s.runtime.messages;
  s.runtime.messages = async () => {
    throw new Error('the runtime did not answer');
  };
  assert.deepEqual(await a.interruptions.check({ reason: 'runtime-lost' }), []);
  assert.notEqual(a.ledger.get('tsk_gone')?.finishedAt, undefined);
  assert.equal(a.ledger.get('tsk_1')?.finishedAt, undefined, 'not known yet: looked at again');
  s.runtime.messages = messages;
  assert.equal((await a.interruptions.check({ reason: 'runtime-lost' })).length, 1);
});

test('Stop stops a running turn, and says when nothing was left to stop (a cut turn it finds is recorded)', async (t) => {
  const s = setup(t);
  const a = s.start();
  const p = s.forward(a.ledger, 'tsk_1', 'ses_1');
  s.sessions.get('ses_1')!.messages.push(reply('msg_z', p));
  assert.deepEqual(await a.interruptions.stop('ses_1'), { running: true });
  assert.deepEqual(s.aborted, ['ses_1']);

  // The runtime restarted: the phone still shows the turn running, but nothing runs it.
  s.sessions.set('ses_2', { messages: [user('msg_a'), reply('msg_b', 'msg_a')], updated: T0 });
  assert.deepEqual(await a.interruptions.stop('ses_2'), { running: false });
  assert.deepEqual(s.aborted, ['ses_1'], 'nothing to abort');
  assert.equal(a.interruptions.of('ses_2')?.replyId, 'msg_b');
  assert.deepEqual(
    a.told.map((r) => r.sessionId),
    ['ses_2'],
  );
  assert.deepEqual(await a.interruptions.stop('ses_2'), { running: false });
  assert.equal(a.told.length, 1);
});
