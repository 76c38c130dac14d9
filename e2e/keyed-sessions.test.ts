/**
 * Exactly-once keyed sessions against the REAL OpenCode runtime: a host that died between the
 * runtime making a keyed session and recording it (played by a ledger holding only the intent)
 * answers the resend with that session, found by the key in its metadata, also after the
 * runtime itself was restarted.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deviceRuntime } from '../host/policy/device-runtime.ts';
import type { RuntimeState } from '../host/runtime/supervisor.ts';
import { openTaskLedger, type TaskLedger } from '../host/tasks/ledger.ts';
import { createKeyedSessions, relayKeyOf, type KeyedSessions } from '../host/tasks/keyed-sessions.ts';
import { startRuntimeFixture, testLogger, type RuntimeFixture } from './fixtures/runtime.ts';

const TEST = { timeout: 120_000 };

let rt: RuntimeFixture;
let root: string;

before(async () => {
  rt = await startRuntimeFixture({ extraWorkspaces: 1 });
  // Each workspace's instance is made on its first request; on a loaded machine that takes long
  // enough that a test's first call would time out, so start once both are up.
  await rt.bridge.subscribed();
  root = mkdtempSync(join(tmpdir(), 'relay-keyed-'));
});

after(async () => {
  await rt?.stop();
  if (root) rmSync(root, { recursive: true, force: true });
});

let ledgers = 0;
/** Keyed sessions over a ledger in a directory of its own, holding `lines` (whole day files) if given. */
function keyedSessions(lines?: string): { keyed: KeyedSessions; ledger: TaskLedger; dir: string } {
  const dir = join(root, `tasks-${++ledgers}`);
  if (lines !== undefined) {
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, `${new Date().toISOString().slice(0, 10)}.jsonl`), lines, { mode: 0o600 });
  }
  const log = testLogger();
  const ledger = openTaskLedger({ dir, log });
  const runtime = deviceRuntime({ runtime: rt.bridge, rulesFor: () => [], defaultDirectory: rt.workspace, log });
  return { keyed: createKeyedSessions({ ledger, runtime, log }), ledger, dir };
}

/** The ledger's lines as a host killed right after the runtime made the session leaves them: the intent alone. */
function intentOnly(dir: string): string {
  const lines = readdirSync(dir)
    .sort()
    .flatMap((name) => readFileSync(join(dir, name), 'utf8').split('\n').filter(Boolean));
  const intents = lines.filter((l) => (JSON.parse(l) as { op: string }).op === 'session-intent');
  assert.equal(intents.length, 1, `one intent in ${lines.join(' | ')}`);
  assert.ok(
    lines.some((l) => (JSON.parse(l) as { op: string }).op === 'session'),
    'the first run recorded its session',
  );
  return `${intents[0]!}\n`;
}

const sessionIds = async () => (await rt.bridge.listSessions()).sessions.map((s) => s.id).sort();

test('a resend after a crash between creating and recording answers the same session, also after a runtime restart', TEST, async (t) => {
  const second = rt.workspaces[1]!;
  const first = keyedSessions();
  t.after(() => first.ledger.close());
  const made = await first.keyed.create({ deviceId: 'dev_a', key: 'tsk_e2e_1', directory: second });
  assert.equal(made.repeated, false);
  const stored = await rt.bridge.getSession(made.sessionId);
  assert.equal(stored.directory, second);
  assert.deepEqual(stored.metadata, { relayKey: relayKeyOf('dev_a', 'tsk_e2e_1') });
  first.ledger.close();
  const lost = intentOnly(first.dir);
  const before = await sessionIds();

  // Named in another workspace: the intent's workspace is where the session is looked for.
  const resent = keyedSessions(lost);
  t.after(() => resent.ledger.close());
  const again = await resent.keyed.create({ deviceId: 'dev_a', key: 'tsk_e2e_1', directory: rt.workspace });
  assert.deepEqual([again.sessionId, again.repeated], [made.sessionId, true]);
  assert.deepEqual(await sessionIds(), before, 'no session made');
  assert.equal(resent.ledger.session('dev_a', 'tsk_e2e_1')?.sessionId, made.sessionId, 'recorded now');

  const back = new Promise<RuntimeState>((resolve) => {
    const off = rt.supervisor.onState((s) => {
      if (s.status === 'ready') resolve(s);
    });
    t.after(off);
  });
  const reconnected = new Promise<void>((resolve) => {
    const off = rt.bridge.onEvent((e) => {
      if (e.type === 'runtime.reconnected') resolve();
    });
    t.after(off);
  });
  process.kill(rt.supervisor.state.pid!, 'SIGKILL');
  await back;
  await reconnected;

  const afterRestart = keyedSessions(lost);
  t.after(() => afterRestart.ledger.close());
  const third = await afterRestart.keyed.create({ deviceId: 'dev_a', key: 'tsk_e2e_1', directory: second });
  assert.deepEqual([third.sessionId, third.repeated], [made.sessionId, true]);
  assert.deepEqual(await sessionIds(), before, 'still none made');
});

test('an intent whose session the runtime never made makes it once, with the key in its metadata', TEST, async (t) => {
  const intent = JSON.stringify({ op: 'session-intent', deviceId: 'dev_b', key: 'tsk_e2e_2', directory: rt.workspace, at: Date.now() });
  const { keyed, ledger } = keyedSessions(`${intent}\n`);
  t.after(() => ledger.close());
  const before = await sessionIds();
  const made = await keyed.create({ deviceId: 'dev_b', key: 'tsk_e2e_2', directory: rt.workspace });
  assert.equal(made.repeated, false);
  assert.deepEqual((await rt.bridge.getSession(made.sessionId)).metadata, { relayKey: relayKeyOf('dev_b', 'tsk_e2e_2') });
  assert.equal((await keyed.create({ deviceId: 'dev_b', key: 'tsk_e2e_2' })).sessionId, made.sessionId);
  assert.deepEqual(await sessionIds(), [...before, made.sessionId].sort());
});
