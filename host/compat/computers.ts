/**
 * Making a computer's credential for OpenCode's own clients (`npm start -- pair --computer <name>`,
 * asked of the running host over its control channel): a device entry with a fresh secret, of which
 * the host keeps only the hash, and the command lines to use it, shown once.
 * @module
 */
import type { DeviceRegistry } from '../devices/registry.ts';
import type { Scope } from '../../shared/protocol/messages.ts';
import { newSecret, secretHash } from './credentials.ts';
import { COMPAT_PATH } from './layer.ts';

export interface ComputerCredential {
  deviceId: string;
  name: string;
  /** Shown once; the host cannot show it again. */
  secret: string;
  scopes: Scope[];
  /** The layer's URLs (host URL + /opencode), best first. */
  urls: string[];
}

/** Names are shown in `devices` and logs: one line, at most 200 characters. */
export function checkComputerName(name: string): string | undefined {
  const trimmed = name.trim();
  if (!trimmed) return 'give the computer a name: npm start -- pair --computer <name>';
  if (trimmed.length > 200 || [...trimmed].some((ch) => ch.charCodeAt(0) < 32 || ch.charCodeAt(0) === 127)) return "the computer's name must be one line of at most 200 characters";
  return undefined;
}

export function makeComputerCredential(devices: Pick<DeviceRegistry, 'addComputer'>, name: string, hostUrls: readonly string[]): ComputerCredential {
  const problem = checkComputerName(name);
  if (problem) throw new RangeError(problem);
  const secret = newSecret();
  const device = devices.addComputer({ name: name.trim(), secretHash: secretHash(secret) });
  return { deviceId: device.id, name: device.name, secret, scopes: device.scopes, urls: hostUrls.map((u) => `${u.replace(/\/$/, '')}${COMPAT_PATH}`) };
}

/** What the terminal shows: the credential and the exact commands, with a warning that it is shown once. */
export function formatComputerCredential(c: ComputerCredential): string {
  const url = c.urls[0] ?? `https://<this host>${COMPAT_PATH}`;
  const auth = `-u ${c.deviceId} -p ${c.secret}`;
  return [
    `Made a credential for ${c.name} (device ${c.deviceId}; may: ${c.scopes.join(', ') || 'nothing yet'}).`,
    'Its secret is shown this once; the host keeps only a hash of it. On that computer run:',
    '',
    `  opencode attach ${url} ${auth}`,
    `  opencode run --attach ${url} ${auth} "your task"`,
    ...(c.urls.length > 1 ? ['', `Other addresses of this host: ${c.urls.slice(1).join(', ')}`] : []),
    '',
    `Or set OPENCODE_SERVER_USERNAME=${c.deviceId} and OPENCODE_SERVER_PASSWORD=<the secret> instead of -u and -p.`,
    `Limit it with npm start -- devices scopes ${c.deviceId} read,run (or devices workspaces ${c.deviceId} <dir>); remove it with npm start -- revoke ${c.deviceId}.`,
    '',
  ].join('\n');
}
