/**
 * Compact deltas (docs/protocol.md, "Compact deltas"): for a device whose hello says
 * `"compactDeltas": true`, a `message.text.delta` or `message.reasoning.delta` event leaves out each
 * of `sessionId`, `messageId` and `partId` that equals the one of the previous delta (of either
 * kind) on the same connection. A streamed answer is thousands of deltas of a few characters in
 * the same part, so the three ids were most of the bytes a phone paid for. Both sides keep the
 * previous delta's ids per connection, from empty at each connection; the device puts the left-out
 * ids back before it parses the event, so the event is checked by its own parser as before.
 * @module
 */
import { isObj } from './guard.ts';
import { encodeMessage } from './messages.ts';
import type { RelayRuntimeEvent } from './runtime-events.ts';

const IDS = ['sessionId', 'messageId', 'partId'] as const;
type IdKey = (typeof IDS)[number];
type Ids = Partial<Record<IdKey, unknown>>;

const isDeltaType = (type: unknown) => type === 'message.text.delta' || type === 'message.reasoning.delta';

/**
 * The last compact encoding made: the hub hands the same event object to every connection in a
 * row, and they nearly always leave out the same ids, so they share one encoding of it.
 */
let shared: { event: RelayRuntimeEvent; omitted: string; bytes: Uint8Array } | undefined;

/** The host's side, one per connection: what to send for each event message. */
export function createDeltaCompactor(): (seq: number, event: RelayRuntimeEvent, full: Uint8Array) => Uint8Array {
  let previous: Ids | undefined;
  return (seq, event, full) => {
    if (event.type !== 'message.text.delta' && event.type !== 'message.reasoning.delta') return full;
    const before = previous;
    previous = { sessionId: event.sessionId, messageId: event.messageId, partId: event.partId };
    const omit = before ? IDS.filter((k) => before[k] === event[k]) : [];
    if (omit.length === 0) return full;
    const omitted = omit.join();
    if (shared?.event !== event || shared.omitted !== omitted) {
      const compact: Record<string, unknown> = { ...event };
      for (const k of omit) delete compact[k];
      shared = { event, omitted, bytes: encodeMessage({ t: 'event', seq, event: compact as RelayRuntimeEvent }) };
    }
    return shared.bytes;
  };
}

/**
 * The device's side, one per connection: given each decoded host message in order, puts the ids
 * a compact delta left out back into it (in place) and returns it. A compact delta with no delta
 * before it on the connection keeps its gap, so its parser reports the missing id.
 */
export function createDeltaExpander(): (message: unknown) => unknown {
  let previous: Ids = {};
  return (message) => {
    if (!isObj(message) || message.t !== 'event' || !isObj(message.event) || !isDeltaType(message.event.type)) return message;
    const event = message.event;
    for (const k of IDS) if (event[k] === undefined && previous[k] !== undefined) event[k] = previous[k];
    previous = { sessionId: event.sessionId, messageId: event.messageId, partId: event.partId };
    return message;
  };
}
