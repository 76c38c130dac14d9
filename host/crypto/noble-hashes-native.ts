/**
 * What the host bundle gets in place of the `@noble/hashes` modules that shared/noise imports
 * (scripts/build-host.mjs aliases them here): the same functions on node:crypto, so the host does
 * not load noble's pure-JS hashes only to call them a few times per pairing (they held about
 * 0.5 MB of the idle host's memory). It offers only what shared/noise imports, SHA-256 alone: an
 * import of anything else fails the host's build, and another hash fails the call.
 * @module
 */
import { getRandomValues, hkdfSync } from 'node:crypto';
import { nodeBackend } from './node-backend.ts';

export const sha256 = nodeBackend.sha256;

function onlySha256(hash: unknown): void {
  if (hash !== sha256) throw new Error('the host bundle offers HMAC and HKDF with SHA-256 only (host/crypto/noble-hashes-native.ts)');
}

export function hmac(hash: unknown, key: Uint8Array, data: Uint8Array): Uint8Array {
  onlySha256(hash);
  return nodeBackend.hmacSha256(key, data);
}

/** RFC 5869; no salt means a zero-filled one, as in noble (and the RFC). */
export function hkdf(hash: unknown, ikm: Uint8Array, salt: Uint8Array | undefined, info: Uint8Array | undefined, length: number): Uint8Array {
  onlySha256(hash);
  return new Uint8Array(hkdfSync('sha256', ikm, salt ?? new Uint8Array(32), info ?? new Uint8Array(0), length));
}

export function randomBytes(length = 32): Uint8Array {
  return getRandomValues(new Uint8Array(length));
}
