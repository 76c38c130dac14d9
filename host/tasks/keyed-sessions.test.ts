import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '../log.ts';
import { openTaskLedger, type TaskLedger } from './ledger.ts';
import { createKeyedSessions, type SessionRuntime } from './keyed-sessions.ts';

type TestContext = { after(fn: () => void): void };

function ledgerDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'owr-keyed-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return join(dir, 'tasks');
}

/** A runtime that makes numbered sessions; `hold` keeps the next creation waiting until released. */
function fakeRuntime() {
  const created: Array<{ title?: string; directory?: string }> = [];
  const titles = new Map<string, string>();
  let release: (() => void) | undefined;
  let held: Promise<void> | undefined;
  const runtime: SessionRuntime = {
    async createSession(title, directory) {
      created.push({ title, directory });
      const id = `ses_${created.length}`;
      titles.set(id, title ?? 'New session');
      if (held) await held;
      return { id, title: titles.get(id), directory };
    },
    async getSession(sessionId) {
      const title = titles.get(sessionId);
      if (!title) throw new Error(`get session failed: ${sessionId} not found`);
      return { id: sessionId, title, directory: '/w' };
    },
  };
  return {
    runtime, created, titles,
    hold() {
      held = new Promise((r) => (release = r));
    },
    release() {
      held = undefined;
      release?.();
    },
  };
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
  for (const [deviceId, key] of [['dev_a', 'k1'], ['dev_a', 'k2'], ['dev_b', 'k1']] as const) ids.push((await keyed.create({ deviceId, key })).sessionId);
  assert.deepEqual(ids, ['ses_1', 'ses_2', 'ses_3']);
});

test('a failed creation is not recorded, so the resend creates; a session that is gone is an error, not a second session', async (t) => {
  const rt = fakeRuntime();
  const keyed = createKeyedSessions({ ledger: open(t).ledger, runtime: rt.runtime, log: silentLogger });
  const failing = { ...rt.runtime, createSession: async () => Promise.reject(new Error('create session failed: ECONNREFUSED')) };
  await assert.rejects(createKeyedSessions({ ledger: open(t).ledger, runtime: failing, log: silentLogger }).create({ deviceId: 'd', key: 'k' }), /ECONNREFUSED/);
  await assert.rejects(createKeyedSessions({ ledger: open(t).ledger, runtime: { ...rt.runtime, createSession: async () => ({ id: '../x' }) }, log: silentLogger }).create({ deviceId: 'd', key: 'k' }), /without a usable session id/);

  await keyed.create({ deviceId: 'd', key: 'k' });
  rt.titles.delete('ses_1');
  await assert.rejects(keyed.create({ deviceId: 'd', key: 'k' }), /not found/);
  assert.equal(rt.created.length, 1);
});

test('a record that cannot be written still answers the session it made', async (t) => {
  const rt = fakeRuntime();
  const { ledger } = open(t);
  const broken = { session: ledger.session, recordSession: () => { throw new Error('ENOSPC'); } };
  const made = await createKeyedSessions({ ledger: broken, runtime: rt.runtime, log: silentLogger }).create({ deviceId: 'd', key: 'k' });
  assert.equal(made.sessionId, 'ses_1');
});
