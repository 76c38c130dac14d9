/**
 * The relay as one piece for the composition root: the host key, pairing offers and approvals,
 * the device registry, the `/relay` WebSocket route, the runtime's events fanned out to every
 * approved device, the task ledger that runs each task once, and the host's record of waiting
 * permission requests. Removing a device (here or with the `revoke` command in another process)
 * closes its connections at once; changing its scopes or workspaces (the `devices` commands, the
 * admin page) closes them with `device.access-changed`, so the app reconnects and its welcome
 * lists the new access and its `resync` (reason `access`) makes it reload what it shows. Until then
 * each request and event is checked against the access as it is now.
 *
 * Whenever the runtime becomes ready (first start, restart) the relay settles what the runtime
 * may have lost: tasks recorded but not confirmed, and permission requests it no longer has.
 * @module
 */
import { join } from 'node:path';
import type { TemplatedApp } from '@trufflesuite/uws-js-unofficial';
import type { Logger } from '../log.ts';
import { loadOrCreateIdentity, type HostIdentity } from '../identity.ts';
import { createApprovals, type Approvals } from '../pairing/approvals.ts';
import { createOfferStore, type Offer, type OfferStore } from '../pairing/offers.ts';
import { openDeviceRegistry, type DeviceRegistry } from '../devices/registry.ts';
import { attachRelaySocket } from '../server/socket.ts';
import { createRouter, type RuntimeCalls } from '../rpc/router.ts';
import { createPermissionGrants, type PermissionGrants, type PermissionRuntime } from '../rpc/permissions.ts';
import { openTaskLedger } from '../tasks/ledger.ts';
import { createTaskService, type TaskRuntime, type TaskService } from '../tasks/service.ts';
import { createKeyedSessions, type SessionRuntime } from '../tasks/keyed-sessions.ts';
import { createInterruptions, type InterruptCause, type InterruptionRuntime, type Interruptions } from '../tasks/interruptions.ts';
import { openPartialTexts } from '../tasks/partials.ts';
import { closeFor } from '../../shared/channel/close.ts';
import type { RuntimeStatus } from '../../shared/protocol/messages.ts';
import type { Metrics } from '../metrics/metrics.ts';
import type { RelayRuntimeEvent } from '../../shared/protocol/runtime-events.ts';
import { createWorkspaceGate, type GateRuntime } from '../policy/workspaces.ts';
import { createConnection } from './connection.ts';
import { createEventHub, type EventHub, type HubOptions } from './hub.ts';

/** What the relay needs of the runtime bridge (host/runtime/bridge.ts fits). */
export interface RelayRuntime
  extends Omit<RuntimeCalls, 'createSession'>, PermissionRuntime, TaskRuntime, Pick<GateRuntime, 'getSession'>, Pick<SessionRuntime, 'createSession' | 'sessionsCreatedSince'>,
    Pick<InterruptionRuntime, 'sessionStatus'> {
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
  /** The host's local metrics: devices read them (`metrics.get`); connections and pairing attempts are counted in them. */
  metrics: Metrics;
  log: Logger;
  /** How long an offer lasts (default 5 minutes). */
  offerTtlMs?: number;
  /** How often the device file is checked for changes by other processes (default 500 ms). */
  watchIntervalMs?: number;
  /**
   * Seconds without traffic before uWS pings a device, then drops it (default 8, uWS's least:
   * pinged after 4 s of silence, dropped when 4 s more pass without an answer).
   */
  idleTimeoutSec?: number;
  /** Sizes of the event journal devices resume from (host/events/journal.ts). */
  journal?: HubOptions;
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
  tasks: TaskService;
  /** Turns cut short by a runtime or host restart (host/tasks/interruptions.ts). */
  interruptions: Interruptions;
  /** Makes a pairing offer, with its link and typed code. */
  newOffer(): OfferView;
  /** Tells every device about a runtime state change; settles tasks and permissions when it is ready again. */
  runtimeChanged(status: RuntimeStatus): void;
  connectionCount(): number;
  /** Closes every connection (1001), stops watching files, cancels waiting approvals. */
  close(): void;
}

