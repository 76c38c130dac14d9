import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeJson } from '../../shared/protocol/messages.ts';
import { createEventHub, type Subscriber } from './hub.ts';

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

test('since: replays within the epoch and the buffer, else asks for a reload', () => {
  const hub = createEventHub({ replayEvents: 3 });
  for (let i = 0; i < 5; i++) hub.publishEvent({ type: 'session.idle', sessionId: String(i) });
  const seqs = (list: Uint8Array[] | undefined) => list?.map((b) => (decodeJson(b, 'm') as { seq: number }).seq);
  assert.deepEqual(seqs(hub.since(3, hub.epoch)), [4, 5]);
  assert.deepEqual(seqs(hub.since(2, hub.epoch)), [3, 4, 5]);
  assert.deepEqual(hub.since(5, hub.epoch), []);
  assert.equal(hub.since(1, hub.epoch), undefined, 'event 2 was dropped from the buffer');
  assert.equal(hub.since(3, 'another-run'), undefined);
  assert.equal(hub.since(9, hub.epoch), undefined);
  assert.equal(hub.since(undefined, hub.epoch), undefined);
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
