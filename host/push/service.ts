/**
 * Notifications, as the relay uses them: each device's subscription and settings (the `push.*`
 * requests), which of its connections show the app on screen (`app.visibility`), and what the
 * runtime's events notify. A device gets a push only when it subscribed, turned that kind on, may
 * see the event (its scopes and workspaces, host/policy/event-access.ts) and has no connection
 * whose app is visible. One notification per session (its tag), replaced as it changes; when a
 * request it showed is answered elsewhere, a "close" push replaces it with a quiet note.
 * @module
 */
import { trimOldest } from '../../shared/bounded.ts';
import { RelayError } from '../../shared/protocol/errors.ts';
import type { PushKind, PushPayload, PushSettings, PushStatus, PushSubscriptionJson } from '../../shared/protocol/push.ts';
import type { PermissionRequest, RelayRuntimeEvent } from '../../shared/protocol/runtime-events.ts';
import type { DeviceRegistry } from '../devices/registry.ts';
import type { Device } from '../devices/store.ts';
import type { Logger } from '../log.ts';
import type { Metrics } from '../metrics/metrics.ts';
import { checkEndpoint, type EndpointPolicy } from './endpoint.ts';
import { createPushSender, type PushSender, type SenderOptions } from './sender.ts';
import { openSubscriptionStore } from './subscriptions.ts';
import { loadOrCreateVapidKeys } from './vapid.ts';

export interface PushServiceOptions {
  dataDir: string;
  hostId: string;
  /** Removing a device (here or by a command in another process) removes its subscription. */
  devices: Pick<DeviceRegistry, 'get' | 'onRemoved'>;
  /** Whether the device may see this event now (its scopes and workspaces). */
  mayReceive(event: RelayRuntimeEvent, device: Device): boolean;
  metrics: Pick<Metrics, 'inc'>;
  log: Pick<Logger, 'info' | 'warn' | 'debug'>;
  /** Tests only: admit their receiver on 127.0.0.1 (host/push/endpoint.ts). */
  policy?: EndpointPolicy;
  /** Tests: the transport, timeouts and retries of the sender. */
  sender?: Pick<SenderOptions, 'transport' | 'timeoutMs' | 'attempts' | 'backoffMs'>;
}

export interface PushService {
  status(device: Device): PushStatus;
  subscribe(device: Device, subscription: PushSubscriptionJson, settings: PushSettings): PushStatus;
  settings(device: Device, settings: PushSettings): PushStatus;
  unsubscribe(device: Device): void;
  /** `connection`: any object that stands for one live connection until `disconnected`. */
  setVisible(connection: object, deviceId: string, visible: boolean): void;
  disconnected(connection: object): void;
  /** Every event the relay publishes, after devices got it. */
  observe(event: RelayRuntimeEvent): void;
  readonly sender: Pick<PushSender, 'settled'>;
  close(): void;
}

/** Sessions and requests remembered for titles, running turns and shown notifications: far more than are live. */
const REMEMBERED = 2000;
const MAX_BODY = 300;

