import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '../log.ts';
import { openTaskLedger, type TaskLedger } from './ledger.ts';
import { RelayError } from '../../shared/protocol/errors.ts';
import { createKeyedSessions, relayKeyOf, type SessionRuntime } from './keyed-sessions.ts';

type TestContext = { after(fn: () => void): void };

/** Now, as far as the ledger's retention is concerned. */
const T0 = Date.now();

function ledgerDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'owr-keyed-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return join(dir, 'tasks');
}

/**
 * A runtime that makes numbered sessions at the clock's time; `hold` keeps the next creation waiting
 * until released; a workspace in `unavailable` cannot be listed.
 */
function fakeRuntime(clock = () => T0) {
  const created: Array<{ title?: string; directory?: string; metadata?: Record<string, unknown> }> = [];
  const titles = new Map<string, string>();
  const sessions: Array<{ id: string; directory?: string; metadata?: Record<string, unknown>; time: { created: number } }> = [];
  const lookups: Array<{ since: number; directory?: string }> = [];
  const unavailable = new Set<string | undefined>();
  let release: (() => void) | undefined;
  let held: Promise<void> | undefined;
  const runtime: SessionRuntime = {
    async createSession(title, directory, metadata) {
      created.push({ title, directory, metadata });
      const id = `ses_${created.length}`;
      titles.set(id, title ?? 'New session');
      sessions.push({ id, directory, metadata, time: { created: clock() } });
      if (held) await held;
      return { id, title: titles.get(id), directory };
    },
    async getSession(sessionId) {
      const title = titles.get(sessionId);
      if (!title) throw new Error(`get session failed: ${sessionId} not found`);
      return { id: sessionId, title, directory: '/w' };
    },
    async sessionsCreatedSince(since, directory) {
      lookups.push({ since, directory });
      if (unavailable.has(directory)) throw new Error(`list sessions failed: ${directory}/opencode.json is not valid JSON`);
      return sessions.filter((s) => s.directory === directory && s.time.created >= since);
    },
  };
  return {
    runtime,
    created,
    titles,
    sessions,
    lookups,
    unavailable,
    hold() {
      held = new Promise((r) => (release = r));
    },
    release() {
      held = undefined;
      release?.();
    },
  };
}

/** The ledger's calls keyed sessions make, to replace one of them. */
function ledgerCalls(ledger: TaskLedger) {
  const { session, recordSession, sessionIntent, intendSession } = ledger;
  return { session, recordSession, sessionIntent, intendSession };
}

function open(t: TestContext, dir = ledgerDir(t)): { dir: string; ledger: TaskLedger } {
  const ledger = openTaskLedger({ dir, log: silentLogger });
  t.after(() => ledger.close());
  return { dir, ledger };
}

test('the same key twice makes one session; the second answer is the session as the runtime has it now', async (t) => {
  const rt = fakeRuntime();
  const keyed = createKeyedSessions({ ledger: open(t).ledger, runtime: rt.runtime, log: silentLogger });
  const first = await keyed.create({ deviceId: 'dev_a', key: 'tsk_1', directory: '/w' });
  assert.deepEqual(first, { session: { id: 'ses_1', title: 'New session', directory: '/w' }, sessionId: 'ses_1', repeated: false });
  rt.titles.set('ses_1', 'Named by its first prompt');
  const again = await keyed.create({ deviceId: 'dev_a', key: 'tsk_1', directory: '/w', title: 'ignored' });
  assert.deepEqual(again, { session: { id: 'ses_1', title: 'Named by its first prompt', directory: '/w' }, sessionId: 'ses_1', repeated: true });
  assert.equal(rt.created.length, 1);
});

test('requests with one key that arrive together share one creation', async (t) => {
  const rt = fakeRuntime();
  const keyed = createKeyedSessions({ ledger: open(t).ledger, runtime: rt.runtime, log: silentLogger });
  rt.hold();
  const both = Promise.all([keyed.create({ deviceId: 'dev_a', key: 'k' }), keyed.create({ deviceId: 'dev_a', key: 'k' })]);
  await new Promise((r) => setImmediate(r));
  rt.release();
  const [a, b] = await both;
  assert.equal(rt.created.length, 1);
  assert.equal(a.sessionId, 'ses_1');
  assert.equal(b.sessionId, 'ses_1');
});

