/**
 * `npm start -- service install`: writes the service file for this platform and says which
 * commands start it. It never runs them: enabling a login service is the person's decision.
 * @module
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { launchdLogPath, launchdPlist } from './launchd.ts';
import { LAUNCHD_LABEL, SYSTEMD_UNIT, type ServiceSpec } from './spec.ts';
import { systemdUnit } from './systemd.ts';

export interface InstallOptions extends ServiceSpec {
  platform: NodeJS.Platform;
  home: string;
}

export interface InstallResult {
  manager: 'systemd' | 'launchd';
  /** The file written. */
  path: string;
  /** Whether a file was there before (its service may be running the old options). */
  replaced: boolean;
  /** Shell commands the person runs next, in order. */
  commands: string[];
  /** Hints to print after the commands. */
  notes: string[];
}

export function servicePath(platform: NodeJS.Platform, home: string): string {
  if (platform === 'linux') return join(home, '.config', 'systemd', 'user', `${SYSTEMD_UNIT}.service`);
  if (platform === 'darwin') return join(home, 'Library', 'LaunchAgents', `${LAUNCHD_LABEL}.plist`);
  throw new Error(
    `running as a service is supported on Linux (systemd) and macOS (launchd), not on ${platform}: ` +
      "start `npm start` from your system's own startup mechanism instead (see docs/service.md)",
  );
}

export function installService(opts: InstallOptions): InstallResult {
  const path = servicePath(opts.platform, opts.home);
  const linux = opts.platform === 'linux';
  const text = linux ? systemdUnit(opts) : launchdPlist(opts);
  const replaced = existsSync(path);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, text, { mode: 0o644 });
  if (linux) {
    return {
      manager: 'systemd',
      path,
      replaced,
      commands: [`systemctl --user daemon-reload && systemctl --user enable --now ${SYSTEMD_UNIT}`, ...(replaced ? [`systemctl --user restart ${SYSTEMD_UNIT}`] : [])],
      notes: [`logs: journalctl --user -u ${SYSTEMD_UNIT} -f`, 'to keep it running while you are logged out: loginctl enable-linger "$USER"'],
    };
  }
  const quoted = shellQuote(path);
  return {
    manager: 'launchd',
    path,
    replaced,
    commands: [...(replaced ? [`launchctl unload ${quoted}`] : []), `launchctl load -w ${quoted}`],
    notes: [`logs: tail -f ${shellQuote(launchdLogPath(opts.home))}`],
  };
}

/** Single-quotes a word for a POSIX shell when it needs it. */
export function shellQuote(word: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}
