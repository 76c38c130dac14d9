/**
 * Fans host messages out to every open, approved connection. Events get a host-wide increasing
 * `seq` and go into the event journal (host/events/journal.ts), so a device that reconnects
 * within the same host run (`epoch`) gets what it missed, or learns which sessions to reload.
 * @module
 */
import { randomBytes } from 'node:crypto';
import { encodeMessage, type HostMessage, type ResyncReason } from '../../shared/protocol/messages.ts';
import type { CloseInfo } from '../../shared/channel/close.ts';
import { createEventJournal, type JournalOptions } from '../events/journal.ts';

/** An approved connection as the hub sees it. */
export interface Subscriber {
  readonly deviceId: string;
  /** Sends one encoded host message (the connection encrypts it). */
  deliver(message: Uint8Array): void;
  close(info: CloseInfo): void;
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
  publishEvent(event: Record<string, unknown>): number;
  /** Sends a message that is not numbered (e.g. `runtime`) to every subscriber. */
  broadcast(message: HostMessage): void;
  /** What a device whose hello carried `after` and `epoch` gets (docs/protocol.md, "Resume rules"). */
  resume(after: number | undefined, epoch: string | undefined): Resume;
  add(subscriber: Subscriber): void;
  remove(subscriber: Subscriber): void;
  /** Closes every connection of one device (it was removed). */
  closeDevice(deviceId: string, info: CloseInfo): void;
  subscriberCount(): number;
}

export type HubOptions = JournalOptions;

export function createEventHub(opts: HubOptions = {}): EventHub {
  const epoch = randomBytes(8).toString('hex');
  const subscribers = new Set<Subscriber>();
  const journal = createEventJournal(opts);
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
      journal.append(seq, bytes, typeof event.sessionId === 'string' ? event.sessionId : undefined);
      fanOut(bytes);
      return seq;
    },
    broadcast(message) {
      fanOut(encodeMessage(message));
    },
    resume(after, askedEpoch) {
      if (after === undefined) return { resumed: false, reason: 'new', sessions: undefined };
      // A device ahead of this run's numbering holds numbers of another run, whatever its epoch says.
      if (askedEpoch !== epoch || after > seq) return { resumed: false, reason: 'restart', sessions: undefined };
      const catchup = journal.since(after);
      return 'replay' in catchup ? { resumed: true, replay: catchup.replay } : { resumed: false, reason: 'gap', sessions: catchup.sessions };
    },
    add: (s) => void subscribers.add(s),
    remove: (s) => void subscribers.delete(s),
    closeDevice(deviceId, info) {
      for (const s of [...subscribers]) if (s.deviceId === deviceId) s.close(info);
    },
    subscriberCount: () => subscribers.size,
  };
}
