/**
 * Credentials for OpenCode's own clients (`opencode attach`, `opencode run --attach`, the SDK):
 * HTTP basic auth with the device id as the user name and a random secret as the password.
 *
 * The secret is 256 random bits, shown once; the host keeps only its SHA-256. A slow password hash
 * (scrypt, argon2) exists to make guessing a person's low-entropy password expensive; nobody can
 * guess 256 random bits however fast the hash, and SHA-256 keeps every request cheap (each one is
 * checked, an open event stream included). Hashes are compared in constant time.
 * @module
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Device } from '../devices/store.ts';

/**
 * A fresh secret: 32 random bytes, base64url (43 characters, no padding, safe on a command line).
 * Never one that starts with `-`: after `-p` a command line parser takes it for options, and
 * `opencode run --attach … -p -…` only prints its usage (one secret in 64 did).
 */
export function newSecret(): string {
  for (;;) {
    const secret = randomBytes(32).toString('base64url');
    if (!secret.startsWith('-')) return secret;
  }
}

/** What devices.json keeps of a secret. */
export function secretHash(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('base64url');
}

export interface BasicCredentials {
  user: string;
  password: string;
}

/** The user and password of an `Authorization: Basic …` header; undefined when it is not one. */
export function parseBasicAuth(header: string): BasicCredentials | undefined {
  const match = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header);
  if (!match) return undefined;
  const decoded = Buffer.from(match[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  return { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

/** Whether `password` is the secret of this computer (always false for a phone, which has none). */
export function secretMatches(device: Pick<Device, 'secretHash'>, password: string): boolean {
  if (!device.secretHash) return false;
  const expected = Buffer.from(device.secretHash, 'base64url');
  const given = createHash('sha256').update(password, 'utf8').digest();
  return expected.length === given.length && timingSafeEqual(expected, given);
}
