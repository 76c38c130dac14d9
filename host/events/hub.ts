/**
 * Fans host messages out to every open, approved connection. Events get a host-wide increasing
 * `seq` and go into the event journal (host/events/journal.ts), so a device that reconnects
 * within the same host run (`epoch`) gets what it missed, or learns which sessions to reload.
 * Each connection says which events it may receive (`accepts`, asked at delivery, so a change
 * of the device's access applies to the next event); live, replayed and named for reload alike.
 * A device skips the numbers of events it may not see: `seq` stays host-wide.
 * @module
 */
import { randomBytes } from 'node:crypto';
import { encodeMessage, type HostMessage, type ResyncReason } from '../../shared/protocol/messages.ts';
import type { RelayRuntimeEvent } from '../../shared/protocol/runtime-events.ts';
import type { CloseInfo } from '../../shared/channel/close.ts';
import { createEventJournal, type JournalOptions } from './journal.ts';

/** What `accepts` sees of an event: the event live; its type, session and directory in a replay. */
export type EventView = Readonly<Record<string, unknown>>;

/** An approved connection as the hub sees it. */
export interface Subscriber {
  readonly deviceId: string;
  /**
   * Sends one encoded host message (the connection encrypts it); for a live event, also the event
   * itself and its seq, so a connection may send it in a shorter form (shared/protocol/compact-deltas.ts).
   */
  deliver(message: Uint8Array, live?: { seq: number; event: RelayRuntimeEvent }): void;
  close(info: CloseInfo): void;
  /** Whether this connection may receive `event` (its device's scopes and workspaces, now); absent: every event. */
  accepts?(event: EventView): boolean;
}

/** How a (re)connecting device continues: the events it missed, or what to reload. */
export type Resume =
  | { resumed: true; replay: Uint8Array[] }
  /** `sessions` undefined: reload every session. */
  | { resumed: false; reason: ResyncReason; sessions: string[] | undefined };

export interface EventHub {
  readonly epoch: string;
  /** The last `seq` given out (0 before the first event). */
  readonly seq: number;
  /** Numbers the event, keeps it for replay and sends it to every subscriber. */
  publishEvent(event: RelayRuntimeEvent): number;
  /** Sends a message that is not numbered (e.g. `runtime`) to every subscriber. */
  broadcast(message: HostMessage): void;
  /**
   * What a device whose hello carried `after` and `epoch` gets (docs/protocol.md, "Resume rules"),
   * only the events and sessions `accepts` lets through.
   */
  resume(after: number | undefined, epoch: string | undefined, accepts?: (event: EventView) => boolean): Resume;
  add(subscriber: Subscriber): void;
  remove(subscriber: Subscriber): void;
  /** Closes every connection of one device (it was removed). */
  closeDevice(deviceId: string, info: CloseInfo): void;
  subscriberCount(): number;
  /** What the journal holds now (bounded by HubOptions), for the benchmarks and diagnostics. */
  journalUse(): { events: number; bytes: number };
}

export type HubOptions = JournalOptions;

export function createEventHub(opts: HubOptions = {}): EventHub {
  const epoch = randomBytes(8).toString('hex');
  const subscribers = new Set<Subscriber>();
  const journal = createEventJournal<EventView>(opts);
  let seq = 0;

  const fanOut = (bytes: Uint8Array) => {
    // A copy: a subscriber may remove itself (or be closed) while we deliver.
    for (const s of [...subscribers]) s.deliver(bytes);
  };

  return {
    epoch,
    get seq() {
      return seq;
    },
    publishEvent(event) {
      seq++;
      const bytes = encodeMessage({ t: 'event', seq, event });
      const sessionId = 'sessionId' in event ? event.sessionId : undefined;
      journal.append(seq, bytes, sessionId, viewOf(event));
      const live = { seq, event };
      for (const s of [...subscribers]) if (s.accepts?.(event) ?? true) s.deliver(bytes, live);
      return seq;
    },
    broadcast(message) {
      fanOut(encodeMessage(message));
    },
    resume(after, askedEpoch, accepts = () => true) {
      if (after === undefined) return { resumed: false, reason: 'new', sessions: undefined };
      // A device ahead of this run's numbering holds numbers of another run, whatever its epoch says.
      if (askedEpoch !== epoch || after > seq) return { resumed: false, reason: 'restart', sessions: undefined };
      const catchup = journal.since(after, (view) => accepts(view ?? {}));
      if ('replay' in catchup) return { resumed: true, replay: catchup.replay };
      return { resumed: false, reason: 'gap', sessions: catchup.sessions?.filter((sessionId) => accepts({ sessionId })) };
    },
    add: (s) => void subscribers.add(s),
    remove: (s) => void subscribers.delete(s),
    closeDevice(deviceId, info) {
      for (const s of [...subscribers]) if (s.deviceId === deviceId) s.close(info);
    },
    subscriberCount: () => subscribers.size,
    journalUse: () => ({ events: journal.size, bytes: journal.bytes }),
  };
}

/** The fields a filter looks at, kept with each journal entry instead of the whole event. */
function viewOf(event: EventView): EventView {
  const view: Record<string, unknown> = { type: event.type };
  if (typeof event.sessionId === 'string') view.sessionId = event.sessionId;
  if (typeof event.directory === 'string') view.directory = event.directory;
  return view;
}
