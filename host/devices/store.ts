/**
 * `<data-dir>/devices.json`: the paired devices and the keys of removed ones. Written atomically
 * (temp file in the same directory, then rename) with mode 0600, so a reader — the running host
 * or the `devices`/`revoke` commands in another process — sees the old file or the new one, never
 * half of one. Every change is read-modify-write from the file on disk, so one process does not
 * overwrite what another just wrote.
 * @module
 */
import { mkdirSync } from 'node:fs';
import { readFileIfExists, writeFileAtomic } from '../files.ts';
import { isAbsolute, join } from 'node:path';
import { ProtocolError, int, list, obj, oneOf, optStr, str, strItem, type Obj } from '../../shared/protocol/guard.ts';
import { SCOPES, type Scope } from '../../shared/protocol/messages.ts';

export interface Device {
  id: string;
  name: string;
  platform: string;
  /** A phone's static X25519 public key, base64url; absent for a computer (`secretHash` instead). */
  publicKey?: string;
  /**
   * A computer's credential for OpenCode's own clients (host/compat/): the SHA-256 of its secret,
   * base64url. The secret itself is shown once and never stored.
   */
  secretHash?: string;
  /** ISO 8601 times. */
  pairedAt: string;
  lastSeen?: string;
  scopes: Scope[];
  /** The workspaces it may use (absolute paths); absent: every workspace of the host. */
  workspaces?: string[];
}

/** A removed device's key, kept so its next attempt is told "removed" instead of "unknown". */
export interface RevokedDevice {
  id: string;
  name: string;
  publicKey: string;
  revokedAt: string;
}

export interface DevicesFile {
  version: 1;
  devices: Device[];
  revoked: RevokedDevice[];
}

export const DEVICES_FILE = 'devices.json';
/** Enough to tell every recently removed device why; the oldest tombstones go first. */
const MAX_REVOKED = 1000;

export function devicesPath(dataDir: string): string {
  return join(dataDir, DEVICES_FILE);
}

export function emptyDevicesFile(): DevicesFile {
  return { version: 1, devices: [], revoked: [] };
}

/** Reads and validates the file; a missing file is an empty list. Throws with the path on corruption. */
export function readDevicesFile(dataDir: string): DevicesFile {
  const path = devicesPath(dataDir);
  const text = readFileIfExists(path);
  if (text === undefined) return emptyDevicesFile();
  try {
    return parseDevicesFile(JSON.parse(text));
  } catch (err) {
    const detail = err instanceof Error ? err.message : String(err);
    throw new Error(`${path} is corrupt (${detail}). Fix it by hand or move it away (every device will have to pair again).`);
  }
}

export function writeDevicesFile(dataDir: string, file: DevicesFile): void {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const trimmed: DevicesFile = { ...file, revoked: file.revoked.slice(-MAX_REVOKED) };
  writeFileAtomic(devicesPath(dataDir), `${JSON.stringify(trimmed, null, 2)}\n`, { mode: 0o600 });
}

/** Applies `change` to the file as it is on disk now and writes the result; returns it. */
export function updateDevicesFile(dataDir: string, change: (file: DevicesFile) => void): DevicesFile {
  const file = readDevicesFile(dataDir);
  change(file);
  writeDevicesFile(dataDir, file);
  return file;
}

const TEXT = { min: 1, max: 200 };

function parseDevicesFile(v: unknown): DevicesFile {
  const o = obj(v, 'devices.json');
  if (int(o, 'version', 'devices.json') !== 1) throw new ProtocolError('devices.json.version', 'expected 1');
  return {
    version: 1,
    devices: list(o, 'devices', 'devices.json', parseDevice, 10_000),
    revoked: list(o, 'revoked', 'devices.json', parseRevoked, 100_000),
  };
}

