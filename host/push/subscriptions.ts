/**
 * Each device's push subscription and notification settings, in
 * `<data-dir>/push-subscriptions.json` (0600: an endpoint and its keys let anyone send to that
 * phone). Only the running host writes it; an entry goes when the device turns notifications off,
 * when the device is removed, and when the push service says the subscription is gone (404/410).
 * @module
 */
import { join } from 'node:path';
import { list, obj, str } from '../../shared/protocol/guard.ts';
import { parsePushSettings, parsePushSubscription, type PushSettings, type PushSubscriptionJson } from '../../shared/protocol/push.ts';
import { readFileIfExists, writeFileAtomic } from '../files.ts';

export const SUBSCRIPTIONS_FILE = 'push-subscriptions.json';

export type StoredSubscription = { deviceId: string; subscription: PushSubscriptionJson } & PushSettings;

export interface SubscriptionStore {
  get(deviceId: string): StoredSubscription | undefined;
  all(): StoredSubscription[];
  set(entry: StoredSubscription): void;
  /** Removes the device's entry; with `endpoint`, only while it is still that one (a device may have subscribed anew meanwhile). */
  remove(deviceId: string, endpoint?: string): boolean;
}

export function openSubscriptionStore(dataDir: string): SubscriptionStore {
  const path = join(dataDir, SUBSCRIPTIONS_FILE);
  const entries = new Map<string, StoredSubscription>(read(path).map((e) => [e.deviceId, e]));
  const save = () => writeFileAtomic(path, `${JSON.stringify({ version: 1, devices: [...entries.values()] }, null, 2)}\n`, { mode: 0o600 });
  return {
    get: (deviceId) => entries.get(deviceId),
    all: () => [...entries.values()],
    set(entry) {
      entries.set(entry.deviceId, entry);
      save();
    },
    remove(deviceId, endpoint) {
      const entry = entries.get(deviceId);
      if (!entry || (endpoint !== undefined && entry.subscription.endpoint !== endpoint)) return false;
      entries.delete(deviceId);
      save();
      return true;
    },
  };
}

function read(path: string): StoredSubscription[] {
  const text = readFileIfExists(path);
  if (text === undefined) return [];
  try {
    return list(
      obj(JSON.parse(text), path),
      'devices',
      path,
      (v, p) => {
        const o = obj(v, p);
        return { deviceId: str(o, 'deviceId', p, { min: 1, max: 128 }), subscription: parsePushSubscription(o.subscription, `${p}.subscription`), ...parsePushSettings(o, p) };
      },
      10_000,
    );
  } catch (err) {
    throw new Error(`${path} is damaged (${(err as Error).message}); remove it and start again (each device then turns notifications on again)`);
  }
}
