/**
 * The addresses a phone may reach this host at. The pairing offer carries all of them as
 * connection candidates; the stable name (the `.local` name, or a configured public URL) comes
 * first because the phone's storage — and with it the pairing — belongs to the origin it opened.
 * @module
 */
import { hostname, networkInterfaces, type NetworkInterfaceInfo } from 'node:os';

export interface AddressOptions {
  bind: string;
  port: number;
  tls: boolean;
  publicUrl?: string;
  /** Injected by tests; default os.networkInterfaces(). */
  interfaces?: NodeJS.Dict<NetworkInterfaceInfo[]>;
  /** Injected by tests; default os.hostname(). */
  hostName?: string;
}

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);
const WILDCARD = new Set(['0.0.0.0', '::']);

/** The host's `.local` name (mDNS), from its host name: "Alices-MacBook.lan" → "alices-macbook.local". */
export function localName(name = hostname()): string {
  const first = name
    .split('.')[0]
    .toLowerCase()
    .replace(/[^a-z0-9-]/g, '-')
    .replace(/^-+|-+$/g, '');
  return `${first || 'openwork-relay'}.local`;
}

/** LAN IP addresses of this machine: IPv4 first, then global IPv6; no loopback or link-local. */
export function lanAddresses(interfaces: NodeJS.Dict<NetworkInterfaceInfo[]> = networkInterfaces()): string[] {
  const v4: string[] = [];
  const v6: string[] = [];
  for (const list of Object.values(interfaces)) {
    for (const a of list ?? []) {
      if (a.internal) continue;
      if (a.family === 'IPv4') v4.push(a.address);
      else if (!a.address.toLowerCase().startsWith('fe80')) v6.push(a.address);
    }
  }
  return [...new Set([...v4, ...v6])];
}

/**
 * Base URLs (`http(s)://host:port`) a phone may use, best first. A host bound to loopback is
 * reachable only from this machine, so it offers only the loopback URL.
 */
export function hostUrls(opts: AddressOptions): string[] {
  const scheme = opts.tls ? 'https' : 'http';
  const url = (host: string) => `${scheme}://${host.includes(':') ? `[${host}]` : host}:${opts.port}`;
  const out: string[] = [];
  if (opts.publicUrl) out.push(opts.publicUrl.replace(/\/+$/, ''));
  if (LOOPBACK.has(opts.bind)) {
    out.push(url(opts.bind === 'localhost' ? '127.0.0.1' : opts.bind));
  } else if (WILDCARD.has(opts.bind)) {
    out.push(url(localName(opts.hostName)));
    for (const ip of lanAddresses(opts.interfaces)) out.push(url(ip));
    if (out.length === (opts.publicUrl ? 2 : 1)) out.push(url('127.0.0.1'));
  } else {
    out.push(url(opts.bind));
  }
  return [...new Set(out)];
}
