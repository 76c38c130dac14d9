/**
 * The host's second line against leaking the runtime's password to devices: every message a
 * device receives passes through `redact` (host/channel/connection.ts) and loses each occurrence
 * of the password and of its basic-auth token (`base64(opencode:<password>)`, as in the
 * Authorization header and `?auth_token=`). The first line is that no process the agent starts
 * has the password in its environment (host/runtime/supervisor.ts); a command can still read it
 * from the runtime's /proc/<pid>/environ, which this catches when it is printed as is.
 * @module
 */
import { RUNTIME_USER } from './health.ts';

/** What stands where a secret was: plain ASCII, so it is valid inside any JSON string. */
export const REDACTED = '[redacted]';

/** The forms of `password` a runtime's output can carry (the token without its `=` padding, which covers both). */
export function runtimeSecrets(password: string | undefined): string[] {
  if (!password) return [];
  return [password, Buffer.from(`${RUNTIME_USER}:${password}`).toString('base64').replace(/=+$/, '')];
}

/**
 * A function that returns `bytes` (UTF-8 JSON, as encoded for a device) with every occurrence of
 * each secret replaced by `REDACTED`; `bytes` itself when none occurs (the usual case, one native
 * search per secret). Secrets are base64 text, which JSON never escapes, so a byte search finds
 * every occurrence in any string of the message.
 */
export function createRedactor(secrets: readonly string[]): (bytes: Uint8Array) => Uint8Array {
  const needles = secrets.filter((s) => s.length > 0).map((s) => Buffer.from(s));
  const replacement = Buffer.from(REDACTED);
  return (bytes) => {
    let out = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    let changed = false;
    for (const needle of needles) {
      let at = out.indexOf(needle);
      if (at < 0) continue;
      const parts: Buffer[] = [];
      let from = 0;
      while (at >= 0) {
        parts.push(out.subarray(from, at), replacement);
        from = at + needle.length;
        at = out.indexOf(needle, from);
      }
      parts.push(out.subarray(from));
      out = Buffer.concat(parts);
      changed = true;
    }
    return changed ? out : bytes;
  };
}
