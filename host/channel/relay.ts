/**
 * The relay as one piece for the composition root: the host key, pairing offers and approvals,
 * the device registry, the `/relay` WebSocket route, and the runtime's events fanned out to
 * every approved device. Removing a device (here or with the `revoke` command in another
 * process) closes its connections at once.
 * @module
 */
import type { TemplatedApp } from '@trufflesuite/uws-js-unofficial';
import type { Logger } from '../log.ts';
import { loadOrCreateIdentity, type HostIdentity } from '../identity.ts';
import { createApprovals, type Approvals } from '../pairing/approvals.ts';
import { createOfferStore, type Offer, type OfferStore, type PairingOutcome } from '../pairing/offers.ts';
import { openDeviceRegistry, type DeviceRegistry } from '../devices/registry.ts';
import { attachRelaySocket } from '../server/socket.ts';
import { createRouter, type RuntimeCalls } from '../rpc/router.ts';
import { createPermissionGrants, type PermissionGrants, type PermissionRuntime } from '../rpc/permissions.ts';
import { closeFor } from '../../shared/channel/close.ts';
import type { RuntimeStatus } from '../../shared/protocol/messages.ts';
import type { RelayRuntimeEvent } from '../../shared/protocol/runtime-events.ts';
import { createConnection } from './connection.ts';
import { createEventHub, type EventHub } from './hub.ts';

/** What the relay needs of the runtime bridge (host/runtime/bridge.ts fits). */
export interface RelayRuntime extends RuntimeCalls, PermissionRuntime {
  onEvent(listener: (event: RelayRuntimeEvent) => void): () => void;
}

export interface RelayOptions {
  /** Adds the relay's route to the server's app, now and to every app that replaces it (TLS reload). */
  mount: (fn: (app: TemplatedApp) => void) => void;
  dataDir: string;
  hostName: string;
  version: string;
  /** Base URLs phones may reach the host at, best first; the first is the pairing link's origin. */
  addresses: () => string[];
  workspaces: string[];
  runtime: RelayRuntime;
  runtimeStatus: () => RuntimeStatus;
  log: Logger;
  /** How long an offer lasts (default 5 minutes). */
  offerTtlMs?: number;
  /** How often the device file is checked for changes by other processes (default 500 ms). */
  watchIntervalMs?: number;
  /** Told of every pairing outcome (the host's metrics). */
  onPairingOutcome?: (outcome: PairingOutcome) => void;
}

export interface OfferView {
  offer: Offer;
  link: string;
  code: string;
  /** Where a phone without a camera opens the app to type the code. */
  origin: string;
}

export interface Relay {
  identity: HostIdentity;
  offers: OfferStore;
  approvals: Approvals;
  devices: DeviceRegistry;
  hub: EventHub;
  permissions: PermissionGrants;
  /** Makes a pairing offer, with its link and typed code. */
  newOffer(): OfferView;
  /** Tells every device about a runtime state change. */
  runtimeChanged(status: RuntimeStatus): void;
  connectionCount(): number;
  /** Closes every connection (1001), stops watching files, cancels waiting approvals. */
  close(): void;
}

export function createRelay(opts: RelayOptions): Relay {
  const log = opts.log;
  const identity = loadOrCreateIdentity(opts.dataDir, log);
  const devices = openDeviceRegistry({ dataDir: opts.dataDir, log: log.child('devices'), watchIntervalMs: opts.watchIntervalMs });
  const offers = createOfferStore({ hostKey: identity.publicKey, ttlMs: opts.offerTtlMs, onOutcome: opts.onPairingOutcome });
  const approvals = createApprovals();
  const hub = createEventHub();
  const permissions = createPermissionGrants(opts.runtime, log.child('permissions'));
  const router = createRouter({
    runtime: opts.runtime, permissions, workspaces: () => opts.workspaces, runtimeStatus: opts.runtimeStatus,
  });

  const stopEvents = opts.runtime.onEvent((event) => {
    if (permissions.observe(event)) hub.publishEvent({ ...event });
  });
  const stopRemovals = devices.onRemoved((device) =>
    hub.closeDevice(device.id, closeFor('device.revoked', 'this device was removed from the host')),
  );

  const channelLog = log.child('channel');
  const sockets: ReturnType<typeof attachRelaySocket>[] = [];
  opts.mount((app) => sockets.push(attachRelaySocket(app, {
    log: channelLog,
    connect: (peer) =>
      createConnection(peer, {
        identity, offers, approvals, devices, hub, router, log: channelLog,
        welcomeInfo: () => ({
          host: { hostId: identity.hostId, name: opts.hostName, version: opts.version, addresses: opts.addresses() },
          workspaces: opts.workspaces,
          runtime: opts.runtimeStatus(),
        }),
      }),
  })));

  return {
    identity, offers, approvals, devices, hub, permissions,
    newOffer() {
      const offer = offers.create();
      const addresses = opts.addresses();
      const origin = addresses[0] ?? 'http://127.0.0.1';
      return { offer, origin, link: offers.link(offer, { origin, addresses, hostName: opts.hostName }), code: offers.typedCode(offer) };
    },
    runtimeChanged: (runtime) => hub.broadcast({ t: 'runtime', runtime }),
    connectionCount: () => sockets.reduce((n, s) => n + s.count(), 0),
    close() {
      stopEvents();
      stopRemovals();
      for (const s of sockets) s.closeAll(closeFor('host.shutting-down', 'the host is stopping; reconnect later'));
      approvals.close();
      offers.close();
      devices.close();
    },
  };
}
