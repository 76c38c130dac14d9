/**
 * A launchd agent (`~/Library/LaunchAgents/dev.openwork.relay.plist`) that starts the host at login
 * and starts it again when it exits with an error. launchd runs the argument list as is (no shell),
 * so only XML escaping is needed.
 * @module
 */
import { join } from 'node:path';
import { LAUNCHD_LABEL, checkSpec, commandLine, type ServiceSpec } from './spec.ts';

export function launchdLogPath(home: string): string {
  return join(home, 'Library', 'Logs', 'openwork-relay.log');
}

export function launchdPlist(spec: ServiceSpec & { home: string }): string {
  checkSpec(spec);
  const log = launchdLogPath(spec.home);
  const str = (s: string) => `<string>${xml(s)}</string>`;
  const lines = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">',
    // An XML comment may not contain "--", so the command is spelled out in words.
    '<!-- Written by the OpenWork Relay service install command; run it again to change options. -->',
    '<plist version="1.0">',
    '<dict>',
    '  <key>Label</key>',
    `  ${str(LAUNCHD_LABEL)}`,
    '  <key>ProgramArguments</key>',
    '  <array>',
    ...commandLine(spec).map((a) => `    ${str(a)}`),
    '  </array>',
    '  <key>WorkingDirectory</key>',
    `  ${str(spec.projectDir)}`,
    '  <key>EnvironmentVariables</key>',
    '  <dict>',
    ...Object.entries(spec.env).flatMap(([k, v]) => [`    <key>${xml(k)}</key>`, `    ${str(v)}`]),
    '  </dict>',
    '  <key>RunAtLoad</key>',
    '  <true/>',
    // Start again after a crash, but not after a clean stop (Ctrl-C, launchctl unload).
    '  <key>KeepAlive</key>',
    '  <dict>',
    '    <key>SuccessfulExit</key>',
    '    <false/>',
    '  </dict>',
    '  <key>ThrottleInterval</key>',
    '  <integer>5</integer>',
    '  <key>StandardOutPath</key>',
    `  ${str(log)}`,
    '  <key>StandardErrorPath</key>',
    `  ${str(log)}`,
    '</dict>',
    '</plist>',
    '',
  ];
  return lines.join('\n');
}

function xml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');
}
