/**
 * Which push endpoints the host will send to. A paired device hands the host a URL and the host
 * then makes requests to it, so a device could otherwise aim the host at the computer itself or
 * at the LAN (a router's admin page, a printer, the runtime on loopback). Only an `https` URL on
 * a public host name passes; the name is checked again when it resolves, so a public name that
 * points at a private address is refused before any connection is made.
 *
 * The one exception is for tests: `localReceiver` admits `http://127.0.0.1:<port>` so a test can
 * run its own push receiver. It is an option the test passes in code, never a setting or an
 * environment variable a person could turn on by accident.
 * @module
 */
import { BlockList, isIP } from 'node:net';
import { RelayError } from '../../shared/protocol/errors.ts';

export interface EndpointPolicy {
  /** Tests only: also admit `http://127.0.0.1:<port>/…` (their own receiver). */
  localReceiver?: boolean;
}

/** Suffixes that only mean something inside a home or office network. */
const LOCAL_SUFFIXES = [
  '.local',
  '.localhost',
  '.localdomain',
  '.internal',
  '.intranet',
  '.lan',
  '.home',
  '.home.arpa',
  '.corp',
  '.private',
  '.test',
  '.invalid',
  '.example',
  '.onion',
];

const refused = (why: string) => new RelayError('push.refused', `the host will not send notifications to this address: ${why}`);

/**
 * The endpoint as a URL, or a `push.refused` RelayError saying why not. Checks the text only (no
 * DNS): it runs when a device subscribes and again before every send.
 */
export function checkEndpoint(endpoint: string, policy: EndpointPolicy = {}): URL {
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    throw refused('it is not a URL');
  }
  if (policy.localReceiver && url.protocol === 'http:' && url.hostname === '127.0.0.1') return url;
  if (url.protocol !== 'https:') throw refused(`push services use https, not ${url.protocol.replace(/:$/, '')}`);
  if (url.username || url.password) throw refused('it carries a user name or password');
  // The URL parser already turned decimal, octal and hex IPv4 forms into dotted quads.
  const host = url.hostname
    .replace(/^\[|\]$/g, '')
    .replace(/\.$/, '')
    .toLowerCase();
  if (isIP(host)) throw refused("it is an IP address, not a push service's host name");
  if (host === 'localhost' || !host.includes('.')) throw refused(`${host} is not a public host name`);
  if (LOCAL_SUFFIXES.some((s) => host.endsWith(s))) throw refused(`${host} is a local network name`);
  return url;
}

/** Addresses no push service has: loopback, private, link-local, carrier NAT, multicast, reserved, documentation. */
const NOT_PUBLIC = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const)
  NOT_PUBLIC.addSubnet(net, prefix, 'ipv4');
for (const [net, prefix] of [
  ['::', 128],
  ['::1', 128],
  ['64:ff9b::', 96],
  ['100::', 64],
  ['2001:db8::', 32],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
] as const)
  NOT_PUBLIC.addSubnet(net, prefix, 'ipv6');

/** Whether an address a push host name resolved to is on the public internet. */
export function isPublicAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 0) return false;
  // BlockList judges an IPv4-mapped IPv6 address (::ffff:a.b.c.d) by the IPv4 rules.
  return !NOT_PUBLIC.check(address, family === 4 ? 'ipv4' : 'ipv6');
}
