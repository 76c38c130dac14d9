/**
 * Byte helpers shared by the Noise modules: input asserts, constant-time comparison, wiping.
 *
 * Kept apart from `primitives.ts` so that file stays a pure statement of the cipher suite.
 * Error classes follow noble's convention: `TypeError` for a wrong type, `RangeError` for a
 * wrong length; the message names the offending field.
 * @module
 */

/** Throws unless `value` is a Uint8Array (of exactly `length` bytes, when given). */
export function abytes(value: unknown, field: string, length?: number): asserts value is Uint8Array {
  if (!(value instanceof Uint8Array)) {
    throw new TypeError(`${field}: expected Uint8Array, got ${describe(value)}`);
  }
  if (length !== undefined && value.length !== length) {
    throw new RangeError(`${field}: expected ${length} bytes, got ${value.length}`);
  }
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'object') return value.constructor?.name ?? 'object';
  return typeof value;
}

/**
 * Compares two byte arrays in time that depends only on their lengths, so comparing a secret
 * (a key fingerprint, a MAC) does not leak how many leading bytes matched.
 */
export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  abytes(a, 'a');
  abytes(b, 'b');
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}

/** Concatenates byte arrays into a new array. */
export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  let total = 0;
  for (const p of parts) total += p.length;
  const out = new Uint8Array(total);
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

/** Overwrites secrets with zeros. JS gives no guarantee copies don't linger; this is best effort. */
export function wipe(...arrays: (Uint8Array | null | undefined)[]): void {
  for (const a of arrays) a?.fill(0);
}
