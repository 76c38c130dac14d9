/**
 * DNS-SD over multicast DNS: the host announces `_openwork-relay._tcp` so desktop clients on the
 * LAN can find it without typing an address. Phones pair with a QR code and do not need this.
 *
 * Announcing is confined to where the host listens: a host bound to loopback announces nothing
 * (nobody else could connect), one bound to a single IPv4 address announces only on that
 * interface, and one bound to all interfaces announces on all of them.
 * @module
 */
import { EventEmitter } from 'node:events';
import { isIP } from 'node:net';
import { createRequire } from 'node:module';
import type BonjourClass from 'bonjour-service';
import type { Logger } from '../log.ts';
import { isLoopbackAddress } from '../metrics/loopback.ts';
import { localName } from '../net/addresses.ts';

/** The DNS-SD service type without its underscores: `_openwork-relay._tcp`. */
export const SERVICE_TYPE = 'openwork-relay';
/** DNS-SD instance names are at most 63 bytes. */
const MAX_NAME_BYTES = 63;
const STOP_TIMEOUT_MS = 3000;

export interface DiscoveryInfo {
  hostId: string;
  version: string;
  protocol: number;
  tls: boolean;
}

/** The TXT record: what a client needs to pick the right host and scheme before connecting. */
export function discoveryTxt(info: DiscoveryInfo): Record<string, string> {
  return { hostId: info.hostId, version: info.version, protocol: String(info.protocol), tls: info.tls ? '1' : '0', path: '/' };
}

/** A readable instance name such as "OpenWork Relay on alices-laptop", cut to the DNS-SD limit. */
export function serviceName(hostName: string): string {
  let name = `OpenWork Relay on ${hostName.split('.')[0] || 'this computer'}`;
  // By code point, so an emoji in a host name is never cut in half.
  while (Buffer.byteLength(name) > MAX_NAME_BYTES) name = [...name].slice(0, -1).join('');
  return name;
}

export type Scope = { advertise: false; reason: string } | { advertise: true; interface?: string };

/** Where a host bound to `bind` may announce itself. */
export function advertiseScope(bind: string): Scope {
  const address = bind.trim().toLowerCase();
  if (address === 'localhost' || isLoopbackAddress(address)) {
    return { advertise: false, reason: `the host listens on ${bind} (this computer only), so nobody else could use the announcement` };
  }
  if (address === '' || address === '0.0.0.0' || address === '::') return { advertise: true };
  if (isIP(address) === 4) return { advertise: true, interface: address };
  return {
    advertise: false,
    reason: `LAN discovery needs --bind to be 0.0.0.0, :: or an IPv4 address of this computer (got ${bind}); phones still pair with the QR code`,
  };
}

/** The part of a bonjour-service instance this module uses, so tests can stand in for it. */
export interface Responder {
  publish(config: { name: string; type: string; port: number; host: string; txt: Record<string, string> }): unknown;
  unpublishAll(callback?: () => void): void;
  destroy(callback?: () => void): void;
}

/** `interface`: the IPv4 address whose interface to announce on; all interfaces when absent. */
export type ResponderFactory = (opts: { interface?: string }, onError: (err: Error) => void) => Responder;

export interface AdvertiserOptions {
  name: string;
  port: number;
  txt: Record<string, string>;
  bind: string;
  log: Logger;
  /** The SRV target; default this computer's `.local` name. */
  host?: string;
  /** Injected by tests; default bonjour-service. */
  factory?: ResponderFactory;
}

export interface Advertiser {
  readonly advertising: boolean;
  /** Says goodbye on the network (so browsers drop the host at once) and closes the socket. */
  stop(): Promise<void>;
}

export function createAdvertiser(opts: AdvertiserOptions): Advertiser {
  const { log } = opts;
  const scope = advertiseScope(opts.bind);
  if (!scope.advertise) {
    log.info('not announcing on the LAN (DNS-SD)', { reason: scope.reason });
    return { advertising: false, stop: () => Promise.resolve() };
  }
  const onError = (err: Error) => log.warn('LAN announcement (DNS-SD) failed; the host still works, clients just cannot discover it', { err });
  const responder = (opts.factory ?? bonjourResponder)(scope.interface ? { interface: scope.interface } : {}, onError);
  const host = opts.host ?? localName();
  responder.publish({ name: opts.name, type: SERVICE_TYPE, port: opts.port, host, txt: opts.txt });
  log.info('announcing on the LAN (DNS-SD)', { type: `_${SERVICE_TYPE}._tcp`, name: opts.name, host, port: opts.port, interface: scope.interface ?? 'all' });
  let stopping: Promise<void> | undefined;
  return {
    advertising: true,
    stop() {
      // The goodbye waits for the socket; a socket that broke must not hold up the host's shutdown.
      stopping ??= new Promise<void>((resolve) => {
        const giveUp = setTimeout(() => {
          log.warn('LAN announcement did not say goodbye in time; closing it anyway');
          responder.destroy();
          resolve();
        }, STOP_TIMEOUT_MS);
        giveUp.unref();
        const done = () => {
          clearTimeout(giveUp);
          resolve();
        };
        responder.unpublishAll(() => responder.destroy(done));
      });
      return stopping;
    },
  };
}

const bonjourResponder: ResponderFactory = (opts, onError) => {
  // Loaded only when the host really announces: it costs memory a loopback-only host never needs.
  const { Bonjour } = createRequire(import.meta.url)('bonjour-service') as { Bonjour: typeof BonjourClass };
  // Its options reach multicast-dns, whose `interface` option its typings leave out.
  const bonjour = new Bonjour(opts as Partial<BonjourClass.ServiceConfig>, onError);
  // multicast-dns emits 'error' (e.g. EACCES on port 5353) on its socket wrapper, which bonjour-service
  // does not listen to: without a listener that event would crash the host.
  // Its `server` is private in the typings: read it by reflection and check what is there.
  const mdns: unknown = Reflect.get(Reflect.get(bonjour, 'server') ?? {}, 'mdns');
  if (mdns instanceof EventEmitter) mdns.on('error', onError);
  return bonjour;
};