test('after a host restart (the ledger reopened) the key still answers its session', async (t) => {
  const rt = fakeRuntime();
  const first = open(t);
  const made = await createKeyedSessions({ ledger: first.ledger, runtime: rt.runtime, log: silentLogger }).create({ deviceId: 'dev_a', key: 'k' });
  first.ledger.close();
  const keyed = createKeyedSessions({ ledger: open(t, first.dir).ledger, runtime: rt.runtime, log: silentLogger });
  const again = await keyed.create({ deviceId: 'dev_a', key: 'k' });
  assert.deepEqual([again.sessionId, again.repeated], [made.sessionId, true]);
  assert.equal(rt.created.length, 1);
});

test('different keys, and one key from different devices, make different sessions', async (t) => {
  const rt = fakeRuntime();
  const keyed = createKeyedSessions({ ledger: open(t).ledger, runtime: rt.runtime, log: silentLogger });
  const ids = [];
  for (const [deviceId, key] of [
    ['dev_a', 'k1'],
    ['dev_a', 'k2'],
    ['dev_b', 'k1'],
  ] as const)
    ids.push((await keyed.create({ deviceId, key })).sessionId);
  assert.deepEqual(ids, ['ses_1', 'ses_2', 'ses_3']);
});

test('a failed creation is not recorded, so the resend creates; a session that is gone is an error, not a second session', async (t) => {
  const rt = fakeRuntime();
  const keyed = createKeyedSessions({ ledger: open(t).ledger, runtime: rt.runtime, log: silentLogger });
  const failing = { ...rt.runtime, createSession: async () => Promise.reject(new Error('create session failed: ECONNREFUSED')) };
  await assert.rejects(createKeyedSessions({ ledger: open(t).ledger, runtime: failing, log: silentLogger }).create({ deviceId: 'd', key: 'k' }), /ECONNREFUSED/);
  await assert.rejects(
    createKeyedSessions({ ledger: open(t).ledger, runtime: { ...rt.runtime, createSession: async () => ({ id: '../x' }) }, log: silentLogger }).create({ deviceId: 'd', key: 'k' }),
    /without a usable session id/,
  );

  await keyed.create({ deviceId: 'd', key: 'k' });
  rt.titles.delete('ses_1');
  await assert.rejects(keyed.create({ deviceId: 'd', key: 'k' }), /not found/);
  assert.equal(rt.created.length, 1);
});

test('a record that cannot be written still answers the session it made, and the resend finds it', async (t) => {
  const rt = fakeRuntime();
  const { ledger } = open(t);
  const broken = {
    ...ledgerCalls(ledger),
    recordSession: () => {
      throw new Error('ENOSPC');
    },
  };
  const made = await createKeyedSessions({ ledger: broken, runtime: rt.runtime, log: silentLogger, now: () => T0 }).create({ deviceId: 'd', key: 'k', directory: '/w' });
  assert.equal(made.sessionId, 'ses_1');
  const again = await createKeyedSessions({ ledger, runtime: rt.runtime, log: silentLogger, now: () => T0 + 4000 }).create({ deviceId: 'd', key: 'k', directory: '/w' });
  assert.deepEqual([again.sessionId, again.repeated, rt.created.length], ['ses_1', true, 1]);
});

test('every session is made with its key in its metadata, after its intent reached the ledger', async (t) => {
  const rt = fakeRuntime();
  const { ledger } = open(t);
  const order: string[] = [];
  const watched = {
    ...ledgerCalls(ledger),
    intendSession: (i: Parameters<TaskLedger['intendSession']>[0]) => (order.push('intent'), ledger.intendSession(i)),
  };
  const runtime = { ...rt.runtime, createSession: (...a: Parameters<SessionRuntime['createSession']>) => (order.push('create'), rt.runtime.createSession(...a)) };
  await createKeyedSessions({ ledger: watched, runtime, log: silentLogger, now: () => T0 }).create({ deviceId: 'dev_a', key: 'k', directory: '/w' });
  assert.deepEqual(order, ['intent', 'create']);
  assert.deepEqual(rt.created, [{ title: undefined, directory: '/w', metadata: { relayKey: relayKeyOf('dev_a', 'k') } }]);
  assert.notEqual(relayKeyOf('dev_a', 'k'), relayKeyOf('dev_b', 'k'), 'keys are per device');
  assert.equal(ledger.sessionIntent('dev_a', 'k'), undefined, 'the record settles the intent');
});