export function createPushService(opts: PushServiceOptions): PushService {
  const vapid = loadOrCreateVapidKeys(opts.dataDir, opts.log);
  const store = openSubscriptionStore(opts.dataDir);
  const policy = opts.policy ?? {};
  const sender = createPushSender({
    vapid,
    policy,
    metrics: opts.metrics,
    log: opts.log,
    ...opts.sender,
    onGone: (deviceId, endpoint) => {
      if (store.remove(deviceId, endpoint)) opts.log.info("the push service dropped a device's subscription; removed it", { deviceId });
    },
  });
  // Devices removed while the host was stopped, and from now on.
  for (const entry of store.all()) if (!opts.devices.get(entry.deviceId)) store.remove(entry.deviceId);
  const stopRemovals = opts.devices.onRemoved((device) => {
    if (store.remove(device.id)) opts.log.info('removed the notification subscription of a removed device', { deviceId: device.id });
  });

  const presence = new Map<object, { deviceId: string; visible: boolean }>();
  const titles = new Map<string, string>();
  /** Sessions with a turn under way (so an idle means "finished"), and those whose turn failed (so the idle after it says nothing). */
  const running = new Map<string, true>();
  const failed = new Map<string, true>();
  /** Per request: the devices shown it, so an answer elsewhere closes it there. */
  const shown = new Map<string, Set<string>>();
  const remember = <V>(map: Map<string, V>, key: string, value: V) => {
    map.set(key, value);
    trimOldest(map, REMEMBERED);
  };

  const isVisible = (deviceId: string) => [...presence.values()].some((p) => p.deviceId === deviceId && p.visible);
  const statusOf = (device: Device): PushStatus => {
    const entry = store.get(device.id);
    if (!entry) return { publicKey: vapid.publicKey };
    return { publicKey: vapid.publicKey, subscription: { endpoint: entry.subscription.endpoint, kinds: entry.kinds, private: entry.private } };
  };
  const sessionName = (sessionId: string) => titles.get(sessionId) ?? 'a session';
  const tagOf = (sessionId: string) => `${opts.hostId}:${sessionId}`;

  /** The devices a push about `event` goes to now. */
  function recipients(kind: PushKind, event: RelayRuntimeEvent) {
    return store.all().filter((entry) => {
      const device = opts.devices.get(entry.deviceId);
      return device !== undefined && entry.kinds[kind] && !isVisible(device.id) && opts.mayReceive(event, device);
    });
  }

  function notify(kind: PushKind, event: RelayRuntimeEvent, sessionId: string, text: (privately: boolean) => { title: string; body: string }, requestId?: string) {
    for (const entry of recipients(kind, event)) {
      const payload: PushPayload = { v: 1, type: 'show', kind, hostId: opts.hostId, tag: tagOf(sessionId), sessionId, ...text(entry.private), ...(requestId ? { requestId } : {}) };
      sender.send(entry, payload, kind === 'permission' ? 'high' : 'normal');
      if (requestId) {
        const devices = shown.get(requestId) ?? new Set<string>();
        devices.add(entry.deviceId);
        remember(shown, requestId, devices);
      }
    }
  }

  function closeShown(requestId: string, sessionId: string, outcome: string) {
    const devices = shown.get(requestId);
    shown.delete(requestId);
    for (const deviceId of devices ?? []) {
      const entry = store.get(deviceId);
      // An app on screen closes its notifications itself.
      if (!entry || isVisible(deviceId)) continue;
      const body = entry.private ? `In ${sessionName(sessionId)}` : `${outcome} in ${sessionName(sessionId)}`;
      sender.send(entry, { v: 1, type: 'close', hostId: opts.hostId, tag: tagOf(sessionId), sessionId, title: 'Answered', body }, 'normal');
    }
  }

  function observe(event: RelayRuntimeEvent) {
    switch (event.type) {
      case 'session.updated':
        remember(titles, event.sessionId, event.title);
        return;
      case 'session.status':
        if (event.status !== 'idle') remember(running, event.sessionId, true);
        return;
      case 'permission.asked':
        return notify(
          'permission',
          event,
          event.sessionId,
          (privately) =>
            privately
              ? { title: 'OpenWork Relay', body: `The agent needs you in ${sessionName(event.sessionId)}` }
              : { title: `Allow? · ${sessionName(event.sessionId)}`, body: clip(describe(event)) },
          event.requestId,
        );
      case 'question.asked': {
        // No Allow/Deny here: a question's answer is typed or chosen in the app, which a tap opens at the session.
        const first = event.questions[0]?.question ?? 'The agent asks you something';
        return notify('permission', event, event.sessionId, (privately) =>
          privately
            ? { title: 'OpenWork Relay', body: `The agent needs you in ${sessionName(event.sessionId)}` }
            : { title: `Question · ${sessionName(event.sessionId)}`, body: clip(first) },
        );
      }
      case 'session.interrupted':
        running.delete(event.sessionId);
        remember(failed, event.sessionId, true);
        return notify('failed', event, event.sessionId, () => ({ title: 'Task interrupted', body: `In ${sessionName(event.sessionId)}: the host or its runtime restarted` }));
      case 'permission.replied':
        return closeShown(event.requestId, event.sessionId, event.by === 'timeout' ? 'Denied (no answer in time)' : event.reply === 'reject' ? 'Denied' : 'Allowed');
      case 'permission.expired':
        return closeShown(event.requestId, event.sessionId, 'Expired');
      case 'session.error': {
        if (!event.sessionId) return;
        const sessionId = event.sessionId;
        running.delete(sessionId);
        remember(failed, sessionId, true);
        const stopped = event.kind === 'aborted';
        return notify('failed', event, sessionId, (privately) => ({
          title: stopped ? 'Task stopped' : 'Task failed',
          body: privately || stopped ? `In ${sessionName(sessionId)}` : clip(`${sessionName(sessionId)}: ${event.message}`),
        }));
      }
      case 'session.idle': {
        const wasRunning = running.delete(event.sessionId);
        if (failed.delete(event.sessionId) || !wasRunning) return;
        return notify('finished', event, event.sessionId, () => ({ title: 'Task finished', body: `In ${sessionName(event.sessionId)}` }));
      }
      default:
        return;
    }
  }

  return {
    status: statusOf,
    subscribe(device, subscription, settings) {
      checkEndpoint(subscription.endpoint, policy);
      store.set({ deviceId: device.id, subscription, ...settings });
      return statusOf(device);
    },
    settings(device, settings) {
      const entry = store.get(device.id);
      if (!entry) throw new RelayError('request.unknown', 'this device has not turned notifications on');
      store.set({ ...entry, ...settings });
      return statusOf(device);
    },
    unsubscribe: (device) => void store.remove(device.id),
    setVisible: (connection, deviceId, visible) => void presence.set(connection, { deviceId, visible }),
    disconnected: (connection) => void presence.delete(connection),
    observe(event) {
      try {
        observe(event);
      } catch (err) {
        // Notifications are extra: a fault here must never stop the relay's event flow.
        opts.log.warn('could not work out a notification', { type: event.type, err });
      }
    },
    sender,
    close() {
      stopRemovals();
      sender.close();
    },
  };
}

/** What a permission request wants, in a line: the command, the file, or the patterns. */
function describe(request: PermissionRequest): string {
  const { command, filepath, filePath } = request.metadata as Record<string, unknown>;
  if (typeof command === 'string' && command) return command;
  const file = typeof filepath === 'string' ? filepath : typeof filePath === 'string' ? filePath : undefined;
  if (file) return `${request.permission}: ${file}`;
  return request.patterns.length ? `${request.permission}: ${request.patterns.join(', ')}` : request.permission;
}

function clip(text: string): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length > MAX_BODY ? `${line.slice(0, MAX_BODY - 1)}…` : line;
}
