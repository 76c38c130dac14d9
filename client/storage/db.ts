/**
 * The phone's IndexedDB: paired hosts, cached sessions and transcripts (in the relay's own shapes,
 * shared/protocol/), the outbox of tasks not yet acknowledged by the host, what each computer last
 * offered the composer, and small settings (`meta`). Other modules own what goes in each
 * store; this one owns only the schema and its upgrades.
 * @module
 */
import { deleteDB, openDB, unwrap, type DBSchema, type IDBPDatabase } from 'idb';
import type { ComposerOptions } from '../../shared/protocol/composer.ts';
import type { TurnChoice } from '../../shared/protocol/requests.ts';
import type { Transcript } from '../../shared/protocol/transcript.ts';

export const DB_NAME = 'openwork-relay';
export const DB_VERSION = 4;

export interface HostRecord {
  hostId: string;
  /** What the person calls this computer; defaults to the host's name at pairing. */
  label: string;
  pairedAt: number;
  /** The host's own name, as its welcome says. */
  name: string;
  /** The host's static public key, pinned at pairing. */
  hostKey: Uint8Array;
  /**
   * This device's static X25519 key for this host (one per host). Raw bytes, not a
   * non-extractable CryptoKey: X25519 runs in JavaScript here (docs/security.md).
   */
  deviceKey: { publicKey: Uint8Array; secretKey: Uint8Array };
  deviceId: string;
  /** Base URLs to reach the host at, best first (from the pairing link, then each welcome). */
  addresses: string[];
  scopes: string[];
  workspaces: string[];
}

export interface SessionRecord {
  hostId: string;
  sessionId: string;
  title: string;
  createdAt: number;
  updatedAt: number;
  status: 'running' | 'idle' | 'failed' | 'interrupted';
  note?: string;
  directory?: string;
  parentId?: string;
}

/** A session's transcript as the host last sent it (`session.messages`). */
export interface TranscriptRecord {
  hostId: string;
  sessionId: string;
  transcript: Transcript;
}

/** A file attached to a queued task, kept with it until the host accepted the task (client/attachments/). */
export interface OutboxAttachment {
  /** The id the host keeps it under (`attachment.put`). */
  id: string;
  name: string;
  mime: string;
  size: number;
  /** SHA-256 of `blob`, lower-case hex. */
  sha256: string;
  /** The bytes to send (a photo already made smaller). */
  blob: Blob;
}

/** A task written on the phone that the host has not accepted yet (client/state/outbox.ts). */
export interface OutboxRecord {
  /** The task id the host deduplicates on, made when the task was queued and never changed. */
  key: string;
  hostId: string;
  /** Queue position: items are sent in increasing order. */
  order: number;
  /** Missing for a new task until its session is made (stored before the task is submitted). */
  sessionId?: string;
  /** Queued as a new task: its session is made at send time. */
  newSession?: boolean;
  /** The prompt, or a command's arguments (`choice.command`). */
  text: string;
  /** How it runs (agent, model, variant) or the command it is; absent: the runtime's defaults. */
  choice?: TurnChoice;
  /** Files sent to the host before the task, which then names them. */
  attachments?: OutboxAttachment[];
  createdAt: number;
  /**
   * Set before the task is handed to the host, cleared only when it certainly did not leave: the
   * host may already run it, so its text can no longer change and cancelling would not stop it.
   */
  submitted?: boolean;
  /** The host refused it in a way a plain resend cannot fix; shown with Retry and Delete. */
  failed?: { message: string; code?: string };
}

/** What a computer last offered the composer for one of its directories (client/storage/composer.ts). */
export interface ComposerOptionsRecord {
  hostId: string;
  /** The directory the runtime read them for: a session's own, or the device's first workspace. */
  directory: string;
  options: ComposerOptions;
}

export interface RelayDB extends DBSchema {
  hosts: { key: string; value: HostRecord };
  sessions: { key: [string, string]; value: SessionRecord };
  transcripts: { key: [string, string]; value: TranscriptRecord };
  outbox: { key: string; value: OutboxRecord; indexes: { byHost: string } };
  meta: { key: string; value: unknown };
  composerOptions: { key: [string, string]; value: ComposerOptionsRecord };
}

export type RelayDatabase = IDBPDatabase<RelayDB>;

/** `onGone`: the connection was closed for another tab or a reset, or by the browser. */
export function openRelayDb(onGone: () => void = () => {}): Promise<RelayDatabase> {
  return openDB<RelayDB>(DB_NAME, DB_VERSION, {
    upgrade(db, oldVersion, _newVersion, transaction) {
      // One block per version, never edited once shipped: a phone may skip several versions at once.
      if (oldVersion < 1) {
        db.createObjectStore('hosts', { keyPath: 'hostId' });
        db.createObjectStore('sessions', { keyPath: ['hostId', 'sessionId'] });
        // Removed in version 3; the typed schema no longer names it.
        unwrap(db).createObjectStore('messages', { keyPath: ['hostId', 'sessionId', 'messageId'] });
        db.createObjectStore('outbox', { keyPath: 'key' }).createIndex('byHost', 'hostId');
        db.createObjectStore('meta');
      }
      if (oldVersion < 2) {
        // Version 1 queued items had no order or state: keep them, in creation order, as queued.
        void (async () => {
          for (let cursor = await transaction.objectStore('outbox').openCursor(); cursor; cursor = await cursor.continue()) {
            const old = cursor.value as Partial<OutboxRecord>;
            if (typeof old.order !== 'number') await cursor.update({ ...cursor.value, order: old.createdAt ?? 0 });
          }
        })();
      }
      if (oldVersion < 3) {
        // Version 2 cached the runtime's own messages; transcripts are the relay's shape, refetched
        // from the host when a session opens. Hosts, the outbox and the session list are kept.
        unwrap(db).deleteObjectStore('messages');
        db.createObjectStore('transcripts', { keyPath: ['hostId', 'sessionId'] });
      }
      if (oldVersion < 4) {
        // A store of its own, added beside the others: everything stored so far stays as it was.
        db.createObjectStore('composerOptions', { keyPath: ['hostId', 'directory'] });
      }
    },
    // Another tab (or Reset app) wants to upgrade or delete the database: let it, rather than block it.
    blocking(_current, _blocked, event) {
      (event.target as IDBDatabase).close();
      onGone();
    },
    terminated: onGone,
  });
}

let shared: Promise<RelayDatabase> | undefined;

/** The app's one open connection, opened on first use and again after it was closed. */
export function relayDb(): Promise<RelayDatabase> {
  shared ??= openRelayDb(() => (shared = undefined)).catch((err: unknown) => {
    shared = undefined;
    throw err;
  });
  return shared;
}

export async function hasPairedHost(db: RelayDatabase): Promise<boolean> {
  return (await db.count('hosts')) > 0;
}

/** Deletes everything stored. Open connections in this and other tabs close themselves (see `blocking`). */
export function deleteRelayDb(): Promise<void> {
  return deleteDB(DB_NAME);
}
