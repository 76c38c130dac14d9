import { test } from 'node:test';
import assert from 'node:assert/strict';
import { silentLogger } from '../log.ts';
import type { PermissionAskedEvent, PermissionExpiredEvent } from '../../shared/protocol/runtime-events.ts';
import { RelayError } from '../../shared/protocol/errors.ts';
import { createPermissionGrants, wildcardMatch, type PermissionNotice, type PermissionRuntime } from './permissions.ts';

type Listed = Awaited<ReturnType<PermissionRuntime['listPermissions']>>['requests'][number];

/**
 * A runtime whose waiting requests are `listed`; a reply takes a request off the list, as OpenCode
 * does. Ids in `unseen` are of a workspace that is not answering: the list names them, unlisted.
 */
function runtime(listed: Listed[] = [], unseen: string[] = []) {
  const replies: string[] = [];
  let failReply = false;
  const rt: PermissionRuntime = {
    listPermissions: async () => ({
      requests: [...listed],
      unavailable: unseen.length ? [{ workspace: '/w/broken', reason: '/w/broken/opencode.json is not valid JSON' }] : [],
      unseen: [...unseen],
    }),
    replyPermission: async (id, reply) => {
      if (failReply) throw new Error('Permission request not found');
      replies.push(`${id}:${reply}`);
      const i = listed.findIndex((p) => p.id === id);
      if (i >= 0) listed.splice(i, 1);
    },
  };
  return { rt, replies, listed, unseen, failReplies: () => (failReply = true) };
}

const listedAs = (e: PermissionAskedEvent): Listed => ({
  id: e.requestId,
  sessionID: e.sessionId,
  permission: e.permission,
  patterns: e.patterns,
  always: e.always,
  metadata: e.metadata,
});

const asked = (requestId: string, sessionId: string, patterns: string[], always: string[] = []): PermissionAskedEvent => ({
  type: 'permission.asked',
  requestId,
  sessionId,
  permission: 'bash',
  patterns,
  always,
  metadata: {},
});

test('"session" answers once and grants the suggested patterns for that session only', async () => {
  const { rt, replies, listed } = runtime();
  const g = createPermissionGrants(rt, silentLogger);
  listed.push(listedAs(asked('p1', 's1', ['git log -5'], ['git log *'])));
  assert.equal(g.observe(asked('p1', 's1', ['git log -5'], ['git log *'])), true, 'shown to devices');
  await g.reply('p1', 'session');
  assert.deepEqual(replies, ['p1:once']);
  assert.deepEqual(g.granted('s1'), { bash: ['git log *'] });
  assert.equal(g.observe(asked('p2', 's1', ['git log --oneline'])), false, 'covered: answered by the host, not shown');
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(replies, ['p1:once', 'p2:once']);
  assert.equal(g.observe(asked('p3', 's2', ['git log'])), true, 'another session is not covered');
  assert.equal(g.observe(asked('p4', 's1', ['rm -rf /'])), true, 'another command is not covered');
  assert.equal(g.observe({ ...asked('p5', 's1', ['git log']), permission: 'edit' }), true, 'another permission kind is not covered');
  g.observe({ type: 'session.deleted', sessionId: 's1' });
  assert.deepEqual(g.granted('s1'), {});
});

test('once and reject pass through; a request the runtime does not list is refused, never reported as answered', async () => {
  const { rt, replies } = runtime([
    { id: 'x', sessionID: 's9', permission: 'bash', patterns: ['ls'], always: [] },
    { id: 'y', sessionID: 's9', permission: 'bash', patterns: ['rm'], always: [] },
    { id: 'old', sessionID: 's9', permission: 'edit', patterns: ['a.txt'], always: [] },
  ]);
  const g = createPermissionGrants(rt, silentLogger);
  await g.reply('x', 'once');
  await g.reply('y', 'reject');
  await g.reply('old', 'session'); // asked before this host listened: the runtime's list has it
  assert.deepEqual(replies, ['x:once', 'y:reject', 'old:once']);
  assert.deepEqual(g.granted('s9'), { edit: ['a.txt'] });
  await assert.rejects(g.reply('nope', 'session'), (e: unknown) => e instanceof RelayError && e.code === 'request.unknown' && /no permission request nope/.test(e.message));
  await assert.rejects(g.reply('x', 'once'), (e: unknown) => e instanceof RelayError && e.code === 'request.unknown' && /answered already/.test(e.message));
  assert.equal(replies.length, 3);
});

