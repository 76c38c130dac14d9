import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '../log.ts';
import { openTaskLedger, TASK_RETENTION_MS, type NewTask } from './ledger.ts';
import { MESSAGE_ID, taskMessageId } from './message-id.ts';

type TestContext = { after(fn: () => void): void };
const DAY = 24 * 60 * 60 * 1000;
const T0 = Date.UTC(2030, 0, 10, 12);

function tempDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'owr-tasks-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return join(dir, 'tasks');
}

const task = (taskId: string, acceptedAt = T0): NewTask => ({ taskId, sessionId: 'ses_1', messageId: taskMessageId(taskId, acceptedAt), acceptedAt, text: `do ${taskId}` });

test('records survive reopening: accepted, confirmed and failed tasks, in day files of mode 0600', (t) => {
  const dir = tempDir(t);
  let clock = T0;
  const a = openTaskLedger({ dir, log: silentLogger, now: () => clock });
  assert.equal(a.accept(task('t1')).state, 'pending');
  a.accept(task('t2'));
  a.accept(task('t3'));
  clock += DAY; // a confirmation written on the next day still belongs to its task
  a.confirm('t1');
  a.fail('t2', 'connection refused');
  assert.throws(() => a.accept(task('t1')), RangeError);
  a.close();
  assert.deepEqual(readdirSync(dir).sort(), ['2030-01-10.jsonl', '2030-01-11.jsonl']);
  assert.equal(statSync(join(dir, '2030-01-10.jsonl')).mode & 0o777, 0o600);

  const b = openTaskLedger({ dir, log: silentLogger, now: () => clock });
  assert.equal(b.size, 3);
  assert.deepEqual(b.get('t1'), { ...task('t1'), state: 'confirmed' });
  assert.deepEqual(b.get('t2'), { ...task('t2'), state: 'failed', error: 'connection refused' });
  assert.deepEqual(
    b.pending().map((r) => r.taskId),
    ['t3'],
  );
  b.confirm('t2');
  b.close();
  const c = openTaskLedger({ dir, log: silentLogger, now: () => clock });
  assert.equal(c.get('t2')?.state, 'confirmed', 'a task found in the runtime after a failure is confirmed');
  c.close();
});

test('a line cut short by a crash is dropped, and the next write starts on a line of its own', (t) => {
  const dir = tempDir(t);
  const a = openTaskLedger({ dir, log: silentLogger, now: () => T0 });
  a.accept(task('t1'));
  a.close();
  const file = join(dir, '2030-01-10.jsonl');
  appendFileSync(file, '{"op":"accept","taskId":"t2","sessi');
  const b = openTaskLedger({ dir, log: silentLogger, now: () => T0 });
  assert.equal(b.get('t2'), undefined, 'never fsynced, so never acted on');
  b.accept(task('t3'));
  b.close();
  const c = openTaskLedger({ dir, log: silentLogger, now: () => T0 });
  assert.deepEqual([c.get('t1')?.state, c.get('t3')?.state], ['pending', 'pending']);
  assert.equal(readFileSync(file, 'utf8').split('\n').filter(Boolean).length, 2);
  c.close();
});

test('tasks older than the retention are forgotten and their files deleted', (t) => {
  const dir = tempDir(t);
  let clock = T0;
  const a = openTaskLedger({ dir, log: silentLogger, now: () => clock });
  a.accept(task('old', clock));
  clock += 3 * DAY;
  a.accept(task('newer', clock));
  clock += TASK_RETENTION_MS - 2 * DAY; // 'old' is now 8 days old, 'newer' 5
  a.accept(task('newest', clock));
  assert.deepEqual([a.get('old'), a.get('newer')?.taskId], [undefined, 'newer'], 'a long-running host forgets too');
  a.close();
  assert.deepEqual(readdirSync(dir).sort(), ['2030-01-13.jsonl', '2030-01-18.jsonl']);
  const b = openTaskLedger({ dir, log: silentLogger, now: () => clock });
  assert.deepEqual([b.size, b.get('old')], [2, undefined]);
  b.close();
});

