import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createDeltaCompactor, createDeltaExpander } from './compact-deltas.ts';
import { decodeJson, encodeMessage, parseHostMessage } from './messages.ts';
import type { RelayRuntimeEvent } from './runtime-events.ts';

const delta = (partId: string, text: string): RelayRuntimeEvent => ({ type: 'message.text.delta', sessionId: 'ses_1', messageId: 'msg_1', partId, delta: text });
const full = (seq: number, event: RelayRuntimeEvent) => encodeMessage({ t: 'event', seq, event });

test('compact deltas round-trip to the same events, shorter; connections on the same events share one encoding', () => {
  const events = [delta('prt_1', 'a'), delta('prt_1', 'b'), { type: 'session.idle', sessionId: 'ses_1' } as const, delta('prt_2', 'c'), delta('prt_2', 'd')];
  const one = createDeltaCompactor();
  const two = createDeltaCompactor();
  const expand = createDeltaExpander();
  events.forEach((event, i) => {
    const whole = full(i + 1, event);
    const sent = one(i + 1, event, whole);
    assert.equal(two(i + 1, event, whole), sent, 'the same bytes, not a second encoding');
    if (i === 1 || i === 4) assert.ok(sent.length < whole.length - 40, `event ${i} left out its ids`);
    assert.deepEqual(parseHostMessage(expand(decodeJson(sent, 'message'))), { t: 'event', seq: i + 1, event });
  });
});

test('a compact delta with no delta before it on the connection is skipped, naming the missing id', () => {
  const m = parseHostMessage(createDeltaExpander()({ t: 'event', seq: 1, event: { type: 'message.text.delta', delta: 'x' } }));
  assert.equal(m.t === 'event' && m.event, undefined);
  assert.match(m.t === 'event' ? (m.skipped ?? '') : '', /sessionId/);
});
