/**
 * Fans host messages out to every open, approved connection. Runtime events get a host-wide
 * increasing `seq`; the last ones are kept so a device that reconnects within the same host run
 * (`epoch`) gets what it missed instead of reloading everything.
 * @module
 */
import { randomBytes } from 'node:crypto';
import { encodeMessage, type HostMessage } from '../../shared/protocol/messages.ts';
import type { CloseInfo } from '../../shared/channel/close.ts';

/** An approved connection as the hub sees it. */
export interface Subscriber {
  readonly deviceId: string;
  /** Sends one encoded host message (the connection encrypts it). */
  deliver(message: Uint8Array): void;
  close(info: CloseInfo): void;
}

export interface EventHub {
  readonly epoch: string;
  /** The last `seq` given out (0 before the first event). */
  readonly seq: number;
  /** Numbers the event, keeps it for replay and sends it to every subscriber. */
  publishEvent(event: Record<string, unknown>): number;
  /** Sends a message that is not numbered (e.g. `runtime`) to every subscriber. */
  broadcast(message: HostMessage): void;
  /**
   * The encoded events after `after`, when `epoch` is this run's and none of them was dropped
   * from the replay buffer yet; undefined otherwise (the device must reload).
   */
  since(after: number | undefined, epoch: string | undefined): Uint8Array[] | undefined;
  add(subscriber: Subscriber): void;
  remove(subscriber: Subscriber): void;
  /** Closes every connection of one device (it was removed). */
  closeDevice(deviceId: string, info: CloseInfo): void;
  subscriberCount(): number;
}

export interface HubOptions {
  /** Events kept for replay (default 1000) and their total size cap (default 8 MiB). */
  replayEvents?: number;
  replayBytes?: number;
}

export function createEventHub(opts: HubOptions = {}): EventHub {
  const maxEvents = opts.replayEvents ?? 1000;
  const maxBytes = opts.replayBytes ?? 8 * 1024 * 1024;
  const epoch = randomBytes(8).toString('hex');
  const subscribers = new Set<Subscriber>();
  const ring: { seq: number; bytes: Uint8Array }[] = [];
  let ringBytes = 0;
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
      ring.push({ seq, bytes });
      ringBytes += bytes.length;
      while (ring.length > maxEvents || (ringBytes > maxBytes && ring.length > 1)) ringBytes -= ring.shift()!.bytes.length;
      fanOut(bytes);
      return seq;
    },
    broadcast(message) {
      fanOut(encodeMessage(message));
    },
    since(after, askedEpoch) {
      if (after === undefined || askedEpoch !== epoch || after > seq) return undefined;
      if (after === seq) return [];
      const oldest = ring[0]?.seq ?? seq + 1;
      if (after + 1 < oldest) return undefined;
      return ring.filter((e) => e.seq > after).map((e) => e.bytes);
    },
    add: (s) => void subscribers.add(s),
    remove: (s) => void subscribers.delete(s),
    closeDevice(deviceId, info) {
      for (const s of [...subscribers]) if (s.deviceId === deviceId) s.close(info);
    },
    subscriberCount: () => subscribers.size,
  };
}
