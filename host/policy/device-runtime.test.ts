import { test } from 'node:test';
import assert from 'node:assert/strict';
import { silentLogger } from '../log.ts';
import { RelayError } from '../../shared/protocol/errors.ts';
import { deviceRuntime, type PolicyRuntime } from './device-runtime.ts';
import type { PermissionRule } from './rules.ts';
import { isRuntimeId } from './runtime-ids.ts';

const RULES: Record<string, PermissionRule[]> = {
  '/a': [{ permission: 'bash', pattern: '*', action: 'ask' }],
  '/b': [{ permission: 'bash', pattern: '*', action: 'allow' }],
};

function fakeRuntime(sessions: Record<string, { directory: string; permission?: PermissionRule[] }>) {
  const calls: unknown[][] = [];
  const runtime: PolicyRuntime = {
    listSessions: async () => (calls.push(['listSessions']), { sessions: [], unavailable: [] }),
    messages: async (id, limit, before) => (calls.push(before === undefined ? ['messages', id] : ['messages', id, limit, before]), []),
    sessionStatus: async (id) => (calls.push(['sessionStatus', id]), { type: 'idle' }),
    createSession: async (title, directory, permission, metadata) => {
      calls.push(['createSession', title, directory, permission, ...(metadata ? [metadata] : [])]);
      return { id: 'ses_new', directory: directory! };
    },
    sessionsCreatedSince: async (since, directory) => (calls.push(['sessionsCreatedSince', since, directory]), []),
    getSession: async (id) => {
      calls.push(['getSession', id]);
      const s = sessions[id];
      if (!s) throw new Error('get session failed: 404');
      return { id, ...s };
    },
    addSessionPermission: async (id, permission) => {
      calls.push(['addSessionPermission', id, permission]);
      sessions[id]!.permission = [...(sessions[id]!.permission ?? []), ...permission];
    },
    prompt: async (id, text) => void calls.push(['prompt', id, text]),
    command: async (id, command, args) => void calls.push(['command', id, command, args]),
    choices: async (directory) => (calls.push(['choices', directory]), { agents: [], commands: [], providers: {} }),
    providers: async (directory) => (calls.push(['providers', directory]), {}),
    vcs: async (directory) => (calls.push(['vcs', directory]), { info: {}, files: [] }),
    abort: async (id) => (calls.push(['abort', id]), true),
    revert: async (id, messageId, partId) => (calls.push(['revert', id, messageId, partId]), {}),
    unrevert: async (id) => (calls.push(['unrevert', id]), {}),
    renameSession: async (id, title) => (calls.push(['renameSession', id, title]), {}),
    forkSession: async (id, messageId) => (calls.push(['forkSession', id, messageId]), {}),
    deleteSession: async (id) => (calls.push(['deleteSession', id]), true),
    compact: async (id, model) => (calls.push(['compact', id, model]), true),
    listPermissions: async () => ({ requests: [], unavailable: [], unseen: [] }),
    replyPermission: async (id, reply, message) => void calls.push(['replyPermission', id, reply, message]),
    listQuestions: async () => ({ requests: [], unavailable: [], unseen: [] }),
    replyQuestion: async (id, answers) => void calls.push(['replyQuestion', id, answers]),
    rejectQuestion: async (id) => void calls.push(['rejectQuestion', id]),
    onEvent: () => () => {},
  };
  return { runtime, calls };
}

const M = { messageId: 'msg_1' };
const device = (runtime: PolicyRuntime) => deviceRuntime({ runtime, rulesFor: (d) => RULES[d]!, defaultDirectory: '/a', log: silentLogger });

test("a session a device creates carries its workspace's rules, and is not patched again", async () => {
  const { runtime, calls } = fakeRuntime({});
  const r = device(runtime);
  await r.createSession('T', '/b');
  await r.createSession(undefined, undefined, { relayKey: 'k' });
  await r.prompt('ses_new', 'hi', M);
  await r.sessionsCreatedSince(5, '/b');
  assert.deepEqual(calls, [
    ['createSession', 'T', '/b', RULES['/b']],
    ['createSession', undefined, undefined, RULES['/a'], { relayKey: 'k' }],
    ['prompt', 'ses_new', 'hi'],
    ['sessionsCreatedSince', 5, '/b'],
  ]);
});

test('a session made elsewhere gets the rules appended before its first prompt, once', async () => {
  const other = { permission: 'todowrite', pattern: '*', action: 'deny' as const };
  const { runtime, calls } = fakeRuntime({ ses_old: { directory: '/a', permission: [other] }, ses_ok: { directory: '/b', permission: RULES['/b'] } });
  const r = device(runtime);
  await r.prompt('ses_old', 'one', M);
  await r.prompt('ses_old', 'two', M);
  await r.prompt('ses_ok', 'three', M);
  assert.deepEqual(calls, [
    ['getSession', 'ses_old'],
    ['addSessionPermission', 'ses_old', RULES['/a']],
    ['prompt', 'ses_old', 'one'],
    ['prompt', 'ses_old', 'two'],
    ['getSession', 'ses_ok'],
    ['prompt', 'ses_ok', 'three'],
  ]);
  await assert.rejects(r.prompt('ses_missing', 'x', M), /404/);
  assert.equal(calls.filter((c) => c[0] === 'prompt' && c[1] === 'ses_missing').length, 0, 'no prompt without the rules');
});

test("a command, like a prompt, runs only in a session carrying the host's rules", async () => {
  const { runtime, calls } = fakeRuntime({ ses_old: { directory: '/a' } });
  const r = device(runtime);
  await r.command('ses_old', 'greet', 'Ada', M);
  assert.deepEqual(calls, [
    ['getSession', 'ses_old'],
    ['addSessionPermission', 'ses_old', RULES['/a']],
    ['command', 'ses_old', 'greet', 'Ada'],
  ]);
  await assert.rejects(r.command('../x', 'greet', '', M), /session/);
});

test('ids that would change a runtime URL never reach the runtime', async () => {
  const { runtime, calls } = fakeRuntime({});
  const r = device(runtime);
  for (const id of ['..', '.', '../shell', 'x/shell', 'ses_1?x=1', 'ses_1#', 'a b', '%2e%2e', '', 'x'.repeat(129)]) {
    assert.equal(isRuntimeId(id), false, id);
    const attempts = [
      () => r.messages(id),
      () => r.messages('ses_1', 2, id),
      () => r.prompt(id, 't', M),
      () => r.abort(id),
      () => r.replyPermission(id, 'once'),
      () => r.revert(id, 'msg_1'),
      () => r.revert('ses_1', id),
      () => r.revert('ses_1', 'msg_1', id),
      () => r.unrevert(id),
      () => r.renameSession(id, 't'),
      () => r.forkSession(id),
      () => r.forkSession('ses_1', id),
      () => r.deleteSession(id),
      () => r.compact(id, { providerID: 'p', modelID: 'm' }),
    ];
    for (const call of attempts) {
      await assert.rejects(call(), (err: unknown) => err instanceof RelayError && err.code === 'request.unknown');
    }
  }
  assert.deepEqual(calls, []);
  assert.equal(isRuntimeId('ses_0aB9zZ-x'), true);
  await r.messages('ses_1');
  await r.messages('ses_1', 2, 'msg_1');
  await r.replyPermission('per_1', 'reject', 'no');
  assert.deepEqual(calls, [
    ['messages', 'ses_1'],
    ['messages', 'ses_1', 2, 'msg_1'],
    ['replyPermission', 'per_1', 'reject', 'no'],
  ]);
});
