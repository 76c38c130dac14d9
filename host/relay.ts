/**
 * The relay, wired: the part of the host's composition that serves devices (host/app.ts starts
 * and closes it). The host key, pairing offers and approvals, the device registry, the `/relay`
 * WebSocket route, the runtime's events (and the index of facts learnt from them) fanned out to
 * every approved device, the task ledger that runs each task once, and the host's record of waiting
 * permission requests and of the agent's questions. Removing a device (here or with the `revoke` command in another process)
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
import type { Logger } from './log.ts';
import { loadOrCreateIdentity, type HostIdentity } from './identity.ts';
import { createApprovals, type Approvals } from './pairing/approvals.ts';
import { createOfferStore, type OfferStore, type OfferView } from './pairing/offers.ts';
import { openDeviceRegistry, type DeviceRegistry } from './devices/registry.ts';
import { attachRelaySocket } from './server/socket.ts';
import { createRouter } from './rpc/router.ts';
import { createPermissionGrants, type PermissionGrants, type PermissionNotice } from './rpc/permissions.ts';
import { createQuestionDesk, type QuestionDesk, type QuestionNotice } from './rpc/questions.ts';
import { openTaskLedger } from './tasks/ledger.ts';
import { createTaskService, type TaskService } from './tasks/service.ts';
import { openAttachmentStore } from './attachments/store.ts';
import { createKeyedSessions } from './tasks/keyed-sessions.ts';
import { createInterruptions, type InterruptCause, type Interruptions } from './tasks/interruptions.ts';
import { openPartialTexts } from './tasks/partials.ts';
import { closeFor } from '../shared/channel/close.ts';
import type { RuntimeStatus } from '../shared/protocol/messages.ts';
import type { Metrics } from './metrics/metrics.ts';
import type { RelayRuntimeEvent } from '../shared/protocol/runtime-events.ts';
import { createWorkspaceGate, type WorkspaceGate } from './policy/workspaces.ts';
import { createRuntimeFacts } from './runtime/facts.ts';
import type { RuntimePort } from './runtime/port.ts';
import { createConnection } from './channel/connection.ts';
import { createEventHub, type EventHub, type HubOptions } from './events/hub.ts';
import { mayReceive } from './policy/event-access.ts';
import { createPushService, type PushService, type PushServiceOptions } from './push/service.ts';

export interface RelayOptions {
  /** Adds the relay's route to the server's app, now and to every app that replaces it (TLS reload). */
  mount: (fn: (app: TemplatedApp) => void) => void;
  dataDir: string;
  hostName: string;
  version: string;
  /** Base URLs phones may reach the host at, best first; the first is the pairing link's origin. */
  addresses: () => string[];
  workspaces: string[];
  runtime: RuntimePort;
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
  /**
   * When the host's permission timeout will answer a waiting request (epoch ms; host/policy/timeouts.ts),
   * sent with it as `deadline` so devices can count down.
   */
  permissionDeadline?(requestId: string): number | undefined;
  /** Whether the host's timeout answered a request: its `permission.replied` then says `by: "timeout"`. */
  answeredByTimeout?(requestId: string): boolean;
  /** The same two for the agent's questions: their `question.rejected` says `by: "timeout"`. */
  questionDeadline?(requestId: string): number | undefined;
  dismissedByTimeout?(requestId: string): boolean;
  /** Milliseconds a socket may take to complete its handshake (default HANDSHAKE_TIMEOUT_MS, 10 s). */
  handshakeTimeoutMs?: number;
  /** Sizes of the event journal devices resume from (host/events/journal.ts). */
  journal?: HubOptions;
  /** Applied to every message a device receives (host/runtime/redact.ts). */
  redact?: (bytes: Uint8Array) => Uint8Array;
  /** Tests only: the notification sender's endpoint policy and transport (host/push/). */
  push?: Pick<PushServiceOptions, 'policy' | 'sender'>;
}

