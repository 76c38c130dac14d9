import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '../log.ts';
import { openTaskLedger, type TaskLedger } from './ledger.ts';
import { createTaskService, type TaskRuntime } from './service.ts';
import { taskMessageId } from './message-id.ts';

type TestContext = { after(fn: () => void): void };

/** A runtime that stores prompts by message id, as OpenCode does; `fail` makes the next prompts fail. */
function fakeRuntime() {
  const stored = new Map<string, { sessionId: string; text: string }>();
  const prompts: string[] = [];
  /** Each call as the runtime got it: prompt or command, with how it runs. */
  const turns: unknown[][] = [];
  let failures: Array<'before' | 'after'> = [];
  let gate: Promise<void> | undefined;
  const runtime: TaskRuntime = {
    async prompt(sessionId, text, turn) {
      const { messageId } = turn;
      turns.push(['prompt', text, turn]);
      prompts.push(messageId);
      await gate;
      const failure = failures.shift();
      if (failure === 'before') throw new Error('connect ECONNREFUSED');
      stored.set(messageId, { sessionId, text });
      if (failure === 'after') throw new Error('the operation timed out'); // the runtime took it, the answer was lost
    },
    async command(sessionId, command, args, turn) {
      turns.push(['command', command, args, turn]);
      prompts.push(turn.messageId);
      stored.set(turn.messageId, { sessionId, text: `/${command} ${args}` });
    },
    async messages(sessionId) {
      return [...stored].filter(([, m]) => m.sessionId === sessionId).map(([id]) => ({ info: { id }, parts: [] }));
    },
  };
  return {
    runtime,
    stored,
    prompts,
    turns,
    fail: (...f: Array<'before' | 'after'>) => (failures = f),
    hold() {
      let release!: () => void;
      gate = new Promise((r) => (release = r));
      return () => {
        gate = undefined;
        release();
      };
    },
  };
}

function setup(t: TestContext) {
  const root = mkdtempSync(join(tmpdir(), 'owr-task-service-'));
  const dir = join(root, 'tasks');
  const ledgers: TaskLedger[] = [];
  t.after(() => {
    ledgers.forEach((l) => void l.close());
    rmSync(root, { recursive: true, force: true });
  });
  const rt = fakeRuntime();
  let clock = Date.UTC(2030, 0, 10, 12);
  /** A fresh ledger and service over the same directory: what a host restart gets. */
  const start = () => {
    const ledger = openTaskLedger({ dir, log: silentLogger, now: () => clock });
    ledgers.push(ledger);
    return { ledger, tasks: createTaskService({ ledger, runtime: rt.runtime, log: silentLogger, now: () => clock }) };
  };
  return { rt, start, tick: (ms: number) => (clock += ms), now: () => clock };
}

test('a task runs once: resends, concurrent resends and a restarted host all get the first result', async (t) => {
  const s = setup(t);
  const { tasks } = s.start();
  const release = s.rt.hold();
  const first = tasks.submit('t1', 'ses_a', 'hello');
  const concurrent = tasks.submit('t1', 'ses_a', 'hello');
  release();
  const result = await first;
  assert.deepEqual(result, { taskId: 't1', sessionId: 'ses_a', messageId: taskMessageId('t1', s.now()), acceptedAt: s.now() });
  assert.deepEqual(await concurrent, result);
  s.tick(1000);
  assert.deepEqual(await tasks.submit('t1', 'ses_b', 'changed'), result, 'the first submission wins');
  const restarted = s.start().tasks;
  assert.deepEqual(await restarted.submit('t1', 'ses_a', 'hello'), result);
  assert.equal(s.rt.prompts.length, 1);
  assert.deepEqual([...s.rt.stored.values()], [{ sessionId: 'ses_a', text: 'hello' }]);
});