test('a runtime restart: pending requests it lost expire with the reason, and answering them is refused', async () => {
  const { rt, replies, listed } = runtime();
  const notices: PermissionNotice[] = [];
  const g = createPermissionGrants(rt, silentLogger, (n) => notices.push(n));
  const lost = asked('p1', 's1', ['ls']);
  const kept = asked('p2', 's1', ['pwd']);
  g.observe(lost);
  g.observe(kept);
  listed.push(listedAs(kept));
  const fresh = asked('p3', 's2', ['whoami']);
  listed.push(listedAs(fresh)); // asked while the host was not listening
  const before = Date.now();
  await g.sync('runtime-restarted', 'killed by SIGKILL');
  const [expired, announced] = notices as [PermissionExpiredEvent, PermissionNotice];
  assert.deepEqual({ ...expired, at: 0 }, { type: 'permission.expired', requestId: 'p1', sessionId: 's1', reason: 'runtime-restarted', detail: 'killed by SIGKILL', at: 0 });
  assert.ok(expired.at >= before && expired.at <= Date.now(), 'when it expired');
  assert.deepEqual(announced, fresh);
  assert.deepEqual(
    g.pending().map((p) => p.requestId),
    ['p2', 'p3'],
  );
  await assert.rejects(
    g.reply('p1', 'once'),
    (e: unknown) =>
      e instanceof RelayError &&
      e.code === 'permission.expired' &&
      /not delivered/.test(e.message) &&
      e.expiry?.reason === 'runtime-restarted' &&
      e.expiry.detail === 'killed by SIGKILL' &&
      e.expiry.at === expired.at,
  );
  assert.deepEqual(replies, []);
  await g.sync('withdrawn');
  assert.equal(notices.length, 2, 'nothing new: nothing announced twice');
});

test("a request the runtime loses between the host's record and the answer expires instead of being reported as answered", async () => {
  const { rt, replies, listed, failReplies } = runtime();
  const notices: PermissionNotice[] = [];
  const g = createPermissionGrants(rt, silentLogger, (n) => notices.push(n));
  g.observe(asked('p1', 's1', ['ls']));
  await assert.rejects(g.reply('p1', 'once'), (e: unknown) => e instanceof RelayError && e.code === 'permission.expired' && e.expiry?.reason === 'withdrawn');
  assert.deepEqual(
    notices.map((n) => [n.type, n.requestId, n.type === 'permission.expired' && n.reason]),
    [['permission.expired', 'p1', 'withdrawn']],
  );
  // Listed when asked, gone by the time the answer arrives (the runtime restarted in between).
  g.observe(asked('p2', 's1', ['pwd']));
  listed.push(listedAs(asked('p2', 's1', ['pwd'])));
  failReplies();
  const reply = g.reply('p2', 'once');
  listed.length = 0;
  await assert.rejects(reply, (e: unknown) => e instanceof RelayError && e.code === 'permission.expired');
  assert.deepEqual(replies, []);
});

test('a request whose workspace is not answering is neither expired nor reported answered; the others are answered', async () => {
  const { rt, replies, listed, unseen, failReplies } = runtime();
  const notices: PermissionNotice[] = [];
  const g = createPermissionGrants(rt, silentLogger, (n) => notices.push(n));
  const healthy = asked('p1', 's1', ['ls']);
  const hidden = asked('p2', 's2', ['pwd']);
  g.observe(healthy);
  g.observe(hidden);
  listed.push(listedAs(healthy));
  unseen.push('p2');

  await g.reply('p1', 'once');
  assert.deepEqual(replies, ['p1:once'], "a healthy workspace's request is answered beside a broken one");
  const isUnseen = (e: unknown) =>
    e instanceof RelayError && e.code === 'runtime.error' && /p2/.test(e.message) && /not valid JSON/.test(e.message) && /still waits/.test(e.message);
  await assert.rejects(g.reply('p2', 'once'), isUnseen);
  await g.sync('runtime-restarted');
  assert.deepEqual(notices, [], 'nothing expired');
  assert.deepEqual(
    g.pending().map((p) => p.requestId),
    ['p2'],
  );
  assert.deepEqual(replies, ['p1:once']);

  // The reply fails and, looking again, its workspace does not answer: the runtime's error, not expired.
  unseen.length = 0;
  listed.push(listedAs(hidden));
  failReplies();
  const reply = g.reply('p2', 'once');
  listed.length = 0;
  unseen.push('p2');
  await assert.rejects(reply, /Permission request not found/);
  assert.deepEqual(notices, []);
  assert.deepEqual(
    g.pending().map((p) => p.requestId),
    ['p2'],
    'still waiting, and may be answered again',
  );
});

test('sync never expires a request asked after it looked', async () => {
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const notices: PermissionNotice[] = [];
  const g = createPermissionGrants(
    { listPermissions: async () => (await gate, { requests: [], unavailable: [], unseen: [] }), replyPermission: async () => {} },
    silentLogger,
    (n) => notices.push(n),
  );
  const syncing = g.sync('runtime-restarted');
  g.observe(asked('late', 's1', ['ls']));
  release();
  await syncing;
  assert.deepEqual(notices, []);
  assert.deepEqual(
    g.pending().map((p) => p.requestId),
    ['late'],
  );
});

test('wildcardMatch follows OpenCode: * and ?, and "cmd *" also matches "cmd"', () => {
  assert.equal(wildcardMatch('git log *', 'git log -5'), true);
  assert.equal(wildcardMatch('git log *', 'git log'), true);
  assert.equal(wildcardMatch('git log *', 'git status'), false);
  assert.equal(wildcardMatch('a?c', 'abc'), true);
  assert.equal(wildcardMatch('a.c', 'abc'), false, 'regex characters are literal');
  assert.equal(wildcardMatch('echo *', 'echo hi; rm -rf /'), true, 'as in OpenCode, a grant is as wide as its pattern');
});
