/**
 * Text encodings for keys and codes in QR links and typed pairing codes: hex, base64url without
 * padding (RFC 4648 §5) and Crockford base32 (https://www.crockford.com/base32.html). Written out
 * rather than using Buffer/atob so the same code runs in Node, browsers and service workers.
 *
 * Decoders are strict (non-canonical input is rejected, so each byte string has exactly one
 * encoding) except where people type: base32 accepts lower case, reads I/L as 1 and O as 0, and
 * ignores '-' and spaces. Errors are TypeError for a non-string and RangeError naming the field
 * and position for bad content.
 * @module
 */

const HEX = '0123456789abcdef';
const BASE64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/** Crockford's decoding aliases for characters people confuse with digits. */
const CROCKFORD_ALIASES: Readonly<Record<string, string>> = { I: '1', L: '1', O: '0' };

export function toHex(bytes: Uint8Array): string {
  assertBytes(bytes);
  let out = '';
  for (const b of bytes) out += HEX[b >> 4]! + HEX[b & 15]!;
  return out;
}

/** Decodes hex (either case). */
export function fromHex(text: string, field = 'hex'): Uint8Array {
  assertString(text, field);
  if (text.length % 2 !== 0) throw new RangeError(`${field}: hex needs an even number of digits, got ${text.length}`);
  const out = new Uint8Array(text.length / 2);
  for (let i = 0; i < text.length; i++) {
    const v = HEX.indexOf(text[i]!.toLowerCase());
    if (v < 0) throw invalidChar(field, text, i, 'hex digits 0-9, a-f');
    out[i >> 1] = (out[i >> 1]! << 4) | v;
  }
  return out;
}

/** base64url without padding (RFC 4648 §5). */
export function toBase64url(bytes: Uint8Array): string {
  assertBytes(bytes);
  return encodeBits(bytes, 6, BASE64URL);
}

export function fromBase64url(text: string, field = 'base64url'): Uint8Array {
  assertString(text, field);
  const values: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const v = BASE64URL.indexOf(text[i]!);
    if (v < 0) throw invalidChar(field, text, i, 'A-Z a-z 0-9 - _ (no padding)');
    values.push(v);
  }
  return decodeBits(values, 6, field);
}

/** Crockford base32, upper case, no check symbol. */
export function toBase32(bytes: Uint8Array): string {
  assertBytes(bytes);
  return encodeBits(bytes, 5, CROCKFORD);
}

/** Decodes Crockford base32: any case, I/L read as 1, O as 0, '-' and spaces ignored. */
export function fromBase32(text: string, field = 'base32'): Uint8Array {
  assertString(text, field);
  const values: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!.toUpperCase();
    if (c === '-' || c === ' ') continue;
    const v = CROCKFORD.indexOf(CROCKFORD_ALIASES[c] ?? c);
    if (v < 0) throw invalidChar(field, text, i, 'Crockford base32: 0-9 and A-Z except U');
    values.push(v);
  }
  return decodeBits(values, 5, field);
}

// Big-endian bit packing shared by base32 and base64url; the last character is zero-padded.
function encodeBits(bytes: Uint8Array, bitsPerChar: number, alphabet: string): string {
  const mask = (1 << bitsPerChar) - 1;
  let out = '';
  let buffer = 0;
  let bits = 0;
  for (const b of bytes) {
    buffer = ((buffer << 8) | b) & 0xffff;
    bits += 8;
    while (bits >= bitsPerChar) {
      bits -= bitsPerChar;
      out += alphabet[(buffer >> bits) & mask]!;
    }
  }
  if (bits > 0) out += alphabet[(buffer << (bitsPerChar - bits)) & mask]!;
  return out;
}

function decodeBits(values: number[], bitsPerChar: number, field: string): Uint8Array {
  const totalBits = values.length * bitsPerChar;
  const padBits = totalBits % 8;
  // A canonical encoding pads fewer bits than one character holds, and pads with zeros.
  if (padBits >= bitsPerChar) {
    throw new EncodingError(field, `${values.length} characters is not a valid length (truncated or extra character?)`);
  }
  const out = new Uint8Array(Math.floor(totalBits / 8));
  let buffer = 0;
  let bits = 0;
  let o = 0;
  for (const v of values) {
    buffer = ((buffer << bitsPerChar) | v) & 0xffff;
    bits += bitsPerChar;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (buffer >> bits) & 0xff;
    }
  }
  if ((buffer & ((1 << bits) - 1)) !== 0) {
    throw new RangeError(`${field}: last character has non-zero padding bits (mistyped or truncated?)`);
  }
  return out;
}

function assertBytes(bytes: unknown): asserts bytes is Uint8Array {
  if (!(bytes instanceof Uint8Array)) throw new TypeError('bytes: expected Uint8Array');
}

function assertString(text: unknown, field: string): asserts text is string {
  if (typeof text !== 'string') throw new TypeError(`${field}: expected a string, got ${typeof text}`);
}

/** Text that is not valid in its encoding; `detail` says why without the field's name. */
export class EncodingError extends RangeError {
  constructor(
    readonly field: string,
    readonly detail: string,
  ) {
    super(`${field}: ${detail}`);
  }
}

function invalidChar(field: string, text: string, index: number, allowed: string): EncodingError {
  return new EncodingError(field, `invalid character ${JSON.stringify(text[index])} at position ${index}; allowed: ${allowed}`);
}
