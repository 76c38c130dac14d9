/**
 * Paired computers in IndexedDB, and which one is in use. A record read back is checked before
 * use: its keys go straight into the handshake.
 * @module
 */
import type { HostRecord, RelayDatabase } from './db.ts';

const ACTIVE = 'activeHost';

function isKey(v: unknown): v is Uint8Array {
  return v instanceof Uint8Array && v.length === 32;
}

function isStrings(v: unknown): v is string[] {
  return Array.isArray(v) && v.every((s) => typeof s === 'string');
}

/** A stored record, if it has everything a connection needs. */
export function validHost(v: unknown): HostRecord | undefined {
  if (typeof v !== 'object' || v === null) return undefined;
  const r = v as Partial<HostRecord>;
  const ok =
    typeof r.hostId === 'string' &&
    typeof r.label === 'string' &&
    typeof r.name === 'string' &&
    typeof r.deviceId === 'string' &&
    typeof r.pairedAt === 'number' &&
    isKey(r.hostKey) &&
    isKey(r.deviceKey?.publicKey) &&
    isKey(r.deviceKey?.secretKey) &&
    isStrings(r.addresses) &&
    isStrings(r.scopes) &&
    isStrings(r.workspaces);
  return ok ? (r as HostRecord) : undefined;
}

export async function loadHosts(db: RelayDatabase): Promise<{ hosts: HostRecord[]; activeId: string | undefined }> {
  const hosts = (await db.getAll('hosts')).flatMap((h) => validHost(h) ?? []).sort((a, b) => a.pairedAt - b.pairedAt);
  const stored = await db.get('meta', ACTIVE);
  const activeId = hosts.some((h) => h.hostId === stored) ? (stored as string) : hosts[0]?.hostId;
  return { hosts, activeId };
}

export async function saveHost(db: RelayDatabase, host: HostRecord): Promise<void> {
  await db.put('hosts', host);
}

export async function setActiveHost(db: RelayDatabase, hostId: string): Promise<void> {
  await db.put('meta', hostId, ACTIVE);
}

/** Forgets a computer: its keys, everything cached from it, and the tasks queued for it. */
export async function deleteHost(db: RelayDatabase, hostId: string): Promise<void> {
  const tx = db.transaction(['hosts', 'sessions', 'transcripts', 'outbox', 'composerOptions'], 'readwrite');
  const range = IDBKeyRange.bound([hostId], [hostId, []]);
  const queued = await tx.objectStore('outbox').index('byHost').getAllKeys(hostId);
  await Promise.all([
    tx.objectStore('hosts').delete(hostId),
    tx.objectStore('sessions').delete(range),
    tx.objectStore('transcripts').delete(range),
    tx.objectStore('composerOptions').delete(range),
    ...queued.map((key) => tx.objectStore('outbox').delete(key)),
    tx.done,
  ]);
}