test('unreadable lines are skipped, the rest is kept', (t) => {
  const dir = tempDir(t);
  openTaskLedger({ dir, log: silentLogger, now: () => T0 }).close();
  writeFileSync(join(dir, '2030-01-10.jsonl'), ['not json', '{"op":"accept","taskId":"x"}', JSON.stringify({ op: 'accept', ...task('ok') }), ''].join('\n'));
  const l = openTaskLedger({ dir, log: silentLogger, now: () => T0 });
  assert.deepEqual([l.size, l.get('ok')?.state], [1, 'pending']);
  l.close();
});

test('keyed sessions are recorded per device, survive reopening beside tasks, and are forgotten after the retention', (t) => {
  const dir = tempDir(t);
  let clock = T0;
  const a = openTaskLedger({ dir, log: silentLogger, now: () => clock });
  a.accept(task('t1'));
  a.recordSession({ deviceId: 'dev_a', key: 'k1', sessionId: 'ses_a', createdAt: clock });
  assert.equal(a.session('dev_b', 'k1'), undefined, "another device's key is another key");
  a.close();
  appendFileSync(join(dir, '2030-01-10.jsonl'), '{"op":"session","deviceId":"dev_a","key":"k2"}\n');
  clock += DAY;
  const b = openTaskLedger({ dir, log: silentLogger, now: () => clock });
  assert.deepEqual(b.session('dev_a', 'k1'), { deviceId: 'dev_a', key: 'k1', sessionId: 'ses_a', createdAt: T0 });
  assert.equal(b.session('dev_a', 'k2'), undefined, 'a line without a session is skipped');
  assert.deepEqual([b.size, b.get('t1')?.state], [1, 'pending'], 'tasks are read as before');
  clock += TASK_RETENTION_MS;
  b.recordSession({ deviceId: 'dev_a', key: 'k3', sessionId: 'ses_c', createdAt: clock });
  assert.equal(b.session('dev_a', 'k1'), undefined, 'a long-running host forgets too');
  b.close();
  const c = openTaskLedger({ dir, log: silentLogger, now: () => clock });
  assert.deepEqual([c.session('dev_a', 'k1'), c.session('dev_a', 'k3')?.sessionId], [undefined, 'ses_c']);
  c.close();
});

