import { test } from 'node:test';
import assert from 'node:assert/strict';
import { REQUEST_SCOPE, REQUEST_TYPES, decodeJson, encodeMessage, joinMessages, parseDeviceHello, parseHostMessage, parseRequest, parseResult, splitMessages } from './messages.ts';
import { ProtocolError } from './guard.ts';

test('a runtime message carries the providers that work, and a bad list is refused by name', () => {
  const m = parseHostMessage({ t: 'runtime', runtime: { state: 'ready', version: '1.18.33', providers: ['anthropic', 'opencode'] } });
  assert.deepEqual(m, { t: 'runtime', runtime: { state: 'ready', version: '1.18.33', error: undefined, providers: ['anthropic', 'opencode'] } });
  const without = parseHostMessage({ t: 'runtime', runtime: { state: 'starting' } });
  assert.ok(without.t === 'runtime' && !('providers' in without.runtime));
  assert.throws(
    () => parseHostMessage({ t: 'runtime', runtime: { state: 'ready', providers: 'anthropic' } }),
    (e: unknown) => e instanceof ProtocolError && /runtime\.providers/.test(e.message),
  );
  assert.throws(() => parseHostMessage({ t: 'runtime', runtime: { state: 'ready', providers: [''] } }), ProtocolError);
});

test('session and permission request ids that could not be runtime ids are refused when parsed, naming the field', () => {
  const bad = ['..', '../pty', 'ses_1/shell', '%2e%2e', 'ses_1?directory=/', ' ses_1', 'ses_1\n', 'ses.1'];
  for (const id of bad) {
    for (const [request, field] of [
      [{ t: 'session.messages', id: 'r', sessionId: id }, 'request(session.messages).sessionId'],
      [{ t: 'session.abort', id: 'r', sessionId: id }, 'request(session.abort).sessionId'],
      [{ t: 'task.submit', id: 'r', taskId: 'task-1', sessionId: id, text: 'x' }, 'request(task.submit).sessionId'],
      [{ t: 'permission.reply', id: 'r', requestId: id, reply: 'once' }, 'request(permission.reply).requestId'],
    ] as const) {
      assert.throws(
        () => parseRequest(request),
        (e: unknown) => e instanceof ProtocolError && e.message.includes(field),
        `${field} = ${JSON.stringify(id)}`,
      );
    }
  }
  assert.deepEqual(parseRequest({ t: 'session.abort', id: 'r', sessionId: 'ses_0aB9zZ-x' }), { t: 'session.abort', id: 'r', sessionId: 'ses_0aB9zZ-x' });
  // Task ids are the device's own and never reach a runtime URL.
  assert.equal((parseRequest({ t: 'task.submit', id: 'r', taskId: 'task 1.x', sessionId: 'ses_1', text: 'x' }) as { taskId: string }).taskId, 'task 1.x');
});

test('session.create takes an optional key, checked like a task id, and names it when it is bad', () => {
  const parsed = parseRequest({ t: 'session.create', id: 'r', key: 'tsk_1 x.y' });
  assert.ok(parsed.t === 'session.create');
  assert.equal(parsed.key, 'tsk_1 x.y');
  assert.equal((parseRequest({ t: 'session.create', id: 'r' }) as { key?: string }).key, undefined);
  for (const key of ['', 'k'.repeat(129), 7, true]) {
    assert.throws(
      () => parseRequest({ t: 'session.create', id: 'r', key }),
      (e: unknown) => e instanceof ProtocolError && e.message.startsWith('request(session.create).key:'),
      JSON.stringify(key),
    );
  }
});

test('every request is parsed by its registry entry: parameters kept, absent ones left out, extra ones dropped', () => {
  assert.deepEqual(parseRequest({ t: 'sessions.list', id: 'r' }), { t: 'sessions.list', id: 'r' });
  assert.deepEqual(parseRequest({ t: 'sessions.list', id: 'r', withUnavailable: true }), { t: 'sessions.list', id: 'r' }, "an older app's flag is ignored");
  assert.deepEqual(parseRequest({ t: 'session.create', id: 'r', title: 'T' }), { t: 'session.create', id: 'r', title: 'T' });
  assert.throws(
    () => parseRequest({ t: 'session.list', id: 'r' }),
    (e: unknown) => e instanceof ProtocolError && /request\.t: expected one of ping, sessions\.list/.test(e.message),
  );
  for (const t of REQUEST_TYPES) assert.ok(t === 'ping' || REQUEST_SCOPE[t] !== null, `${t} needs a scope`);
});

test("results are read by the request's own parser", () => {
  assert.deepEqual(parseResult('task.submit', { taskId: 't', sessionId: 's', messageId: 'm', acceptedAt: 1, extra: 1 }), {
    taskId: 't',
    sessionId: 's',
    messageId: 'm',
    acceptedAt: 1,
  });
  assert.deepEqual(parseResult('session.abort', { running: false }), { running: false });
  assert.throws(
    () => parseResult('task.submit', { taskId: 't' }),
    (e: unknown) => e instanceof ProtocolError && e.message.startsWith('result(task.submit).sessionId:'),
  );
  assert.throws(
    () => parseResult('session.messages', []),
    (e: unknown) => e instanceof ProtocolError && e.message.startsWith('result(session.messages):'),
    'raw runtime messages are no transcript',
  );
});

