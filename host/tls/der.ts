/**
 * The few DER (ASN.1) encodings an X.509 certificate needs, so certificates are made in plain
 * JavaScript on node:crypto, without openssl on the machine or a certificate library.
 * Only writing: certificates are read back with node:crypto's X509Certificate.
 * @module
 */
import { isIPv4, isIPv6 } from 'node:net';

const TAG = {
  boolean: 0x01,
  integer: 0x02,
  bitString: 0x03,
  octetString: 0x04,
  oid: 0x06,
  utf8String: 0x0c,
  utcTime: 0x17,
  generalizedTime: 0x18,
  sequence: 0x30,
  set: 0x31,
} as const;

export function tlv(tag: number, content: Uint8Array): Buffer {
  const n = content.length;
  let length: number[];
  if (n < 0x80) length = [n];
  else {
    const bytes: number[] = [];
    for (let rest = n; rest > 0; rest = Math.floor(rest / 256)) bytes.unshift(rest & 0xff);
    length = [0x80 | bytes.length, ...bytes];
  }
  return Buffer.concat([Buffer.from([tag, ...length]), content]);
}

export const sequence = (...items: Uint8Array[]): Buffer => tlv(TAG.sequence, Buffer.concat(items));
export const set = (...items: Uint8Array[]): Buffer => tlv(TAG.set, Buffer.concat(items));
export const boolean = (value: boolean): Buffer => tlv(TAG.boolean, Buffer.from([value ? 0xff : 0x00]));
export const octetString = (bytes: Uint8Array): Buffer => tlv(TAG.octetString, bytes);
export const utf8String = (text: string): Buffer => tlv(TAG.utf8String, Buffer.from(text, 'utf8'));
/** `[n] EXPLICIT`: wraps a complete encoding. */
export const explicit = (n: number, content: Uint8Array): Buffer => tlv(0xa0 | n, content);
/** `[n] IMPLICIT` of a primitive type: the context tag replaces the type's own. */
export const implicit = (n: number, raw: Uint8Array): Buffer => tlv(0x80 | n, raw);

/** A non-negative INTEGER from its big-endian bytes, in the minimal two's-complement form DER demands. */
export function unsignedInteger(bytes: Uint8Array): Buffer {
  let start = 0;
  while (start < bytes.length - 1 && bytes[start] === 0) start++;
  const trimmed = bytes.subarray(start);
  return tlv(TAG.integer, trimmed[0]! & 0x80 ? Buffer.concat([Buffer.from([0]), trimmed]) : trimmed);
}

export function smallInteger(value: number): Buffer {
  if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`value: expected a non-negative integer, got ${value}`);
  const bytes: number[] = [];
  for (let rest = value; rest > 0; rest = Math.floor(rest / 256)) bytes.unshift(rest & 0xff);
  return unsignedInteger(Uint8Array.from(bytes.length ? bytes : [0]));
}

export function oid(dotted: string): Buffer {
  const arcs = dotted.split('.').map(Number);
  if (arcs.length < 2 || arcs.some((a) => !Number.isSafeInteger(a) || a < 0)) throw new RangeError(`oid: not an object identifier: ${dotted}`);
  const out = [40 * arcs[0]! + arcs[1]!];
  for (const arc of arcs.slice(2)) {
    const base128 = [arc & 0x7f];
    for (let rest = Math.floor(arc / 128); rest > 0; rest = Math.floor(rest / 128)) base128.unshift(0x80 | (rest & 0x7f));
    out.push(...base128);
  }
  return tlv(TAG.oid, Uint8Array.from(out));
}

/**
 * A BIT STRING of named bits (bit 0 is the most significant bit of the first byte), trailing zero
 * bits dropped as DER requires for KeyUsage.
 */
export function namedBits(bits: readonly number[]): Buffer {
  const bytes = new Uint8Array(Math.floor(Math.max(...bits) / 8) + 1);
  for (const bit of bits) bytes[bit >> 3]! |= 0x80 >> (bit & 7);
  const last = bytes[bytes.length - 1]!;
  let unused = 0;
  while (unused < 7 && !(last & (1 << unused))) unused++;
  return tlv(TAG.bitString, Buffer.concat([Buffer.from([unused]), bytes]));
}

/** A BIT STRING holding whole bytes, e.g. a signature. */
export const bitString = (bytes: Uint8Array): Buffer => tlv(TAG.bitString, Buffer.concat([Buffer.from([0]), bytes]));

/** RFC 5280 §4.1.2.5: UTCTime through 2049, GeneralizedTime from 2050; always whole seconds in UTC. */
export function time(date: Date): Buffer {
  const iso = date.toISOString(); // 2026-05-01T12:34:56.789Z
  const digits = iso.slice(0, 19).replace(/[-T:]/g, ''); // 20260501123456
  const year = date.getUTCFullYear();
  if (year < 1950 || year > 9999) throw new RangeError(`date: ${iso} cannot be written in a certificate`);
  return year < 2050 ? tlv(TAG.utcTime, Buffer.from(`${digits.slice(2)}Z`, 'ascii')) : tlv(TAG.generalizedTime, Buffer.from(`${digits}Z`, 'ascii'));
}

/** The 4 or 16 bytes of an IP address, as a SubjectAltName iPAddress carries them. */
export function ipBytes(ip: string): Buffer {
  if (isIPv4(ip)) return Buffer.from(ip.split('.').map(Number));
  if (!isIPv6(ip)) throw new RangeError(`ip: not an IP address: ${ip}`);
  const [head = '', tail = ''] = ip.includes('::') ? ip.split('::') : [ip, ''];
  const groups = (part: string) => (part ? part.split(':') : []).flatMap((g) => (isIPv4(g) ? v4Groups(g) : [g]));
  const front = groups(head);
  const back = ip.includes('::') ? groups(tail) : [];
  const middle = Array<string>(8 - front.length - back.length).fill('0');
  return Buffer.concat([...front, ...middle, ...back].map((g) => Buffer.from(g.padStart(4, '0'), 'hex')));
}

/** An embedded IPv4 tail (::ffff:1.2.3.4) as two hex groups. */
function v4Groups(v4: string): string[] {
  const b = v4.split('.').map(Number);
  return [((b[0]! << 8) | b[1]!).toString(16), ((b[2]! << 8) | b[3]!).toString(16)];
}
