/**
 * Pairing this phone with a computer: from a scanned QR link (`#pair=…`) or a typed code, run
 * the pairing handshake, show the verification code, wait for the person at the computer, and
 * return the record to store: the pinned host key and this phone's new key for that host.
 *
 * An offer is used up by the first handshake that names it, so other addresses are tried only
 * while no socket has opened yet.
 * @module
 */
import { fetchHostKey, generateDeviceKey, offerFromCode, offerFromLink, pair, type PairOffer, type SocketLike } from '../../shared/channel/client.ts';
import { hostIdOf } from '../../shared/pairing/keys.ts';
import { parsePairLink, parseTypedCode, relaySocketUrl } from '../../shared/pairing/link.ts';
import type { HostRecord } from '../storage/db.ts';
import { ConnectTimeout } from './explain.ts';
import { candidateAddresses } from './addresses.ts';

export interface PairingTarget {
  offer: PairOffer;
  addresses: string[];
  /** From the link; a typed code does not carry it, so it is "your computer" until the welcome. */
  hostName: string;
  /** Unix seconds, when known. */
  expiresAt?: number;
}

export interface PairingAttempt {
  /** The 6-digit code to compare with the one the computer shows. */
  code: string;
  /** The address the handshake went to. */
  address: string;
  /** Resolves once approved, with the record to store; rejects when declined, expired, cut off. */
  approved: Promise<HostRecord>;
  cancel(): void;
}

export type OpenSocket = (url: string) => SocketLike;

const browserSocket: OpenSocket = (url) => new WebSocket(url);

/** From a scanned link; throws OfferError when it is damaged or expired. */
export function targetFromLink(text: string, now = Date.now()): PairingTarget {
  const link = parsePairLink(text, now);
  return { offer: offerFromLink(link), addresses: link.addresses, hostName: link.hostName, expiresAt: link.expiresAt };
}

/**
 * From a typed code: the code names the host by its key's fingerprint, and the page was served
 * by that host, so its key is fetched from the page's origin and checked against the code.
 */
export async function targetFromCode(text: string, origin: string, openSocket: OpenSocket = browserSocket): Promise<PairingTarget> {
  const code = parseTypedCode(text);
  const hostKey = await fetchHostKey(await openWithin(openSocket, relaySocketUrl(origin), 10_000));
  return { offer: offerFromCode(code, hostKey), addresses: [origin], hostName: 'your computer' };
}

/** Resolves with the socket once open; rejects (and closes it) if it fails or takes too long. */
function openWithin(openSocket: OpenSocket, url: string, timeoutMs: number): Promise<SocketLike> {
  const socket = openSocket(url);
  socket.binaryType = 'arraybuffer';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      socket.close();
      reject(new ConnectTimeout(url));
    }, timeoutMs);
    socket.onopen = () => {
      clearTimeout(timer);
      resolve(socket);
    };
    socket.onclose = () => {
      clearTimeout(timer);
      reject(new ConnectTimeout(url));
    };
    socket.onerror = () => {};
  });
}

export async function startPairing(
  target: PairingTarget,
  device: { name: string; platform: string },
  opts: { origin: string; openSocket?: OpenSocket; now?: () => number },
): Promise<PairingAttempt> {
  const openSocket = opts.openSocket ?? browserSocket;
  const now = opts.now ?? Date.now;
  const deviceKey = generateDeviceKey();
  const addresses = candidateAddresses(target.addresses, opts.origin);
  if (!addresses.length) throw new ConnectTimeout('no usable address (an https page cannot reach http:// addresses)');
  let failure: unknown;
  for (const address of addresses) {
    let socket: SocketLike;
    try {
      socket = await openWithin(openSocket, relaySocketUrl(address), 8000);
    } catch (err) {
      failure = err;
      continue;
    }
    const pending = await pair({ socket, offer: target.offer, deviceKey, ...device });
    const approved = pending.approved.then((channel): HostRecord => {
      const { welcome } = channel;
      channel.close(1000, 'paired');
      return {
        hostId: hostIdOf(target.offer.hostKey),
        label: welcome.host.name,
        name: welcome.host.name,
        pairedAt: now(),
        hostKey: target.offer.hostKey,
        deviceKey,
        deviceId: channel.deviceId,
        addresses: [...new Set([address, ...welcome.host.addresses, ...target.addresses])],
        scopes: welcome.scopes,
        workspaces: welcome.workspaces,
      };
    });
    return { code: pending.code, address, approved, cancel: () => socket.close(1000, 'cancelled') };
  }
  throw failure;
}
