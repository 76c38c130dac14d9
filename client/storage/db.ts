/**
 * The phone's IndexedDB: paired hosts, cached sessions and messages, the outbox of tasks not yet
 * acknowledged by the host, and small settings (`meta`). Other modules own what goes in each
 * store; this one owns only the schema and its upgrades.
 * @module
 */
import { deleteDB, openDB, type DBSchema, type IDBPDatabase } from 'idb';

export const DB_NAME = 'openwork-relay';
export const DB_VERSION = 1;

export interface HostRecord {
  hostId: string;
  /** What the person calls this computer; defaults to the host's name at pairing. */
  label: string;
  pairedAt: number;
}

export interface SessionRecord {
  hostId: string;
  sessionId: string;
  title: string;
  updatedAt: number;
}

export interface MessageRecord {
  hostId: string;
  sessionId: string;
  /** OpenCode message ids sort by creation time, so the primary key orders a session's messages. */
  messageId: string;
  body: unknown;
}

export interface OutboxRecord {
  /** Idempotency key: sortable, so key order is submission order; the host's ack names it. */
  key: string;
  hostId: string;
  sessionId: string;
  text: string;
  createdAt: number;
}

export interface RelayDB extends DBSchema {
  hosts: { key: string; value: HostRecord };
  sessions: { key: [string, string]; value: SessionRecord };
  messages: { key: [string, string, string]; value: MessageRecord };
  outbox: { key: string; value: OutboxRecord; indexes: { byHost: string } };
  meta: { key: string; value: unknown };
}

export type RelayDatabase = IDBPDatabase<RelayDB>;

export function openRelayDb(): Promise<RelayDatabase> {
  return openDB<RelayDB>(DB_NAME, DB_VERSION, {
    upgrade(db, oldVersion) {
      // One block per version, never edited once shipped: a phone may skip several versions at once.
      if (oldVersion < 1) {
        db.createObjectStore('hosts', { keyPath: 'hostId' });
        db.createObjectStore('sessions', { keyPath: ['hostId', 'sessionId'] });
        db.createObjectStore('messages', { keyPath: ['hostId', 'sessionId', 'messageId'] });
        db.createObjectStore('outbox', { keyPath: 'key' }).createIndex('byHost', 'hostId');
        db.createObjectStore('meta');
      }
    },
    // Another tab (or Reset app) wants to upgrade or delete the database: let it, rather than block it.
    blocking(_current, _blocked, event) {
      (event.target as IDBDatabase).close();
    },
  });
}

export async function hasPairedHost(db: RelayDatabase): Promise<boolean> {
  return (await db.count('hosts')) > 0;
}

/** Deletes everything stored. Open connections in this and other tabs close themselves (see `blocking`). */
export function deleteRelayDb(): Promise<void> {
  return deleteDB(DB_NAME);
}