export interface Relay {
  identity: HostIdentity;
  offers: OfferStore;
  approvals: Approvals;
  devices: DeviceRegistry;
  hub: EventHub;
  permissions: PermissionGrants;
  questions: QuestionDesk;
  tasks: TaskService;
  /** Which sessions and requests each device may see, from the one index of runtime facts (also used by host/compat/). */
  gate: WorkspaceGate;
  /** Turns cut short by a runtime or host restart (host/tasks/interruptions.ts). */
  interruptions: Interruptions;
  push: PushService;
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
    hostKey: identity.publicKey,
    ttlMs: opts.offerTtlMs,
    onOutcome: (outcome) => opts.metrics.inc('pairing_attempts_total', { outcome }),
  });
  const approvals = createApprovals();
  const hub = createEventHub(opts.journal);
  /** A permission event as devices get it: a question with its deadline, an answer with who gave it. */
  const forDevices = <E extends RelayRuntimeEvent | PermissionNotice | QuestionNotice>(event: E): E => {
    if (event.type === 'permission.asked' || event.type === 'question.asked') {
      const deadline = event.type === 'permission.asked' ? opts.permissionDeadline?.(event.requestId) : opts.questionDeadline?.(event.requestId);
      return deadline === undefined ? event : { ...event, deadline };
    }
    if (event.type === 'permission.replied' && opts.answeredByTimeout?.(event.requestId)) return { ...event, by: 'timeout' };
    if (event.type === 'question.rejected' && opts.dismissedByTimeout?.(event.requestId)) return { ...event, by: 'timeout' };
    return event;
  };
  const facts = createRuntimeFacts();
  const gate = createWorkspaceGate({ runtime: opts.runtime, facts, workspaces: () => opts.workspaces });
  const push = createPushService({
    dataDir: opts.dataDir,
    hostId: identity.hostId,
    devices,
    metrics: opts.metrics,
    log: log.child('push'),
    ...opts.push,
    mayReceive: (event, device) => mayReceive(event, device, gate),
  });
  /** Every event devices get goes out here: to open connections, then to notifications for the others. */
  const publish = (event: RelayRuntimeEvent) => {
    hub.publishEvent(event);
    push.observe(event);
  };
  const permissions = createPermissionGrants(opts.runtime, log.child('permissions'), (notice) => publish({ ...forDevices(notice) }));
  const questions = createQuestionDesk(opts.runtime, log.child('questions'), (notice) => publish({ ...forDevices(notice) }));
  const ledger = openTaskLedger({ dir: join(opts.dataDir, 'tasks'), log: log.child('tasks') });
  const partials = openPartialTexts({ dir: join(opts.dataDir, 'partials'), log: log.child('tasks') });
  // An unfinished answer's stored text is empty until it ends: everyone reads what was streamed instead.
  const runtime: RuntimePort = {
    ...opts.runtime,
    messages: async (sessionId, limit, before) => partials.fill(sessionId, await opts.runtime.messages(sessionId, limit, before)),
  };
  const tasks = createTaskService({ ledger, runtime, log: log.child('tasks') });
  const attachments = openAttachmentStore({ dir: join(opts.dataDir, 'attachments'), log: log.child('attachments') });
  const sessions = createKeyedSessions({ ledger, runtime, log: log.child('sessions') });
  const interruptions = createInterruptions({
    ledger,
    runtime,
    log: log.child('tasks'),
    onInterrupted: (record) => publish({ type: 'session.interrupted', ...record }),
    onEnded: (sessionId) => publish({ type: 'session.idle', sessionId }),
  });
  /** Turns the runtime lost are found before lost tasks are sent again (which would start new turns). */
  const settleTasks = (cause: InterruptCause) =>
    void interruptions
      .check(cause)
      .catch((err: unknown) => log.warn('could not look for turns cut short; devices find them when they open their sessions', { err }))
      .finally(() => tasks.reconcile());
  const router = createRouter({
    runtime,
    tasks,
    sessions,
    permissions,
    questions,
    workspaces: () => opts.workspaces,
    runtimeStatus: opts.runtimeStatus,
    metrics: opts.metrics,
    gate,
    interruptions,
    attachments,
    push,
    log: log.child('rpc'),
  });

  const stopEvents = opts.runtime.onEvent((event) => {
    // First: the gate must know a new session's workspace before its events are delivered.
    facts.observe(event);
    partials.observe(event);
    interruptions.observe(event);
    questions.observe(event);
    if (permissions.observe(event)) publish({ ...forDevices(event) });
    if (event.type === 'runtime.reconnected') {
      void permissions.sync('withdrawn');
      void questions.sync('withdrawn');
      // An attached runtime may have restarted unseen, between two health checks.
      void interruptions.check({ reason: 'runtime-lost' }).catch((err: unknown) => log.warn('could not look for turns cut short', { err }));
    }
  });

  let runtimeState = opts.runtimeStatus();
  let wasEverReady = false;
  /** Why the runtime was last lost, for the requests that went with it. */
  let lostBecause: string | undefined;
  const restarted = (): InterruptCause => ({ reason: 'runtime-restarted', ...(lostBecause ? { detail: lostBecause } : {}) });
  // The first start of this host: what was cut, the previous host's stop (and its runtime's) cut.
  if (runtimeState.state !== 'ready') interruptions.lost({ reason: 'host-restarted' });
  const runtimeChanged = (status: RuntimeStatus) => {
    hub.broadcast({ t: 'runtime', runtime: status });
    const wasReady = runtimeState.state === 'ready';
    runtimeState = status;
    if (status.state !== 'ready') {
      // The supervisor appends the runtime's last output lines; the first line says what happened.
      if (status.error) lostBecause = status.error.split('\n', 1)[0]!.replace(/;\s*last output:?$/, '');
      if (wasEverReady) interruptions.lost(restarted());
      return;
    }
    if (wasReady) return;
    void permissions.sync('runtime-restarted', lostBecause);
    void questions.sync('runtime-restarted', lostBecause);
    settleTasks(wasEverReady ? restarted() : { reason: 'host-restarted' });
    wasEverReady = true;
  };
  const stopRemovals = devices.onRemoved((device) => hub.closeDevice(device.id, closeFor('device.revoked', 'this device was removed from the host')));
  /** Devices whose access changed since they last connected: their next connection reloads what the app shows. */
  const accessChanged = new Set<string>();
  const stopAccessChanges = devices.onAccessChanged((device) => {
    accessChanged.add(device.id);
    hub.closeDevice(device.id, closeFor('device.access-changed', 'the host changed what this device may do; reconnecting'));
  });

  const channelLog = log.child('channel');
  const sockets: ReturnType<typeof attachRelaySocket>[] = [];
  opts.mount((app) =>
    sockets.push(
      attachRelaySocket(app, {
        log: channelLog,
        idleTimeoutSec: opts.idleTimeoutSec ?? 8,
        handshakeTimeoutMs: opts.handshakeTimeoutMs,
        connect: (peer) =>
          createConnection(peer, {
            identity,
            offers,
            approvals,
            devices,
            hub,
            router,
            gate,
            metrics: opts.metrics,
            log: channelLog,
            pendingPermissions: () => permissions.pending().map(forDevices),
            pendingQuestions: () => questions.pending().map(forDevices),
            ...(opts.redact ? { redact: opts.redact } : {}),
            takeAccessChange: (deviceId) => accessChanged.delete(deviceId),
            welcomeInfo: () => ({
              host: { hostId: identity.hostId, name: opts.hostName, version: opts.version, addresses: opts.addresses() },
              runtime: opts.runtimeStatus(),
            }),
          }),
      }),
    ),
  );

  return {
    identity,
    offers,
    approvals,
    devices,
    hub,
    permissions,
    questions,
    tasks,
    gate,
    interruptions,
    push,
    newOffer() {
      const offer = offers.create();
      const addresses = opts.addresses();
      const origin = addresses[0] ?? 'http://127.0.0.1';
      return { id: offer.id, expiresAt: offer.expiresAt, origin, link: offers.link(offer, { origin, addresses, hostName: opts.hostName }), code: offers.typedCode(offer) };
    },
    runtimeChanged,
    connectionCount: () => sockets.reduce((n, s) => n + s.count(), 0),
    close() {
      stopEvents();
      stopRemovals();
      stopAccessChanges();
      for (const s of sockets) s.closeAll(closeFor('host.shutting-down', 'the host is stopping; reconnect later'));
      approvals.close();
      push.close();
      offers.close();
      devices.close();
      partials.close();
      ledger.close();
      attachments.close();
    },
  };
}