function parseDevice(v: unknown, path: string): Device {
  const o: Obj = obj(v, path);
  const lastSeen = optStr(o, 'lastSeen', path, { max: 40 });
  const workspaces = o.workspaces === undefined ? undefined : list(o, 'workspaces', path, strItem({ min: 1, max: 4096 }), 64);
  const id = str(o, 'id', path, TEXT);
  const name = str(o, 'name', path, TEXT);
  const platform = str(o, 'platform', path, { max: 200 });
  const publicKey = optStr(o, 'publicKey', path, { min: 43, max: 43 });
  const secretHash = optStr(o, 'secretHash', path, { min: 43, max: 43 });
  // Exactly one way to prove who it is: a phone's key or a computer's secret.
  if ((publicKey === undefined) === (secretHash === undefined)) throw new ProtocolError(`${path}.publicKey`, 'expected either publicKey or secretHash');
  return {
    id,
    name,
    platform,
    ...(publicKey ? { publicKey } : { secretHash: secretHash! }),
    pairedAt: str(o, 'pairedAt', path, { max: 40 }),
    ...(lastSeen ? { lastSeen } : {}),
    scopes: list(o, 'scopes', path, (x, p) => oneOf({ x }, 'x', p, SCOPES), SCOPES.length),
    ...(workspaces ? { workspaces } : {}),
  };
}

function parseRevoked(v: unknown, path: string): RevokedDevice {
  const o = obj(v, path);
  return {
    id: str(o, 'id', path, TEXT),
    name: str(o, 'name', path, TEXT),
    publicKey: str(o, 'publicKey', path, { min: 43, max: 43 }),
    revokedAt: str(o, 'revokedAt', path, { max: 40 }),
  };
}

export type DeviceMatch = { ok: true; device: Device } | { ok: false; reason: 'none' | 'several'; candidates: Device[] };

/**
 * Finds the one device `query` names: an exact id, else an exact name (any case), else a unique
 * prefix of an id or a name. Never guesses between several.
 */
export function matchDevice(devices: readonly Device[], query: string): DeviceMatch {
  const q = query.trim().toLowerCase();
  if (!q) return { ok: false, reason: 'none', candidates: [] };
  const tiers = [
    devices.filter((d) => d.id.toLowerCase() === q),
    devices.filter((d) => d.name.toLowerCase() === q),
    devices.filter((d) => d.id.toLowerCase().startsWith(q) || d.name.toLowerCase().startsWith(q)),
  ];
  for (const found of tiers) {
    if (found.length === 1) return { ok: true, device: found[0]! };
    if (found.length > 1) return { ok: false, reason: 'several', candidates: found };
  }
  return { ok: false, reason: 'none', candidates: [] };
}

/** Moves the matched device to the tombstones, on disk. */
export function revokeInFile(dataDir: string, query: string, now: Date = new Date()): DeviceMatch {
  const match = matchDevice(readDevicesFile(dataDir).devices, query);
  if (!match.ok) return match;
  const { device } = match;
  updateDevicesFile(dataDir, (f) => {
    f.devices = f.devices.filter((d) => d.id !== device.id);
    // A computer's secret is gone with its entry: no key to recognise it by later.
    if (!device.publicKey) return;
    f.revoked = f.revoked.filter((r) => r.publicKey !== device.publicKey);
    f.revoked.push({ id: device.id, name: device.name, publicKey: device.publicKey, revokedAt: now.toISOString() });
  });
  return match;
}

/** What may change about a paired device after approval. */
export interface DeviceAccess {
  scopes?: readonly Scope[];
  /** `null`: every workspace of the host again. */
  workspaces?: readonly string[] | null;
}

/** Changes the matched device's scopes and/or workspaces, on disk; returns the match with the updated device. */
export function setAccessInFile(dataDir: string, query: string, access: DeviceAccess): DeviceMatch {
  for (const s of access.scopes ?? []) if (!SCOPES.includes(s)) throw new RangeError(`scopes: unknown scope ${JSON.stringify(s)}; use ${SCOPES.join(', ')}`);
  for (const w of access.workspaces ?? []) if (!isAbsolute(w)) throw new RangeError(`workspaces: ${JSON.stringify(w)} is not an absolute path`);
  const match = matchDevice(readDevicesFile(dataDir).devices, query);
  if (!match.ok) return match;
  let updated: Device | undefined;
  updateDevicesFile(dataDir, (f) => {
    const device = f.devices.find((d) => d.id === match.device.id);
    if (!device) return;
    if (access.scopes) device.scopes = SCOPES.filter((s) => access.scopes!.includes(s));
    if (access.workspaces === null) delete device.workspaces;
    else if (access.workspaces) device.workspaces = [...new Set(access.workspaces)];
    updated = { ...device };
  });
  // Removed by another process between the read and the write.
  return updated ? { ok: true, device: updated } : { ok: false, reason: 'none', candidates: [] };
}
