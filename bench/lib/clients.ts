/**
 * Bench devices on Node `ws` sockets, using the real device side of the channel
 * (shared/channel/client.ts): IK reconnects of pre-paired devices, and pairing with an offer.
 * @module
 */
import WebSocket from 'ws';
import { connect, offerFromLink, pair, type ChannelHandlers, type ConnectOptions, type RelayChannel } from '../../shared/channel/client.ts';
import { parsePairLink } from '../../shared/pairing/link.ts';
import type { BenchDevice } from './fleet.ts';

/** Wall-clock milliseconds with sub-millisecond resolution, comparable across processes. */
export const now = (): number => performance.timeOrigin + performance.now();

export interface BenchClient {
  channel: RelayChannel;
  socket: WebSocket;
  close(): void;
}

export function openSocket(url: string, localAddress?: string): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { perMessageDeflate: false, ...(localAddress ? { localAddress } : {}) });
    ws.binaryType = 'arraybuffer';
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}

const closer = (channel: RelayChannel, socket: WebSocket) => () => {
  channel.close();
  socket.terminate();
};

/** Where a device left off: the last event it applied and the epoch it belongs to. */
export type ResumePoint = Partial<Pick<ConnectOptions, 'after' | 'epoch'>>;

/** An IK reconnect of a paired device; resolves at the welcome. */
export async function connectDevice(url: string, hostKey: Uint8Array, device: BenchDevice, handlers: ChannelHandlers & ResumePoint = {}): Promise<BenchClient> {
  const socket = await openSocket(url);
  try {
    const channel = await connect({ socket, hostKey, deviceKey: device.key, name: device.name, platform: 'node-bench', ...handlers });
    return { channel, socket, close: closer(channel, socket) };
  } catch (err) {
    socket.terminate();
    throw err;
  }
}

/** Pairs with the offer in `link`; the bench host approves every request at once. */
export async function pairDevice(link: string, device: BenchDevice, url: string, localAddress?: string): Promise<BenchClient> {
  const socket = await openSocket(url, localAddress);
  try {
    const pending = await pair({ socket, offer: offerFromLink(parsePairLink(link)), deviceKey: device.key, name: device.name, platform: 'node-bench' });
    const channel = await pending.approved;
    return { channel, socket, close: closer(channel, socket) };
  } catch (err) {
    socket.terminate();
    throw err;
  }
}

/**
 * Stops decrypting: the device keeps its connection and reads every frame (so the host's work
 * and flow control are unchanged) but only counts them. Used for the extra clients of the
 * live-task measurement, whose decryption would otherwise compete for the same two cores.
 */
export function countOnly(client: BenchClient): { frames(): number } {
  let frames = 0;
  client.socket.onmessage = () => void frames++;
  return { frames: () => frames };
}

/** Runs `task` for every item, at most `limit` at a time; rejects on the first failure. */
export async function inPool<T, R>(items: readonly T[], limit: number, task: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await task(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
