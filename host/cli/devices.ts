/**
 * `npm start -- devices` and `npm start -- revoke <device>`: list and remove paired devices. They
 * work on `devices.json` directly, whether or not the host runs; a running host notices a removal
 * within a second and closes that device's connections.
 * @module
 */
import { readDevicesFile, revokeInFile, type Device } from '../devices/store.ts';

export interface CliIo {
  out: (text: string) => void;
  err: (text: string) => void;
  now?: () => Date;
}

export const DEVICE_COMMANDS = ['devices', 'revoke'] as const;
export type DeviceCommand = (typeof DEVICE_COMMANDS)[number];

export function isDeviceCommand(name: string | undefined): name is DeviceCommand {
  return (DEVICE_COMMANDS as readonly string[]).includes(name ?? '');
}

/** Runs one command; returns the process exit code. */
export function runDeviceCommand(command: DeviceCommand, args: readonly string[], dataDir: string, io: CliIo): number {
  try {
    return command === 'devices' ? listDevices(dataDir, io) : revokeDevice(dataDir, args, io);
  } catch (err) {
    io.err(`${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
}

function listDevices(dataDir: string, io: CliIo): number {
  const { devices } = readDevicesFile(dataDir);
  if (devices.length === 0) {
    io.out(`No paired devices (data directory ${dataDir}). Run \`npm start\` and scan the QR code to pair one.\n`);
    return 0;
  }
  io.out(formatDeviceTable(devices, clock(io)));
  return 0;
}

function revokeDevice(dataDir: string, args: readonly string[], io: CliIo): number {
  const query = args.join(' ').trim();
  if (!query) {
    io.err('Usage: npm start -- revoke <device id or name>   (see `npm start -- devices`)\n');
    return 2;
  }
  const match = revokeInFile(dataDir, query, clock(io));
  if (match.ok) {
    io.out(`Removed ${match.device.name} (${match.device.id}). A running host closes its connections within a second; ` +
      'the device must pair again to come back.\n');
    return 0;
  }
  if (match.reason === 'several') {
    io.err(`"${query}" matches ${match.candidates.length} devices; name one by its id:\n` +
      formatDeviceTable(match.candidates, clock(io)));
    return 1;
  }
  const { devices } = readDevicesFile(dataDir);
  io.err(`No paired device matches "${query}".` +
    (devices.length ? ` Known devices: ${devices.map((d) => `${d.name} (${d.id})`).join(', ')}.\n` : ' There are no paired devices.\n'));
  return 1;
}

export function formatDeviceTable(devices: readonly Device[], now: Date): string {
  const rows = [
    ['ID', 'NAME', 'PLATFORM', 'PAIRED', 'LAST SEEN', 'SCOPES'],
    ...devices.map((d) => [d.id, d.name, d.platform || '-', d.pairedAt.slice(0, 16).replace('T', ' '), ago(d.lastSeen, now), d.scopes.join(',')]),
  ];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((cell, i) => cell.padEnd(widths[i]!)).join('  ').trimEnd()).join('\n') + '\n';
}

const clock = (io: CliIo) => io.now?.() ?? new Date();

function ago(iso: string | undefined, now: Date): string {
  if (!iso) return 'never';
  const s = Math.max(0, Math.round((now.getTime() - Date.parse(iso)) / 1000));
  if (s < 60) return 'just now';
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86_400) return `${Math.floor(s / 3600)} h ago`;
  return `${Math.floor(s / 86_400)} d ago`;
}
