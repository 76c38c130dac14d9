import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeJson } from '../../shared/protocol/messages.ts';
import { createEventHub, type Resume, type Subscriber } from './hub.ts';

function sub(deviceId: string) {
  const got: unknown[] = [];
  const closed: unknown[] = [];
  const s: Subscriber = { deviceId, deliver: (b) => got.push(decodeJson(b, 'm')), close: (i) => closed.push(i) };
  return { s, got, closed };
}

test('events get increasing seq and reach every subscriber', () => {
  const hub = createEventHub();
  const a = sub('a');
  const b = sub('b');
  hub.add(a.s);
  hub.add(b.s);
  assert.equal(hub.publishEvent({ type: 'session.idle', sessionId: 's' }), 1);
  hub.remove(b.s);
  hub.publishEvent({ type: 'session.idle', sessionId: 't' });
  hub.broadcast({ t: 'runtime', runtime: { state: 'ready' } });
  assert.deepEqual(a.got, [
    { t: 'event', seq: 1, event: { type: 'session.idle', sessionId: 's' } },
    { t: 'event', seq: 2, event: { type: 'session.idle', sessionId: 't' } },
    { t: 'runtime', runtime: { state: 'ready' } },
  ]);
  assert.equal(b.got.length, 1);
  assert.equal(hub.seq, 2);
});

test('resume: replays within the epoch and the journal, else says what to reload and why', () => {
  const hub = createEventHub({ maxEvents: 3 });
  for (let i = 0; i < 5; i++) hub.publishEvent({ type: 'session.idle', sessionId: String(i) });
  const seqs = (r: Resume) => (r.resumed ? r.replay.map((b) => (decodeJson(b, 'm') as { seq: number }).seq) : r);
  assert.deepEqual(seqs(hub.resume(3, hub.epoch)), [4, 5]);
  assert.deepEqual(seqs(hub.resume(2, hub.epoch)), [3, 4, 5]);
  assert.deepEqual(seqs(hub.resume(5, hub.epoch)), []);
  assert.deepEqual(hub.resume(1, hub.epoch), { resumed: false, reason: 'gap', sessions: ['1', '2', '3', '4'] }, 'event 2 was dropped: reload the sessions touched after 1');
  assert.deepEqual(hub.resume(3, 'another-run'), { resumed: false, reason: 'restart', sessions: undefined });
  assert.deepEqual(hub.resume(9, hub.epoch), { resumed: false, reason: 'restart', sessions: undefined }, 'numbers this run never gave out');
  assert.deepEqual(hub.resume(undefined, hub.epoch), { resumed: false, reason: 'new', sessions: undefined });
  hub.publishEvent({ type: 'runtime.reconnected' });
  assert.deepEqual(hub.resume(1, hub.epoch), { resumed: false, reason: 'gap', sessions: undefined }, 'an event about no session: reload everything');
});

test('closeDevice closes only that device', () => {
  const hub = createEventHub();
  const a = sub('a');
  const b = sub('b');
  hub.add(a.s);
  hub.add(b.s);
  hub.closeDevice('a', { code: 4403, reason: 'device.revoked: x' });
  assert.equal(a.closed.length, 1);
  assert.equal(b.closed.length, 0);
});

test('each subscriber gets only the events it accepts: live, replayed, and among the sessions to reload', () => {
  const hub = createEventHub({ maxEvents: 3 });
  const notB = (e: Readonly<Record<string, unknown>>) => e.sessionId !== 'b' && e.type !== 'permission.asked';
  const limited = sub('limited');
  const full = sub('full');
  hub.add({ ...limited.s, accepts: notB });
  hub.add(full.s);
  hub.publishEvent({ type: 'session.idle', sessionId: 'a' });
  hub.publishEvent({ type: 'session.idle', sessionId: 'b' });
  hub.publishEvent({ type: 'permission.asked', sessionId: 'a', requestId: 'per_1', permission: 'bash', patterns: [], always: [], metadata: {} });
  hub.publishEvent({ type: 'session.updated', sessionId: 'c', directory: '/c', title: 't', createdAt: 1, updatedAt: 1 });
  const seqsOf = (got: unknown[]) => got.map((m) => (m as { seq: number }).seq);
  assert.deepEqual(seqsOf(limited.got), [1, 4], 'numbers stay host-wide; the device skips what it may not see');
  assert.deepEqual(seqsOf(full.got), [1, 2, 3, 4]);

  const seen: unknown[] = [];
  const replay = hub.resume(1, hub.epoch, (e) => (seen.push(e), notB(e)));
  assert.ok(replay.resumed);
  assert.deepEqual(
    replay.replay.map((b) => (decodeJson(b, 'm') as { seq: number }).seq),
    [4],
  );
  assert.deepEqual(
    seen,
    [
      { type: 'session.idle', sessionId: 'b' },
      { type: 'permission.asked', sessionId: 'a' },
      { type: 'session.updated', sessionId: 'c', directory: '/c' },
    ],
    'the filter sees the type, session and directory of each kept event',
  );
  hub.publishEvent({ type: 'session.idle', sessionId: 'b' });
  assert.deepEqual(hub.resume(1, hub.epoch, notB), { resumed: false, reason: 'gap', sessions: ['a', 'c'] }, 'b is not named for reload');
});
