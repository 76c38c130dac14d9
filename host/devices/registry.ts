/**
 * The running host's view of `devices.json`. The `revoke` command runs in another process, so the
 * registry watches the file and treats every device that disappears from it as removed: listeners
 * (the channel) close that device's connections at once.
 * @module
 */
import { randomBytes } from 'node:crypto';
import { unwatchFile, watchFile } from 'node:fs';
import type { Logger } from '../log.ts';
import type { Scope } from '../../shared/protocol/messages.ts';
import { DEFAULT_SCOPES } from '../pairing/approvals.ts';
import {
  devicesPath,
  readDevicesFile,
  revokeInFile,
  setAccessInFile,
  updateDevicesFile,
  type Device,
  type DeviceAccess,
  type DeviceMatch,
  type DevicesFile,
  type RevokedDevice,
} from './store.ts';

export interface NewDevice {
  name: string;
  platform: string;
  publicKey: Uint8Array;
  scopes?: readonly Scope[];
}

/** A computer's credential for OpenCode's own clients, as `addComputer` makes it. */
export interface NewComputer {
  name: string;
  scopes?: readonly Scope[];
  /** `secretHash` of its secret (host/compat/credentials.ts). */
  secretHash: string;
}

export interface DeviceRegistry {
  list(): Device[];
  get(id: string): Device | undefined;
  byKey(publicKey: Uint8Array): Device | undefined;
  /** The tombstone of a removed device with this key, if any. */
  revokedKey(publicKey: Uint8Array): RevokedDevice | undefined;
  add(device: NewDevice): Device;
  /** Adds a computer that signs in with a secret instead of a key (host/compat/). */
  addComputer(computer: NewComputer): Device;
  /** Notes that the device connected; written to disk at most once per `seenWriteMs`. */
  seen(id: string): void;
  revoke(query: string): DeviceMatch;
  /** Changes a device's scopes and/or workspaces (the `devices scopes` command does the same from another process). */
  setAccess(query: string, access: DeviceAccess): DeviceMatch;
  /** Called for each device that was removed, by this process or another. */
  onRemoved(listener: (device: Device) => void): () => void;
  /** Called with the new entry of each device whose scopes or workspaces changed, here or in another process. */
  onAccessChanged(listener: (device: Device) => void): () => void;
  /** Re-reads the file now; the watcher does this on its own within `watchIntervalMs`. */
  reload(): void;
  /** Stops watching and writes pending last-seen times. */
  close(): void;
}

export interface RegistryOptions {
  dataDir: string;
  log: Logger;
  now?: () => Date;
  watchIntervalMs?: number;
  seenWriteMs?: number;
}

/** The `platform` of a computer using OpenCode's own clients, as `devices` lists it. */
export const COMPUTER_PLATFORM = 'opencode-client';

const b64 = (key: Uint8Array) => Buffer.from(key).toString('base64url');
const copy = (d: Device): Device => ({ ...d, scopes: [...d.scopes], ...(d.workspaces ? { workspaces: [...d.workspaces] } : {}) });
const accessKey = (d: Device) => JSON.stringify([[...d.scopes].sort(), d.workspaces ?? null]);

export function openDeviceRegistry(opts: RegistryOptions): DeviceRegistry {
  const { dataDir, log } = opts;
  const now = opts.now ?? (() => new Date());
  const path = devicesPath(dataDir);
  let state: DevicesFile = readDevicesFile(dataDir);
  const listeners = new Set<(device: Device) => void>();
  const accessListeners = new Set<(device: Device) => void>();
  const pendingSeen = new Map<string, string>();
  let seenTimer: ReturnType<typeof setTimeout> | undefined;
  let closed = false;

  /** Adopts `next` as the current state and reports every device that is gone from it. */
  const adopt = (next: DevicesFile) => {
    const kept = new Set(next.devices.map((d) => d.id));
    const removed = state.devices.filter((d) => !kept.has(d.id));
    const before = new Map(state.devices.map((d) => [d.id, accessKey(d)]));
    const changed = next.devices.filter((d) => before.has(d.id) && before.get(d.id) !== accessKey(d));
    state = next;
    for (const device of removed) {
      log.info('device removed', { device: device.id, name: device.name });
      for (const l of listeners) l(device);
    }
    for (const device of changed) {
      log.info('device access changed', { device: device.id, scopes: device.scopes, workspaces: device.workspaces ?? 'all' });
      for (const l of accessListeners) l(copy(device));
    }
  };

  const reload = () => {
    try {
      adopt(readDevicesFile(dataDir));
    } catch (err) {
      log.error('could not re-read the device list; keeping the previous one', { path, err });
    }
  };

  const flushSeen = () => {
    seenTimer = undefined;
    if (pendingSeen.size === 0) return;
    const updates = new Map(pendingSeen);
    pendingSeen.clear();
    try {
      adopt(
        updateDevicesFile(dataDir, (f) => {
          for (const d of f.devices) d.lastSeen = updates.get(d.id) ?? d.lastSeen;
        }),
      );
    } catch (err) {
      log.warn('could not record when devices were last seen', { path, err });
    }
  };

  const freshId = () => {
    const taken = new Set(state.devices.map((d) => d.id));
    let id: string;
    do id = randomBytes(6).toString('hex');
    while (taken.has(id));
    return id;
  };

  watchFile(path, { interval: opts.watchIntervalMs ?? 500, persistent: false }, reload);

  return {
    list: () => state.devices.map(copy),
    get: (id) => state.devices.find((d) => d.id === id),
    byKey(publicKey) {
      const key = b64(publicKey);
      return state.devices.find((d) => d.publicKey === key);
    },
    revokedKey(publicKey) {
      const key = b64(publicKey);
      return state.revoked.find((r) => r.publicKey === key);
    },
    add(input) {
      const key = b64(input.publicKey);
      const device: Device = {
        id: freshId(),
        name: input.name,
        platform: input.platform,
        publicKey: key,
        pairedAt: now().toISOString(),
        scopes: [...new Set(input.scopes ?? DEFAULT_SCOPES)],
      };
      adopt(
        updateDevicesFile(dataDir, (f) => {
          // A key pairs once: pairing again replaces the old entry and lifts a removal.
          f.devices = f.devices.filter((d) => d.publicKey !== key);
          f.revoked = f.revoked.filter((r) => r.publicKey !== key);
          f.devices.push(device);
        }),
      );
      return device;
    },
    addComputer(input) {
      const device: Device = {
        id: freshId(),
        name: input.name,
        platform: COMPUTER_PLATFORM,
        secretHash: input.secretHash,
        pairedAt: now().toISOString(),
        scopes: [...new Set(input.scopes ?? DEFAULT_SCOPES)],
      };
      adopt(
        updateDevicesFile(dataDir, (f) => {
          f.devices.push(device);
        }),
      );
      return device;
    },
    seen(id) {
      if (closed) return;
      pendingSeen.set(id, now().toISOString());
      seenTimer ??= setTimeout(flushSeen, opts.seenWriteMs ?? 60_000);
      seenTimer.unref();
    },
    revoke(query) {
      const match = revokeInFile(dataDir, query, now());
      reload();
      return match;
    },
    setAccess(query, access) {
      const match = setAccessInFile(dataDir, query, access);
      reload();
      return match;
    },
    onRemoved(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    onAccessChanged(listener) {
      accessListeners.add(listener);
      return () => accessListeners.delete(listener);
    },
    reload,
    close() {
      if (closed) return;
      closed = true;
      unwatchFile(path, reload);
      if (seenTimer) clearTimeout(seenTimer);
      flushSeen();
      listeners.clear();
      accessListeners.clear();
    },
  };
}