test('a failed submission is retried with the same message id, and not sent when the runtime has it', async (t) => {
  const s = setup(t);
  const { tasks, ledger } = s.start();
  s.rt.fail('before');
  await assert.rejects(tasks.submit('t1', 'ses_a', 'one'), /ECONNREFUSED/);
  assert.equal(ledger.get('t1')?.state, 'failed');
  const result = await tasks.submit('t1', 'ses_a', 'one');
  assert.equal(ledger.get('t1')?.state, 'confirmed');
  assert.deepEqual(s.rt.prompts, [result.messageId, result.messageId]);

  s.rt.fail('after'); // the runtime took it; the answer never came back
  await assert.rejects(tasks.submit('t2', 'ses_a', 'two'), /timed out/);
  await tasks.submit('t2', 'ses_a', 'two');
  assert.equal(s.rt.prompts.length, 3, 'found in the session: not sent a second time');
  assert.equal(s.rt.stored.size, 2);
});

test('after a crash between recording and sending, reconcile looks in the session before sending', async (t) => {
  const s = setup(t);
  const before = s.start().ledger;
  // The host recorded both and died: t1 had reached the runtime, t2 had not.
  const t1 = before.accept({ taskId: 't1', sessionId: 'ses_a', text: 'one', acceptedAt: s.now(), messageId: taskMessageId('t1', s.now()) });
  before.accept({ taskId: 't2', sessionId: 'ses_a', text: 'two', acceptedAt: s.now(), messageId: taskMessageId('t2', s.now()) });
  s.rt.stored.set(t1.messageId, { sessionId: 'ses_a', text: 'one' });
  s.tick(60_000);
  const { tasks, ledger } = s.start();
  await tasks.reconcile();
  assert.deepEqual([ledger.get('t1')?.state, ledger.get('t2')?.state], ['confirmed', 'confirmed']);
  assert.deepEqual(s.rt.prompts, [taskMessageId('t2', s.now() - 60_000)], 'only the missing one was sent');
  await tasks.submit('t2', 'ses_a', 'two');
  await tasks.reconcile();
  assert.equal(s.rt.prompts.length, 1);
});

test('reconcile leaves an old pending task to its device instead of starting it by surprise', async (t) => {
  const s = setup(t);
  const before = s.start().ledger;
  before.accept({ taskId: 'old', sessionId: 'ses_a', text: 'old', acceptedAt: s.now(), messageId: taskMessageId('old', s.now()) });
  s.tick(60 * 60 * 1000);
  const { tasks, ledger } = s.start();
  await tasks.reconcile();
  assert.deepEqual([s.rt.prompts.length, ledger.get('old')?.state], [0, 'failed']);
  await tasks.submit('old', 'ses_a', 'old');
  assert.deepEqual([s.rt.prompts.length, ledger.get('old')?.state], [1, 'confirmed'], 'the device resent it: now it runs');
});

test('a task carries its agent, model and variant, and a command runs as a command, each once, also after a restart', async (t) => {
  const s = setup(t);
  const { tasks } = s.start();
  const model = { providerId: 'fake', modelId: 'fake-smart' };
  const a = await tasks.submit('t1', 'ses_a', 'plan it', { agent: 'plan', model, variant: 'high' });
  const b = await tasks.submit('c1', 'ses_a', 'Ada', { command: 'greet' });
  assert.deepEqual(await tasks.submit('c1', 'ses_a', 'Ada', { command: 'greet' }), b, 'a resent command gets its first answer');
  assert.deepEqual(s.rt.turns, [
    ['prompt', 'plan it', { messageId: a.messageId, agent: 'plan', model, variant: 'high' }],
    ['command', 'greet', 'Ada', { messageId: b.messageId }],
  ]);
  // Recorded with how it runs: a restarted host that must send it again sends the same turn.
  const before = s.start().ledger;
  before.accept({ taskId: 'c2', sessionId: 'ses_a', text: '', command: 'init', agent: 'build', acceptedAt: s.now(), messageId: taskMessageId('c2', s.now()) });
  const { tasks: restarted } = s.start();
  await restarted.reconcile();
  assert.deepEqual(s.rt.turns.at(-1), ['command', 'init', '', { messageId: taskMessageId('c2', s.now()), agent: 'build' }]);
});
