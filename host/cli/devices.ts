/**
 * `npm start -- devices`, `devices scopes <device> <scopes>`, `devices workspaces <device> <dir>...`
 * and `revoke <device>`: list paired devices, change what they may do, remove them. They work on
 * `devices.json` directly, whether or not the host runs; a running host notices a change within
 * a second: it closes a removed device's connections, and checks every later request of an open
 * connection against the new scopes and workspaces.
 * @module
 */
import { statSync } from 'node:fs';
import { isAbsolute } from 'node:path';
import { SCOPES, type Scope } from '../../shared/protocol/messages.ts';
import { safeText } from '../../shared/text/safe-text.ts';
import { readDevicesFile, revokeInFile, setAccessInFile, type Device, type DeviceAccess, type DeviceMatch } from '../devices/store.ts';

export interface CliIo {
  out: (text: string) => void;
  err: (text: string) => void;
  now?: () => Date;
}

export const DEVICE_COMMANDS = ['devices', 'device-scopes', 'device-workspaces', 'revoke'] as const;
export type DeviceCommand = (typeof DEVICE_COMMANDS)[number];

export function isDeviceCommand(name: string | undefined): name is DeviceCommand {
  return (DEVICE_COMMANDS as readonly string[]).includes(name ?? '');
}

/**
 * Runs one command; returns the process exit code. `args`: for `revoke` the device; for
 * `device-scopes` the device, then scopes (comma- or space-separated; `all`, `none`); for
 * `device-workspaces` the device, then absolute directories or `all`.
 */
export function runDeviceCommand(command: DeviceCommand, args: readonly string[], dataDir: string, io: CliIo): number {
  try {
    switch (command) {
      case 'devices':
        return listDevices(dataDir, io);
      case 'revoke':
        return revokeDevice(dataDir, args, io);
      case 'device-scopes':
        return changeScopes(dataDir, args, io);
      case 'device-workspaces':
        return changeWorkspaces(dataDir, args, io);
    }
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
  if (!match.ok) return noMatch(dataDir, query, match, io);
  io.out(`Removed ${safeText(match.device.name)} (${match.device.id}). A running host closes its connections within a second; ` + 'the device must pair again to come back.\n');
  return 0;
}

/** `read,run` / `read run` / `all` / `none` → scopes; `{ error }` saying what is allowed for anything else. */
export function parseScopes(words: readonly string[]): Scope[] | { error: string } {
  const items = words
    .flatMap((w) => w.split(/[\s,]+/))
    .map((w) => w.trim().toLowerCase())
    .filter(Boolean);
  if (items.length === 1 && items[0] === 'all') return [...SCOPES];
  if (items.length === 1 && items[0] === 'none') return [];
  const unknown = items.filter((i) => !(SCOPES as readonly string[]).includes(i));
  if (unknown.length || !items.length) {
    return {
      error: `unknown scope${unknown.length === 1 ? '' : 's'} ${unknown.map((u) => `"${u}"`).join(', ') || '(none given)'}: use ${SCOPES.join(', ')} (comma-separated), all or none`,
    };
  }
  return SCOPES.filter((s) => items.includes(s));
}

function changeScopes(dataDir: string, args: readonly string[], io: CliIo): number {
  const [query, ...words] = args;
  if (!query || !words.length) {
    io.err(`Usage: npm start -- devices scopes <device id or name> <${SCOPES.join(',')} | all | none>\n`);
    return 2;
  }
  const scopes = parseScopes(words);
  if ('error' in scopes) {
    io.err(`${scopes.error}\n`);
    return 2;
  }
  return applyAccess(dataDir, query, { scopes }, io);
}

function changeWorkspaces(dataDir: string, args: readonly string[], io: CliIo): number {
  const [query, ...dirs] = args;
  if (!query || !dirs.length) {
    io.err('Usage: npm start -- devices workspaces <device id or name> <directory>... | all\n');
    return 2;
  }
  if (dirs.length === 1 && dirs[0] === 'all') return applyAccess(dataDir, query, { workspaces: null }, io);
  for (const dir of dirs) {
    const problem = !isAbsolute(dir) ? 'is not an absolute path' : !isDirectory(dir) ? 'is not an existing directory' : undefined;
    if (problem) {
      io.err(`${dir} ${problem}: name a workspace directory the host serves (its --workspace), or all\n`);
      return 2;
    }
  }
  return applyAccess(dataDir, query, { workspaces: dirs }, io);
}

function applyAccess(dataDir: string, query: string, access: DeviceAccess, io: CliIo): number {
  const match = setAccessInFile(dataDir, query, access);
  if (!match.ok) return noMatch(dataDir, query, match, io);
  const d = match.device;
  io.out(
    `${safeText(d.name)} (${d.id}) may now: ${describeScopes(d.scopes)}; workspaces: ${d.workspaces?.join(', ') || (d.workspaces ? 'none' : 'all')}. ` +
      "A running host applies this to the device's next request, within a second.\n",
  );
  return 0;
}

function describeScopes(scopes: readonly Scope[]): string {
  return scopes.length ? scopes.join(', ') : 'nothing but stay connected (no scopes)';
}

function noMatch(dataDir: string, query: string, match: Extract<DeviceMatch, { ok: false }>, io: CliIo): number {
  if (match.reason === 'several') {
    io.err(`"${query}" matches ${match.candidates.length} devices; name one by its id:\n` + formatDeviceTable(match.candidates, clock(io)));
    return 1;
  }
  const { devices } = readDevicesFile(dataDir);
  io.err(
    `No paired device matches "${query}".` +
      (devices.length ? ` Known devices: ${devices.map((d) => `${safeText(d.name)} (${d.id})`).join(', ')}.\n` : ' There are no paired devices.\n'),
  );
  return 1;
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

export function formatDeviceTable(devices: readonly Device[], now: Date): string {
  const rows = [
    ['ID', 'NAME', 'PLATFORM', 'PAIRED', 'LAST SEEN', 'SCOPES', 'WORKSPACES'],
    ...devices.map((d) => [
      d.id,
      safeText(d.name),
      safeText(d.platform) || '-',
      d.pairedAt.slice(0, 16).replace('T', ' '),
      ago(d.lastSeen, now),
      d.scopes.join(',') || 'none',
      d.workspaces ? d.workspaces.join(',') || 'none' : 'all',
    ]),
  ];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return `${rows
    .map((r) =>
      r
        .map((cell, i) => cell.padEnd(widths[i]!))
        .join('  ')
        .trimEnd(),
    )
    .join('\n')}\n`;
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
