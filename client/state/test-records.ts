/**
 * A paired computer as the app stores it and the welcome its host sends, and a fresh app database
 * (fake-indexeddb, imported by the test), for the unit tests of the app's state and its link to
 * the host; each test overrides what it is about.
 * @module
 */
import type { Welcome } from '../../shared/channel/client.ts';
import { deleteRelayDb, openRelayDb, type HostRecord, type RelayDatabase } from '../storage/db.ts';

export function pairedHost(over: Partial<HostRecord> = {}): HostRecord {
  const key = new Uint8Array(32).fill(1);
  return {
    hostId: 'H1',
    label: 'Desk',
    name: 'desk',
    pairedAt: 1,
    hostKey: key,
    deviceKey: { publicKey: key, secretKey: key },
    deviceId: 'd1',
    addresses: ['http://desk:1'],
    scopes: ['read', 'run', 'approve'],
    workspaces: ['/w'],
    ...over,
  };
}

export function welcomeOf(over: Partial<Welcome> = {}): Welcome {
  return {
    t: 'welcome',
    host: { hostId: 'H1', name: 'desk', version: '9.9.9', addresses: ['http://desk.local:1'] },
    deviceId: 'd1',
    scopes: ['read'],
    workspaces: ['/w'],
    runtime: { state: 'ready', version: '1.18.33' },
    protocol: 1,
    epoch: 'e',
    resumed: false,
    ...over,
  };
}

/** The app's database, deleted when the test ends. */
export function freshDb(t: { after(fn: () => Promise<void>): void }): Promise<RelayDatabase> {
  const db = openRelayDb();
  t.after(async () => {
    (await db).close();
    await deleteRelayDb();
  });
  return db;
}
