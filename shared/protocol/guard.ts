/**
 * Tiny validators for data that crossed a boundary (the network, IndexedDB, the runtime's event
 * stream). Each checks one field and names it in its error, so a bad message is rejected with a
 * reason a person can act on instead of failing somewhere deeper.
 * @module
 */

/** A value from outside did not have the expected shape. `path` names the offending field. */
export class ProtocolError extends Error {
  readonly code = 'protocol.invalid';
  constructor(
    readonly path: string,
    detail: string,
  ) {
    super(`${path}: ${detail}`);
    this.name = 'ProtocolError';
  }
}

export type Obj = Record<string, unknown>;

export function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function obj(v: unknown, path: string): Obj {
  if (!isObj(v)) throw new ProtocolError(path, `expected an object, got ${describe(v)}`);
  return v;
}

interface Len {
  min?: number;
  max?: number;
}

export function str(o: Obj, key: string, path: string, len: Len = {}): string {
  const v = o[key];
  if (typeof v !== 'string') throw new ProtocolError(`${path}.${key}`, `expected a string, got ${describe(v)}`);
  const { min = 0, max = 65_536 } = len;
  if (v.length < min || v.length > max) throw new ProtocolError(`${path}.${key}`, `length ${v.length} is outside ${min}..${max}`);
  return v;
}

export function optStr(o: Obj, key: string, path: string, len: Len = {}): string | undefined {
  return o[key] === undefined || o[key] === null ? undefined : str(o, key, path, len);
}

export function int(o: Obj, key: string, path: string, range: Len = {}): number {
  const v = o[key];
  const { min = Number.MIN_SAFE_INTEGER, max = Number.MAX_SAFE_INTEGER } = range;
  if (typeof v !== 'number' || !Number.isSafeInteger(v)) throw new ProtocolError(`${path}.${key}`, `expected an integer, got ${describe(v)}`);
  if (v < min || v > max) throw new ProtocolError(`${path}.${key}`, `${v} is outside ${min}..${max}`);
  return v;
}

export function optInt(o: Obj, key: string, path: string, range: Len = {}): number | undefined {
  return o[key] === undefined || o[key] === null ? undefined : int(o, key, path, range);
}

/** A finite number (times may carry fractions). */
export function num(o: Obj, key: string, path: string): number {
  const v = o[key];
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new ProtocolError(`${path}.${key}`, `expected a number, got ${describe(v)}`);
  return v;
}

export function optNum(o: Obj, key: string, path: string): number | undefined {
  return o[key] === undefined || o[key] === null ? undefined : num(o, key, path);
}

/** An object whose fields are not the relay's (a tool's input, a permission's metadata): kept as it is. */
export function record(o: Obj, key: string, path: string): Obj {
  return obj(o[key], `${path}.${key}`);
}

export function optRecord(o: Obj, key: string, path: string): Obj | undefined {
  return o[key] === undefined || o[key] === null ? undefined : record(o, key, path);
}

export function optOneOf<T extends string>(o: Obj, key: string, path: string, values: readonly T[]): T | undefined {
  return o[key] === undefined || o[key] === null ? undefined : oneOf(o, key, path, values);
}

export function bool(o: Obj, key: string, path: string): boolean {
  const v = o[key];
  if (typeof v !== 'boolean') throw new ProtocolError(`${path}.${key}`, `expected true or false, got ${describe(v)}`);
  return v;
}

export function oneOf<T extends string>(o: Obj, key: string, path: string, values: readonly T[]): T {
  const v = o[key];
  if (typeof v !== 'string' || !(values as readonly string[]).includes(v)) {
    throw new ProtocolError(`${path}.${key}`, `expected one of ${values.join(', ')}, got ${describe(v)}`);
  }
  return v as T;
}

export function list<T>(o: Obj, key: string, path: string, item: (v: unknown, path: string) => T, max = 1000): T[] {
  const v = o[key];
  if (!Array.isArray(v)) throw new ProtocolError(`${path}.${key}`, `expected a list, got ${describe(v)}`);
  if (v.length > max) throw new ProtocolError(`${path}.${key}`, `has ${v.length} items, at most ${max} allowed`);
  return v.map((x, i) => item(x, `${path}.${key}[${i}]`));
}

export function strItem(len: Len = {}) {
  return (v: unknown, path: string): string => str({ v }, 'v', path, len);
}

/** Copies only the fields that are set, so optional fields stay absent rather than `undefined`. */
export function defined<T extends object>(value: T): T {
  for (const key of Object.keys(value) as (keyof T)[]) if (value[key] === undefined) delete value[key];
  return value;
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'string') return v.length > 40 ? `a string of ${v.length} characters` : JSON.stringify(v);
  return typeof v === 'object' ? 'an object' : `${typeof v} ${String(v)}`;
}