test('an event is read at the wire; one this side cannot read keeps its seq and says why', () => {
  assert.deepEqual(parseHostMessage({ t: 'event', seq: 3, event: { type: 'session.idle', sessionId: 's', extra: 1 } }), {
    t: 'event',
    seq: 3,
    event: { type: 'session.idle', sessionId: 's' },
  });
  const unknown = parseHostMessage({ t: 'event', seq: 4, event: { type: 'session.compacted', sessionId: 's' } });
  assert.ok(unknown.t === 'event' && unknown.event === undefined && /does not know/.test(unknown.skipped!));
  const bad = parseHostMessage({ t: 'event', seq: 5, event: { type: 'session.status', sessionId: 's', status: 'sleeping' } });
  assert.ok(bad.t === 'event' && bad.seq === 5 && bad.event === undefined && /session\.status\)\.status: expected one of idle, busy, retry/.test(bad.skipped!));
  assert.throws(() => parseHostMessage({ t: 'event', seq: 0, event: { type: 'session.idle', sessionId: 's' } }), ProtocolError);
});

test('a permission.expired refusal carries why and when as codes', () => {
  const m = parseHostMessage({
    t: 'result',
    id: 'r',
    ok: false,
    error: { code: 'permission.expired', message: 'gone', expiry: { reason: 'runtime-restarted', at: 5, detail: 'killed by SIGKILL' } },
  });
  assert.deepEqual(m, {
    t: 'result',
    id: 'r',
    ok: false,
    error: { code: 'permission.expired', message: 'gone', expiry: { reason: 'runtime-restarted', at: 5, detail: 'killed by SIGKILL' } },
  });
  assert.throws(
    () => parseHostMessage({ t: 'result', id: 'r', ok: false, error: { code: 'permission.expired', message: 'x', expiry: { reason: 'bored', at: 5 } } }),
    (e: unknown) => e instanceof ProtocolError && /error\.expiry\.reason/.test(e.message),
  );
});

test("a resync lists the waiting permission requests in the relay's shape", () => {
  const asked = {
    type: 'permission.asked',
    requestId: 'per_1',
    sessionId: 'ses_1',
    permission: 'bash',
    patterns: ['ls'],
    always: [],
    metadata: { command: 'ls' },
    tool: { messageId: 'msg_1', callId: 'c1' },
  };
  const m = parseHostMessage({ t: 'resync', reason: 'new', seq: 0, permissions: [asked] });
  assert.ok(m.t === 'resync');
  assert.deepEqual(m.permissions, [asked]);
  assert.throws(
    () => parseHostMessage({ t: 'resync', reason: 'new', seq: 0, permissions: [{ ...asked, tool: { messageID: 'm', callID: 'c' } }] }),
    (e: unknown) => e instanceof ProtocolError && /tool\.messageId/.test(e.message),
  );
});

test('review and management requests: ids checked like session ids, a cursor only as the host gives it', () => {
  assert.deepEqual(parseRequest({ t: 'sessions.list', id: '1', cursor: '100', search: 'fix' }), { t: 'sessions.list', id: '1', cursor: '100', search: 'fix' });
  for (const cursor of ['', 'abc', '-1', '1e3', '1'.repeat(10)]) assert.throws(() => parseRequest({ t: 'sessions.list', id: '1', cursor }), /cursor/, cursor);
  assert.throws(() => parseRequest({ t: 'session.revert', id: '1', sessionId: 'ses_1', messageId: '../x' }), /messageId/);
  assert.throws(() => parseRequest({ t: 'session.revert', id: '1', sessionId: 'ses_1' }), /messageId/);
  assert.throws(() => parseRequest({ t: 'session.fork', id: '1', sessionId: 'ses_1', messageId: 'a/b' }), /messageId/);
  assert.throws(() => parseRequest({ t: 'session.rename', id: '1', sessionId: 'ses_1', title: '' }), /title/);
  assert.throws(() => parseRequest({ t: 'file.read', id: '1', path: '' }), /path/);
  assert.deepEqual(parseRequest({ t: 'session.diff', id: '1', sessionId: 'ses_1' }), { t: 'session.diff', id: '1', sessionId: 'ses_1' });
});

test('batched frames: messages joined by a line feed split back into the same messages; a hello says batch or not', () => {
  const messages = [
    encodeMessage({ t: 'runtime', runtime: { state: 'ready' } }),
    encodeMessage({ t: 'pair.pending', code: '123456' }),
    encodeMessage({ t: 'result', id: 'r', ok: true, data: { text: 'a\nb' } }),
  ];
  const parts = splitMessages(joinMessages(messages));
  assert.deepEqual(
    parts.map((p) => decodeJson(p, 'message')),
    messages.map((m) => decodeJson(m, 'message')),
  );
  assert.equal(splitMessages(messages[0]!).length, 1, 'one message is a batch of one');
  assert.equal(parseDeviceHello({ name: 'n', platform: 'p', protocol: 1, batch: true }).batch, true);
  assert.equal('batch' in parseDeviceHello({ name: 'n', platform: 'p', protocol: 1 }), false);
  assert.throws(() => parseDeviceHello({ name: 'n', platform: 'p', protocol: 1, batch: 'yes' }), /hello\.batch/);
  assert.equal(parseDeviceHello({ name: 'n', platform: 'p', protocol: 1, compactDeltas: true }).compactDeltas, true);
  assert.equal('compactDeltas' in parseDeviceHello({ name: 'n', platform: 'p', protocol: 1 }), false);
  assert.throws(() => parseDeviceHello({ name: 'n', platform: 'p', protocol: 1, compactDeltas: 1 }), /hello\.compactDeltas/);
});
