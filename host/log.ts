/**
 * Host logging: readable lines for a person by default, JSON lines with `--log-format json`
 * so a service manager or log shipper can parse them. Every string in a line — the message and
 * each field, nested ones too — goes through safeText first: fields carry what devices and the
 * runtime sent (names, platforms, error text), and a log is read in a terminal.
 * @module
 */
import { safeText } from '../shared/text/safe-text.ts';
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type LogFields = Record<string, unknown>;
export type LogFormat = 'text' | 'json';

export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  /** A logger whose lines all carry `scope` (e.g. "runtime", "server"). */
  child(scope: string): Logger;
}

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface LoggerOptions {
  format?: LogFormat;
  level?: LogLevel;
  /** Where lines go; tests pass an array's push to capture them. */
  write?: (line: string) => void;
  scope?: string;
}

export function createLogger(opts: LoggerOptions = {}): Logger {
  const format = opts.format ?? 'text';
  const min = RANK[opts.level ?? 'info'];
  const write = opts.write ?? ((line: string) => process.stderr.write(`${line}\n`));
  const emit = (level: LogLevel, msg: string, fields?: LogFields) => {
    if (RANK[level] < min) return;
    write(format === 'json' ? jsonLine(level, opts.scope, msg, fields) : textLine(level, opts.scope, msg, fields));
  };
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
    child: (scope) => createLogger({ ...opts, scope: opts.scope ? `${opts.scope}.${scope}` : scope }),
  };
}

/** Room for a runtime's error text; a longer one is cut rather than filling the terminal. */
const LOG_TEXT_MAX = 2000;

function jsonLine(level: LogLevel, scope: string | undefined, msg: string, fields?: LogFields): string {
  return JSON.stringify({ time: new Date().toISOString(), level, ...(scope ? { scope } : {}), msg: safeText(msg, LOG_TEXT_MAX), ...normalise(fields) });
}

function textLine(level: LogLevel, scope: string | undefined, msg: string, fields?: LogFields): string {
  const tag = level === 'info' ? '' : `${level.toUpperCase()} `;
  const where = scope ? `[${scope}] ` : '';
  const extra =
    fields && Object.keys(fields).length
      ? ` ${Object.entries(normalise(fields))
          .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
          .join(' ')}`
      : '';
  return `${tag}${where}${safeText(msg, LOG_TEXT_MAX)}${extra}`;
}

/**
 * Errors do not survive JSON.stringify; keep their message (and code) instead of `{}`. Strings,
 * keys included, are made safe at any depth.
 */
function normalise(fields?: LogFields): LogFields {
  if (!fields) return {};
  return safeFields(fields, 0) as LogFields;
}

function safeFields(v: unknown, depth: number): unknown {
  if (typeof v === 'string') return safeText(v, LOG_TEXT_MAX);
  if (v instanceof Error) {
    const code = (v as { code?: unknown }).code;
    return { message: safeText(v.message, LOG_TEXT_MAX), ...(code ? { code: safeFields(code, depth + 1) } : {}) };
  }
  if (v === null || typeof v !== 'object') return v;
  // Deeper than any field the host logs (and a cycle ends here).
  if (depth > 4) return '[…]';
  if (Array.isArray(v)) return v.map((x) => safeFields(x, depth + 1));
  if (v instanceof Uint8Array || v instanceof Date) return v;
  return Object.fromEntries(Object.entries(v).map(([k, x]) => [safeText(k, 100), safeFields(x, depth + 1)]));
}

/**
 * Where log lines go while a question waits at the terminal: held, so no line lands in the middle
 * of the pairing prompt (and pushes its code out of view), and written once it is answered.
 */
export interface LogGate {
  /** The logger's `write`. */
  write(line: string): void;
  hold(): void;
  /** Writes what was held, in order, and stops holding. */
  release(): void;
}

/** At most this many lines are held; older ones are counted and said as one line. */
const MAX_HELD = 500;

export function createLogGate(write: (line: string) => void): LogGate {
  let held: string[] | undefined;
  let dropped = 0;
  return {
    write(line) {
      if (!held) return write(line);
      held.push(line);
      if (held.length > MAX_HELD) {
        held.shift();
        dropped++;
      }
    },
    hold() {
      held ??= [];
    },
    release() {
      const lines = held;
      held = undefined;
      if (dropped) write(`(${dropped} earlier log lines were left out while the prompt waited)`);
      dropped = 0;
      for (const line of lines ?? []) write(line);
    },
  };
}

/** A logger that drops everything: for tests that do not look at logs. */
export const silentLogger: Logger = createLogger({ write: () => {} });