test("a host that died between creating and recording: the resend answers the session the runtime has, in the intent's workspace", async (t) => {
  const rt = fakeRuntime();
  const first = open(t);
  // As a crash leaves it: the intent on disk, the session made with its key, no record.
  first.ledger.intendSession({ deviceId: 'dev_a', key: 'k', directory: '/w2', at: T0 });
  await rt.runtime.createSession(undefined, '/w2', { relayKey: relayKeyOf('dev_b', 'k') });
  await rt.runtime.createSession(undefined, '/w2', { relayKey: relayKeyOf('dev_a', 'k') });
  first.ledger.close();

  const { ledger } = open(t, first.dir);
  assert.deepEqual(ledger.sessionIntent('dev_a', 'k'), { deviceId: 'dev_a', key: 'k', directory: '/w2', at: T0 });
  const keyed = createKeyedSessions({ ledger, runtime: rt.runtime, log: silentLogger, now: () => T0 + 4000 });
  const again = await keyed.create({ deviceId: 'dev_a', key: 'k', directory: '/w' });
  assert.deepEqual([again.sessionId, again.repeated], ['ses_2', true]);
  assert.equal((again.session as { id: string }).id, 'ses_2');
  assert.equal(rt.created.length, 2, 'none made');
  assert.equal(rt.lookups.length, 1);
  assert.equal(rt.lookups[0]!.directory, '/w2');
  assert.ok(rt.lookups[0]!.since <= T0);

  assert.equal((await keyed.create({ deviceId: 'dev_a', key: 'k' })).sessionId, 'ses_2');
  assert.equal(rt.lookups.length, 1, 'recorded: answered without looking again');
  assert.equal(ledger.session('dev_a', 'k')?.sessionId, 'ses_2');
});

test('a host that died before the runtime made the session: the resend makes it, once', async (t) => {
  const rt = fakeRuntime();
  const { ledger } = open(t);
  ledger.intendSession({ deviceId: 'dev_a', key: 'k', directory: '/w', at: T0 });
  await rt.runtime.createSession(undefined, '/w'); // another session of the workspace, without the key
  const keyed = createKeyedSessions({ ledger, runtime: rt.runtime, log: silentLogger, now: () => T0 + 4000 });
  const made = await keyed.create({ deviceId: 'dev_a', key: 'k', directory: '/w' });
  assert.deepEqual([made.sessionId, made.repeated], ['ses_2', false]);
  assert.deepEqual(rt.created[1]!.metadata, { relayKey: relayKeyOf('dev_a', 'k') });
  assert.equal((await keyed.create({ deviceId: 'dev_a', key: 'k', directory: '/w' })).sessionId, 'ses_2');
  assert.equal(rt.created.length, 2);
});

test('a workspace that cannot be asked is a retryable error, not a second session', async (t) => {
  const rt = fakeRuntime();
  const { ledger } = open(t);
  ledger.intendSession({ deviceId: 'dev_a', key: 'k', directory: '/w2', at: T0 });
  await rt.runtime.createSession(undefined, '/w2', { relayKey: relayKeyOf('dev_a', 'k') });
  rt.unavailable.add('/w2');
  const keyed = createKeyedSessions({ ledger, runtime: rt.runtime, log: silentLogger, now: () => T0 + 4000 });
  const err: unknown = await keyed.create({ deviceId: 'dev_a', key: 'k', directory: '/w' }).then(
    () => undefined,
    (e: unknown) => e,
  );
  assert.ok(err instanceof RelayError, 'a RelayError');
  assert.equal(err.code, 'runtime.not-ready');
  assert.match(err.message, /\/w2.*not valid JSON.*again/);
  assert.equal(rt.created.length, 1);
  assert.deepEqual(ledger.sessionIntent('dev_a', 'k')?.at, T0, 'the intent stands');

  rt.unavailable.delete('/w2');
  assert.deepEqual((await keyed.create({ deviceId: 'dev_a', key: 'k', directory: '/w' })).sessionId, 'ses_1');
  assert.equal(rt.created.length, 1);
});

test('an intent that cannot be recorded makes no session', async (t) => {
  const rt = fakeRuntime();
  const { ledger } = open(t);
  const full = {
    ...ledgerCalls(ledger),
    intendSession: () => {
      throw new Error('ENOSPC');
    },
  };
  await assert.rejects(createKeyedSessions({ ledger: full, runtime: rt.runtime, log: silentLogger }).create({ deviceId: 'd', key: 'k' }), /not made.*ENOSPC/);
  assert.equal(rt.created.length, 0);
});