export function createRelay(opts: RelayOptions): Relay {
  const log = opts.log;
  const identity = loadOrCreateIdentity(opts.dataDir, log);
  const devices = openDeviceRegistry({ dataDir: opts.dataDir, log: log.child('devices'), watchIntervalMs: opts.watchIntervalMs });
  const offers = createOfferStore({
    hostKey: identity.publicKey, ttlMs: opts.offerTtlMs, onOutcome: (outcome) => opts.metrics.inc('pairing_attempts_total', { outcome }),
  });
  const approvals = createApprovals();
  const hub = createEventHub(opts.journal);
  const permissions = createPermissionGrants(opts.runtime, log.child('permissions'), (notice) => hub.publishEvent({ ...notice }));
  const ledger = openTaskLedger({ dir: join(opts.dataDir, 'tasks'), log: log.child('tasks') });
  const partials = openPartialTexts({ dir: join(opts.dataDir, 'partials'), log: log.child('tasks') });
  // An unfinished answer's stored text is empty until it ends: everyone reads what was streamed instead.
  const runtime: RelayRuntime = { ...opts.runtime, messages: async (sessionId) => partials.fill(sessionId, await opts.runtime.messages(sessionId)) };
  const tasks = createTaskService({ ledger, runtime, log: log.child('tasks') });
  const sessions = createKeyedSessions({ ledger, runtime, log: log.child('sessions') });
  const interruptions = createInterruptions({
    ledger, runtime, log: log.child('tasks'),
    onInterrupted: (record) => hub.publishEvent({ type: 'session.interrupted', ...record }),
  });
  /** Turns the runtime lost are found before lost tasks are sent again (which would start new turns). */
  const settleTasks = (cause: InterruptCause) =>
    void interruptions
      .check(cause)
      .catch((err: unknown) => log.warn('could not look for turns cut short; devices find them when they open their sessions', { err }))
      .finally(() => tasks.reconcile());
  const gate = createWorkspaceGate({ runtime: opts.runtime, workspaces: () => opts.workspaces });
  const router = createRouter({
    runtime, tasks, sessions, permissions, workspaces: () => opts.workspaces, runtimeStatus: opts.runtimeStatus,
    metrics: opts.metrics, gate, interruptions, log: log.child('rpc'),
  });

  const stopEvents = opts.runtime.onEvent((event) => {
    // First: the gate must know a new session's workspace before its events are delivered.
    gate.observe(event);
    partials.observe(event);
    interruptions.observe(event);
    if (permissions.observe(event)) hub.publishEvent({ ...event });
    if (event.type === 'runtime.reconnected') {
      void permissions.sync('withdrawn');
      // An attached runtime may have restarted unseen, between two health checks.
      void interruptions.check({ reason: 'runtime-lost' }).catch((err: unknown) => log.warn('could not look for turns cut short', { err }));
    }
  });

  let runtimeState = opts.runtimeStatus();
  let wasEverReady = false;
  /** Why the runtime was last lost, for the requests that went with it. */
  let lostBecause: string | undefined;
  const runtimeChanged = (status: RuntimeStatus) => {
    hub.broadcast({ t: 'runtime', runtime: status });
    const wasReady = runtimeState.state === 'ready';
    runtimeState = status;
    if (status.state !== 'ready') {
      // The supervisor appends the runtime's last output lines; the first line says what happened.
      if (status.error) lostBecause = status.error.split('\n', 1)[0]!.replace(/;\s*last output:?$/, '');
      return;
    }
    if (wasReady) return;
    void permissions.sync('runtime-restarted', lostBecause);
    // The first start of this host: what was cut, the previous host's stop (and its runtime's) cut.
    settleTasks(wasEverReady ? { reason: 'runtime-restarted', ...(lostBecause ? { detail: lostBecause } : {}) } : { reason: 'host-restarted' });
    wasEverReady = true;
  };
  const stopRemovals = devices.onRemoved((device) =>
    hub.closeDevice(device.id, closeFor('device.revoked', 'this device was removed from the host')),
  );
  /** Devices whose access changed since they last connected: their next connection reloads what the app shows. */
  const accessChanged = new Set<string>();
  const stopAccessChanges = devices.onAccessChanged((device) => {
    accessChanged.add(device.id);
    hub.closeDevice(device.id, closeFor('device.access-changed', 'the host changed what this device may do; reconnecting'));
  });

  const channelLog = log.child('channel');
  const sockets: ReturnType<typeof attachRelaySocket>[] = [];
  opts.mount((app) => sockets.push(attachRelaySocket(app, {
    log: channelLog,
    idleTimeoutSec: opts.idleTimeoutSec ?? 8,
    connect: (peer) =>
      createConnection(peer, {
        identity, offers, approvals, devices, hub, router, gate, metrics: opts.metrics, log: channelLog,
        pendingPermissions: () => permissions.pending(),
        takeAccessChange: (deviceId) => accessChanged.delete(deviceId),
        welcomeInfo: () => ({
          host: { hostId: identity.hostId, name: opts.hostName, version: opts.version, addresses: opts.addresses() },
          runtime: opts.runtimeStatus(),
        }),
      }),
  })));

  return {
    identity, offers, approvals, devices, hub, permissions, tasks, interruptions,
    newOffer() {
      const offer = offers.create();
      const addresses = opts.addresses();
      const origin = addresses[0] ?? 'http://127.0.0.1';
      return { offer, origin, link: offers.link(offer, { origin, addresses, hostName: opts.hostName }), code: offers.typedCode(offer) };
    },
    runtimeChanged,
    connectionCount: () => sockets.reduce((n, s) => n + s.count(), 0),
    close() {
      stopEvents();
      stopRemovals();
      stopAccessChanges();
      for (const s of sockets) s.closeAll(closeFor('host.shutting-down', 'the host is stopping; reconnect later'));
      approvals.close();
      offers.close();
      devices.close();
      partials.close();
      ledger.close();
    },
  };
}
