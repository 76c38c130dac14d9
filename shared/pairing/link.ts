/**
 * The pairing offer as a person carries it to the phone: a `#pair=` link (in the QR code) or a
 * 20-character typed code. Building and parsing live together so the two sides agree; parsing
 * is strict and every refusal says what is wrong and what to do.
 * @module
 */
import { EncodingError, fromBase32, fromBase64url, toBase32, toBase64url } from '../encoding.ts';
import { ProtocolError, int, list, obj, str, strItem } from '../protocol/guard.ts';
import { CODE_FINGERPRINT_CHARS, CODE_SECRET_CHARS, codeFingerprintOf, codeOfferId, codeSecretBytes } from './keys.ts';
import { OfferError } from './offer-error.ts';

export { OfferError };

export const LINK_VERSION = 1;

/** What a QR link carries (docs/protocol.md, "Pairing offer"). */
export interface PairLink {
  hostKey: Uint8Array;
  offerId: string;
  /** 32 bytes. */
  secret: Uint8Array;
  /** Every base URL the host may be reached at, best first. */
  addresses: string[];
  hostName: string;
  /** Unix seconds. */
  expiresAt: number;
}

/** What a typed code carries; the host key is fetched, then checked against `fingerprint`. */
export interface TypedCode {
  /** 10 Crockford characters: the first 50 bits of SHA-256(host key). */
  fingerprint: string;
  /** 10 Crockford characters: the 50-bit secret. */
  secret: string;
  /** The offer id the host files this code under. */
  offerId: string;
}

const enc = new TextEncoder();
const dec = new TextDecoder('utf-8', { fatal: true });

export function buildPairLink(origin: string, link: PairLink): string {
  const json = {
    v: LINK_VERSION,
    k: toBase64url(link.hostKey),
    o: link.offerId,
    s: toBase64url(link.secret),
    a: link.addresses,
    n: link.hostName,
    x: link.expiresAt,
  };
  return `${origin.replace(/\/+$/, '')}/#pair=${toBase64url(enc.encode(JSON.stringify(json)))}`;
}

/**
 * Parses a whole link, or just its fragment (`#pair=…` or `pair=…`). Throws OfferError
 * 'malformed' or, when `now` (ms) is past its expiry, 'expired'.
 */
export function parsePairLink(text: string, now: number = Date.now()): PairLink {
  if (typeof text !== 'string') throw new TypeError('link: expected a string');
  const at = text.indexOf('pair=');
  if (at < 0) throw new OfferError('malformed', 'link', 'this is not a pairing link (no "#pair=" part); scan the QR code the host shows');
  let link: PairLink;
  try {
    const o = obj(JSON.parse(dec.decode(fromBase64url(text.slice(at + 5).trim(), 'link'))), 'link');
    if (int(o, 'v', 'link') !== LINK_VERSION) throw new ProtocolError('link.v', `version ${String(o.v)} is not supported; update the app`);
    link = {
      hostKey: key(str(o, 'k', 'link'), 'link.k'),
      offerId: str(o, 'o', 'link', { min: 1, max: 128 }),
      secret: key(str(o, 's', 'link'), 'link.s'),
      addresses: list(o, 'a', 'link', strItem({ min: 1, max: 2048 }), 64),
      hostName: str(o, 'n', 'link', { min: 1, max: 200 }),
      expiresAt: int(o, 'x', 'link', { min: 0 }),
    };
  } catch (err) {
    if (err instanceof OfferError) throw err;
    const detail = err instanceof Error ? err.message : String(err);
    throw new OfferError('malformed', 'link', `the pairing link is damaged (${detail}); scan the QR code again`);
  }
  if (link.expiresAt * 1000 <= now) {
    throw new OfferError('expired', 'link', 'this pairing offer expired; press p at the host (or run npm start -- pair) for a new one');
  }
  return link;
}

function key(text: string, field: string): Uint8Array {
  const bytes = fromBase64url(text, field);
  if (bytes.length !== 32) throw new ProtocolError(field, `expected a 32-byte key, got ${bytes.length} bytes`);
  return bytes;
}

/** `XXXX-XXXX-XXXX-XXXX-XXXX` from the host key and the 10-character secret. */
export function buildTypedCode(hostKey: Uint8Array, codeSecret: string): string {
  codeSecretBytes(codeSecret); // validates
  return (codeFingerprintOf(hostKey) + codeSecret).match(/.{4}/g)!.join('-');
}

/** Parses what a person typed: any case, with or without dashes or spaces, I/L read as 1 and O as 0. */
export function parseTypedCode(text: string): TypedCode {
  if (typeof text !== 'string') throw new TypeError('code: expected a string');
  const chars = CODE_FINGERPRINT_CHARS + CODE_SECRET_CHARS;
  const hint = `type the ${chars} characters the host shows (XXXX-XXXX-XXXX-XXXX-XXXX)`;
  const typed = text.replace(/[- ]/g, '').length;
  if (typed !== chars) throw new OfferError('malformed', 'code', `has ${typed} characters, expected ${chars}; ${hint}`);
  let canonical: string;
  try {
    // Four padding zeros make 24 characters, a whole number of bytes, so every typed bit survives.
    canonical = toBase32(fromBase32(`${text}0000`, 'code')).slice(0, chars);
  } catch (err) {
    throw new OfferError('malformed', 'code', `${err instanceof EncodingError ? err.detail : String(err)}; ${hint}`);
  }
  const secret = canonical.slice(CODE_FINGERPRINT_CHARS);
  return { fingerprint: canonical.slice(0, CODE_FINGERPRINT_CHARS), secret, offerId: codeOfferId(secret) };
}

/** Throws OfferError 'host-mismatch' unless `hostKey` is the key the typed code names. */
export function checkCodeHostKey(code: TypedCode, hostKey: Uint8Array): void {
  if (codeFingerprintOf(hostKey) !== code.fingerprint) {
    throw new OfferError('host-mismatch', 'code', 'the host that answered is not the one this code belongs to; check the address and the code');
  }
}

/** The WebSocket URL of the relay at a base address (http(s):// or ws(s)://). */
export function relaySocketUrl(address: string): string {
  const url = new URL(address);
  if (url.protocol === 'http:') url.protocol = 'ws:';
  else if (url.protocol === 'https:') url.protocol = 'wss:';
  else if (url.protocol !== 'ws:' && url.protocol !== 'wss:') throw new RangeError(`address: expected http(s):// or ws(s)://, got ${address}`);
  url.pathname = `${url.pathname.replace(/\/+$/, '')}/relay`;
  url.hash = '';
  url.search = '';
  return url.toString();
}
