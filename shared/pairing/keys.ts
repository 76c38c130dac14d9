/**
 * Values both the host and the device derive from keys and offer secrets (docs/protocol.md,
 * "Keys" and "Pairing offer"). Kept in one place so the two sides cannot drift apart.
 * @module
 */
import { concatBytes } from '../noise/bytes.ts';
import { hash } from '../noise/primitives.ts';
import { fingerprint } from '../noise/sas.ts';
import { toBase32, toBase64url } from '../encoding.ts';

const text = new TextEncoder();
const PSK_LABEL = text.encode('openwork-relay psk v1');
const CODE_ID_LABEL = text.encode('openwork-relay code id v1');

/** Characters of a typed code given to the host key's fingerprint, and to the secret (5 bits each). */
export const CODE_FINGERPRINT_CHARS = 10;
export const CODE_SECRET_CHARS = 10;

/** The host id: the first 16 Crockford base32 characters of SHA-256(host public key). */
export function hostIdOf(hostPublicKey: Uint8Array): string {
  return toBase32(fingerprint(hostPublicKey)).slice(0, 16);
}

/** The first 50 bits of SHA-256(host public key), as the 10 characters that open a typed code. */
export function codeFingerprintOf(hostPublicKey: Uint8Array): string {
  return toBase32(fingerprint(hostPublicKey)).slice(0, CODE_FINGERPRINT_CHARS);
}

/**
 * The IKpsk2 pre-shared key: SHA-256("openwork-relay psk v1" ‖ secret). The secret is the QR's
 * 32 bytes, or for a typed code the ASCII of its 10 canonical secret characters.
 */
export function pairingPsk(secret: Uint8Array): Uint8Array {
  return hash(concatBytes(PSK_LABEL, secret));
}

/** The offer id a typed code stands for: base64url(SHA-256("openwork-relay code id v1" ‖ secret))[0..16]. */
export function codeOfferId(codeSecret: string): string {
  return toBase64url(hash(concatBytes(CODE_ID_LABEL, codeSecretBytes(codeSecret)))).slice(0, 16);
}

/** A typed code's secret as the bytes the psk and the offer id are derived from. */
export function codeSecretBytes(codeSecret: string): Uint8Array {
  if (typeof codeSecret !== 'string' || !/^[0-9A-HJKMNP-TV-Z]{10}$/.test(codeSecret)) {
    throw new RangeError('codeSecret: expected 10 canonical Crockford base32 characters');
  }
  return text.encode(codeSecret);
}