test("a keyed session's intent survives reopening until its session is recorded, and is forgotten after the retention", (t) => {
  const dir = tempDir(t);
  let clock = T0;
  const a = openTaskLedger({ dir, log: silentLogger, now: () => clock });
  a.intendSession({ deviceId: 'dev_a', key: 'k1', directory: '/w', at: clock });
  a.intendSession({ deviceId: 'dev_a', key: 'k2', at: clock });
  a.intendSession({ deviceId: 'dev_a', key: 'k3', directory: '/w', at: clock });
  a.recordSession({ deviceId: 'dev_a', key: 'k3', sessionId: 'ses_3', createdAt: clock });
  assert.equal(a.sessionIntent('dev_a', 'k3'), undefined, 'recorded: settled');
  assert.equal(a.sessionIntent('dev_b', 'k1'), undefined, "another device's key is another key");
  a.close();
  const lines = readFileSync(join(dir, '2030-01-10.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  assert.deepEqual(lines[0], { op: 'session-intent', deviceId: 'dev_a', key: 'k1', directory: '/w', at: T0 });
  appendFileSync(
    join(dir, '2030-01-10.jsonl'),
    '{"op":"session-intent","deviceId":"dev_a","key":"k4","directory":7,"at":1}\n{"op":"session-intent","deviceId":"dev_a","key":"k5"}\n',
  );

  clock += DAY;
  const b = openTaskLedger({ dir, log: silentLogger, now: () => clock });
  assert.deepEqual(b.sessionIntent('dev_a', 'k1'), { deviceId: 'dev_a', key: 'k1', directory: '/w', at: T0 });
  assert.deepEqual(b.sessionIntent('dev_a', 'k2'), { deviceId: 'dev_a', key: 'k2', at: T0 }, 'no directory: the default workspace');
  assert.deepEqual([b.sessionIntent('dev_a', 'k3'), b.session('dev_a', 'k3')?.sessionId], [undefined, 'ses_3']);
  assert.deepEqual([b.sessionIntent('dev_a', 'k4'), b.sessionIntent('dev_a', 'k5')], [undefined, undefined], 'malformed lines are skipped');
  b.intendSession({ deviceId: 'dev_a', key: 'k2', at: clock });
  assert.equal(b.sessionIntent('dev_a', 'k2')?.at, clock, 'the latest intent stands');
  clock += TASK_RETENTION_MS;
  b.intendSession({ deviceId: 'dev_a', key: 'k6', at: clock });
  assert.equal(b.sessionIntent('dev_a', 'k1'), undefined, 'a long-running host forgets too');
  b.close();
  const c = openTaskLedger({ dir, log: silentLogger, now: () => clock });
  assert.deepEqual([c.sessionIntent('dev_a', 'k1'), c.sessionIntent('dev_a', 'k6')?.at], [undefined, clock]);
  c.close();
});

test("message ids have OpenCode's form, sort by acceptance time and depend only on task id and time", () => {
  const id = taskMessageId('task-1', T0);
  assert.match(id, MESSAGE_ID);
  assert.equal(id, taskMessageId('task-1', T0));
  assert.notEqual(id, taskMessageId('task-2', T0));
  assert.ok(taskMessageId('z', T0) < taskMessageId('a', T0 + 1), 'the time part comes first');
  // The runtime's own id for a reply made in the same millisecond (counter 1) sorts after it.
  const runtimeOwn = `msg_${((BigInt(T0) * 4096n + 1n) & ((1n << 48n) - 1n)).toString(16).padStart(12, '0')}00000000000000`;
  assert.ok(id.slice(0, 16) < runtimeOwn.slice(0, 16));
  assert.throws(() => taskMessageId('', T0), TypeError);
  assert.throws(() => taskMessageId('x', -1), RangeError);
});

test("turns cut short: the session's current one until it runs again, every one in its history, a finished task no longer unfinished; malformed lines skipped", (t) => {
  const dir = tempDir(t);
  const a = openTaskLedger({ dir, log: silentLogger, now: () => T0 });
  a.accept(task('t1'));
  a.confirm('t1');
  a.accept(task('t2'));
  a.confirm('t2');
  assert.deepEqual(
    a.unfinished().map((r) => r.taskId),
    ['t1', 't2'],
  );
  a.finish('t2');
  const cut = { sessionId: 'ses_1', messageId: task('t1').messageId, replyId: 'msg_r', taskId: 't1', at: T0, reason: 'runtime-restarted' as const, detail: 'killed' };
  a.interrupt(cut);
  assert.deepEqual(a.unfinished(), [], 'an interrupted task is over');
  a.close();
  appendFileSync(join(dir, '2030-01-10.jsonl'), '{"op":"interrupt","sessionId":"ses_2","messageId":"m","at":1,"reason":"it broke"}\n');

  const b = openTaskLedger({ dir, log: silentLogger, now: () => T0 });
  assert.deepEqual(b.interruption('ses_1'), cut);
  assert.equal(b.interruption('ses_2'), undefined, 'a reason that is not a code is not read');
  assert.equal(b.get('t2')?.finishedAt, T0);
  b.resume('ses_1');
  b.close();
  const c = openTaskLedger({ dir, log: silentLogger, now: () => T0 });
  assert.equal(c.interruption('ses_1'), undefined);
  assert.deepEqual(c.interruptedTurns('ses_1'), [cut], 'history outlives the resume');
  c.close();
  const later = openTaskLedger({ dir, log: silentLogger, now: () => T0 + TASK_RETENTION_MS + DAY });
  assert.deepEqual(later.interruptedTurns('ses_1'), [], 'and ends with the retention');
  later.close();
});
