/**
 * Values people compare to detect a man in the middle: a 6-digit short authentication string
 * from the handshake hash (Noise §11.2 channel binding: h is unique to one handshake and differs
 * if anyone substituted keys), and key fingerprints.
 *
 * @module
 * @see https://noiseprotocol.org/noise.html#channel-binding Noise §11.2
 */
import { abytes } from './bytes.ts';
import { DHLEN, HASHLEN, hash, hkdfSha256 } from './primitives.ts';

const SAS_INFO = new TextEncoder().encode('openwork-relay sas v1');

/**
 * Six decimal digits, zero-padded: HKDF-SHA256(ikm = handshake hash, info = "openwork-relay sas
 * v1"), first 4 bytes as a big-endian uint32, mod 10^6. (The modulo bias, 2^32 mod 10^6 over 2^32,
 * is below 0.03% and irrelevant to a one-shot comparison.)
 */
export function verificationCode(handshakeHash: Uint8Array): string {
  abytes(handshakeHash, 'handshakeHash', HASHLEN);
  const okm = hkdfSha256(handshakeHash, SAS_INFO, 4);
  const value = new DataView(okm.buffer, okm.byteOffset, 4).getUint32(0, false);
  return String(value % 1_000_000).padStart(6, '0');
}

/** SHA-256 of a static public key: a stable identifier for a paired device. */
export function fingerprint(publicKey: Uint8Array): Uint8Array {
  abytes(publicKey, 'publicKey', DHLEN);
  return hash(publicKey);
}
