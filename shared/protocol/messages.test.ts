import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseHostMessage, parseRequest } from './messages.ts';
import { ProtocolError } from './guard.ts';

test('a runtime message carries the providers that work, and a bad list is refused by name', () => {
  const m = parseHostMessage({ t: 'runtime', runtime: { state: 'ready', version: '1.18.33', providers: ['anthropic', 'opencode'] } });
  assert.deepEqual(m, { t: 'runtime', runtime: { state: 'ready', version: '1.18.33', error: undefined, providers: ['anthropic', 'opencode'] } });
  const without = parseHostMessage({ t: 'runtime', runtime: { state: 'starting' } });
  assert.ok(without.t === 'runtime' && !('providers' in without.runtime));
  assert.throws(() => parseHostMessage({ t: 'runtime', runtime: { state: 'ready', providers: 'anthropic' } }), (e: unknown) => e instanceof ProtocolError && /runtime\.providers/.test(e.message));
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
      assert.throws(() => parseRequest(request), (e: unknown) => e instanceof ProtocolError && e.message.includes(field), `${field} = ${JSON.stringify(id)}`);
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
    assert.throws(() => parseRequest({ t: 'session.create', id: 'r', key }), (e: unknown) => e instanceof ProtocolError && e.message.startsWith('request(session.create).key:'), JSON.stringify(key));
  }
});

test('sessions.list may ask for the unavailable workspaces; an older app does not', () => {
  assert.deepEqual(parseRequest({ t: 'sessions.list', id: 'r' }), { t: 'sessions.list', id: 'r' });
  assert.deepEqual(parseRequest({ t: 'sessions.list', id: 'r', withUnavailable: true }), { t: 'sessions.list', id: 'r', withUnavailable: true });
  assert.throws(() => parseRequest({ t: 'sessions.list', id: 'r', withUnavailable: 'yes' }), (e: unknown) => e instanceof ProtocolError && /withUnavailable/.test(e.message));
});
