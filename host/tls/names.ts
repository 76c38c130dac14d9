/**
 * The names and addresses the host certificate must cover: everything a phone may type or be
 * sent to — the `.local` name first (the stable origin the pairing link prefers), a configured
 * public URL's host, every LAN address, and loopback for this machine's own browser.
 * @module
 */
import { isIP } from 'node:net';
import type { NetworkInterfaceInfo } from 'node:os';
import { lanAddresses, localName } from '../net/addresses.ts';
import type { CertificateNames } from './certificates.ts';

export interface NameOptions {
  bind: string;
  publicUrl?: string;
  /** Injected by tests; default os.networkInterfaces(). */
  interfaces?: NodeJS.Dict<NetworkInterfaceInfo[]>;
  /** Injected by tests; default os.hostname(). */
  hostName?: string;
}

const WILDCARD = new Set(['0.0.0.0', '::']);

export function certificateNames(opts: NameOptions): CertificateNames {
  const dns = [localName(opts.hostName), 'localhost'];
  const ips = [...lanAddresses(opts.interfaces), '127.0.0.1', '::1'];
  const add = (host: string) => {
    if (isIP(host)) ips.push(host);
    else dns.push(host.toLowerCase());
  };
  if (opts.publicUrl) add(new URL(opts.publicUrl).hostname.replace(/^\[|\]$/g, ''));
  if (!WILDCARD.has(opts.bind)) add(opts.bind);
  return { dns: [...new Set(dns)], ips: [...new Set(ips)] };
}
