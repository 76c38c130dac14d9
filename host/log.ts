/**
 * Host logging: readable lines for a person by default, JSON lines with `--log-format json`
 * so a service manager or log shipper can parse them.
 * @module
 */
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

function jsonLine(level: LogLevel, scope: string | undefined, msg: string, fields?: LogFields): string {
  return JSON.stringify({ time: new Date().toISOString(), level, ...(scope ? { scope } : {}), msg, ...normalise(fields) });
}

function textLine(level: LogLevel, scope: string | undefined, msg: string, fields?: LogFields): string {
  const tag = level === 'info' ? '' : `${level.toUpperCase()} `;
  const where = scope ? `[${scope}] ` : '';
  const extra = fields && Object.keys(fields).length
    ? ` ${Object.entries(normalise(fields)).map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`).join(' ')}`
    : '';
  return `${tag}${where}${msg}${extra}`;
}

/** Errors do not survive JSON.stringify; keep their message (and code) instead of `{}`. */
function normalise(fields?: LogFields): LogFields {
  if (!fields) return {};
  const out: LogFields = {};
  for (const [k, v] of Object.entries(fields)) {
    out[k] = v instanceof Error ? { message: v.message, ...((v as { code?: unknown }).code ? { code: (v as { code?: unknown }).code } : {}) } : v;
  }
  return out;
}

/** A logger that drops everything: for tests that do not look at logs. */
export const silentLogger: Logger = createLogger({ write: () => {} });
