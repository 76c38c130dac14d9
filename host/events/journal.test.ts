import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createEventJournal, type Catchup } from './journal.ts';

const bytes = (seq: number, size = 10) => new Uint8Array(size).fill(seq % 256);
const seqs = (c: Catchup) => ('replay' in c ? c.replay.map((b) => b[0]) : c);

test('replays what came after, or names the sessions to reload once events were dropped', () => {
  const j = createEventJournal({ maxEvents: 3 });
  const sessions = ['a', 'b', 'a', undefined, 'c', 'a'];
  sessions.forEach((s, i) => void j.append(i + 1, bytes(i + 1), s));
  assert.equal(j.size, 3);
  assert.deepEqual(seqs(j.since(6)), []);
  assert.deepEqual(seqs(j.since(4)), [5, 6]);
  assert.deepEqual(seqs(j.since(3)), [4, 5, 6]);
  assert.deepEqual(j.since(2), { sessions: undefined }, 'event 4 named no session: reload everything');
  const k = createEventJournal({ maxEvents: 2 });
  ['a', 'b', 'a', 'c'].forEach((s, i) => void k.append(i + 1, bytes(i + 1), s));
  assert.deepEqual(k.since(1), { sessions: ['b', 'a', 'c'] });
  assert.deepEqual(k.since(0), { sessions: ['b', 'a', 'c'] });
});

test('the byte caps: the ring keeps at most maxBytes, a replay at most maxReplayBytes', () => {
  const j = createEventJournal({ maxBytes: 100, maxReplayBytes: 60 });
  for (let i = 1; i <= 10; i++) j.append(i, bytes(i, 30), 's');
  assert.equal(j.size, 3, 'three events of 30 bytes fit in 100');
  assert.equal(j.bytes, 90);
  assert.deepEqual(seqs(j.since(8)), [9, 10]);
  assert.deepEqual(j.since(7), { sessions: ['s'] }, '90 bytes is more than a replay may carry');
  const one = createEventJournal({ maxBytes: 10 });
  one.append(1, bytes(1, 500), 's');
  assert.equal(one.size, 1, 'the newest event is always kept, however large');
});

test('forgetting a session (too many) makes a gap that reaches back to it reload everything', () => {
  const j = createEventJournal({ maxEvents: 1, maxSessions: 2 });
  ['a', 'b', 'c'].forEach((s, i) => void j.append(i + 1, bytes(i + 1), s));
  assert.deepEqual(j.since(0), { sessions: undefined }, 'a (event 1) is no longer remembered');
  assert.deepEqual(j.since(1), { sessions: ['b', 'c'] }, 'a changed only before the gap');
});

test('seq must continue by one, and a device cannot be ahead of the host', () => {
  const j = createEventJournal();
  assert.throws(() => j.append(2, bytes(2), 's'), RangeError);
  j.append(1, bytes(1), 's');
  assert.throws(() => j.append(1, bytes(1), 's'), RangeError);
  assert.throws(() => j.since(2), RangeError);
});

test('a replay leaves out what keep refuses; the gap rules still count every event', () => {
  const j = createEventJournal<string>({ maxEvents: 3 });
  ['x', 'secret', 'x', 'secret'].forEach((about, i) => void j.append(i + 1, bytes(i + 1), 's', about));
  assert.deepEqual(seqs(j.since(1, (about) => about !== 'secret')), [3]);
  assert.deepEqual(seqs(j.since(1)), [2, 3, 4]);
  assert.deepEqual(
    j.since(0, (about) => about !== 'secret'),
    { sessions: ['s'] },
  );
});
