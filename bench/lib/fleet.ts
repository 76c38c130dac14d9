/**
 * Devices paired ahead of time: their keys, and a data directory whose `devices.json` already
 * lists them, as if each had been approved at the host. Pairing is measured on its own (bench/
 * measure/handshakes.ts); every other measurement starts from devices that only reconnect (IK).
 * @module
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '../../host/log.ts';
import { loadOrCreateIdentity } from '../../host/identity.ts';
import { writeDevicesFile, type Device } from '../../host/devices/store.ts';
import { generateKeyPair, type KeyPair } from '../../shared/noise/primitives.ts';
import { toBase64url } from '../../shared/encoding.ts';
import { SCOPES } from '../../shared/protocol/messages.ts';

export interface BenchDevice {
  name: string;
  key: KeyPair;
}

/** Keys are slow to make with pure-JS X25519; one set serves every measurement. */
export function makeDevices(count: number): BenchDevice[] {
  return Array.from({ length: count }, (_, i) => ({ name: `bench device ${i + 1}`, key: generateKeyPair() }));
}

export interface HostData {
  dataDir: string;
  hostKey: Uint8Array;
  dispose(): void;
}

/** A fresh data directory with a host key and `devices` already paired. */
export function prepareHostData(devices: readonly BenchDevice[]): HostData {
  const dataDir = mkdtempSync(join(tmpdir(), 'relay-bench-'));
  const identity = loadOrCreateIdentity(dataDir, silentLogger);
  const pairedAt = new Date().toISOString();
  const listed: Device[] = devices.map((d, i) => ({
    id: `bench${String(i).padStart(7, '0')}`,
    name: d.name,
    platform: 'node-bench',
    publicKey: toBase64url(d.key.publicKey),
    pairedAt,
    scopes: [...SCOPES],
  }));
  writeDevicesFile(dataDir, { version: 1, devices: listed, revoked: [] });
  return { dataDir, hostKey: identity.publicKey, dispose: () => rmSync(dataDir, { recursive: true, force: true }) };
}
