/**
 * The answer to `metrics.get`: the host's local metrics as a paired device receives them, and the
 * parser the phone runs on it before trusting any of it. The names mirror host/metrics/table.ts
 * (which `shared/` cannot import); the host types its `snapshot()` with `MetricsSnapshot`, so a
 * counter the phone knows cannot silently disappear from what the host sends.
 *
 * The parser is lenient about what the host may add or drop over versions (an unknown counter is
 * ignored, a missing one is absent) and strict about shape: a malformed field is a ProtocolError
 * naming it.
 * @module
 */
import { ProtocolError, bool, list, obj, str, type Obj } from './guard.ts';

export const COUNTER_NAMES = [
  'connections_opened_total',
  'connection_failures_total',
  'pairing_attempts_total',
  'tasks_started_total',
  'tasks_succeeded_total',
  'tasks_failed_total',
  'tasks_aborted_total',
  'permission_prompts_total',
  'permission_answers_total',
  'reconnects_total',
  'resume_gaps_total',
  'compat_requests_total',
  'push_sends_total',
] as const;
export type CounterName = (typeof COUNTER_NAMES)[number];

export const GAUGE_NAMES = ['uptime_seconds', 'open_connections'] as const;
export type GaugeName = (typeof GAUGE_NAMES)[number];

/** Counters also kept per day, for the app's 7-day chart. */
export const DAILY_NAMES = ['connection_failures_total', 'tasks_started_total', 'tasks_succeeded_total', 'tasks_failed_total', 'tasks_aborted_total'] as const;
export type DailyName = (typeof DAILY_NAMES)[number];

export interface CounterSeries {
  /** e.g. `{ reason: 'handshake.failed' }`; `{}` for a counter without labels. */
  labels: Record<string, string>;
  value: number;
}

export interface CounterSnapshot {
  /** Sum over all label values. */
  total: number;
  series: CounterSeries[];
}

export interface DailyCounts<Counts = Record<DailyName, number>> {
  /** `YYYY-MM-DD`, a day in the host's time zone. */
  date: string;
  counts: Counts;
}

/** What `metrics.get` answers (host/metrics/metrics.ts `snapshot()`). Times are ISO 8601. */
export interface MetricsSnapshot {
  /** False when the host runs with `--no-metrics`: nothing is recorded, counters read 0, `daily` is empty. */
  enabled: boolean;
  /** When this host started counting (survives restarts). */
  since: string;
  /** When the host took this snapshot. */
  at: string;
  counters: Record<CounterName, CounterSnapshot>;
  /** A gauge the host could not read is NaN there, `null` on the wire. */
  gauges: Record<GaugeName, number | null>;
  /** The last 14 days, oldest first, every day present (zeros included); empty when disabled. */
  daily: DailyCounts[];
}

/** A snapshot after `parseMetricsSnapshot`: only what the host actually sent, all of it checked. */
export interface ReceivedMetrics {
  enabled: boolean;
  since: string;
  at: string;
  counters: Partial<Record<CounterName, CounterSnapshot>>;
  gauges: Partial<Record<GaugeName, number | null>>;
  daily: DailyCounts<Partial<Record<DailyName, number>>>[];
}

const PATH = 'metrics';
const DATE = /^\d{4}-\d{2}-\d{2}$/;
/** The host keeps 64 series per counter; leave room for a future host without trusting any size. */
const MAX_SERIES = 1000;
const MAX_DAYS = 400;
const MAX_LABELS = 8;
const LABEL = { max: 200 };

/** Checks a `metrics.get` answer; throws ProtocolError naming the first malformed field. */
export function parseMetricsSnapshot(v: unknown): ReceivedMetrics {
  const o = obj(v, PATH);
  const counters: ReceivedMetrics['counters'] = {};
  const rawCounters = obj(o.counters, `${PATH}.counters`);
  for (const name of COUNTER_NAMES) {
    if (Object.hasOwn(rawCounters, name)) counters[name] = parseCounter(rawCounters[name], `${PATH}.counters.${name}`);
  }
  const gauges: ReceivedMetrics['gauges'] = {};
  const rawGauges = obj(o.gauges, `${PATH}.gauges`);
  for (const name of GAUGE_NAMES) {
    if (!Object.hasOwn(rawGauges, name)) continue;
    const value = rawGauges[name];
    gauges[name] = value === null ? null : count(rawGauges, name, `${PATH}.gauges`);
  }
  return {
    enabled: bool(o, 'enabled', PATH),
    since: isoTime(o, 'since'),
    at: isoTime(o, 'at'),
    counters,
    gauges,
    daily: list(o, 'daily', PATH, parseDay, MAX_DAYS),
  };
}

function parseCounter(v: unknown, path: string): CounterSnapshot {
  const o = obj(v, path);
  return {
    total: count(o, 'total', path),
    series: list(
      o,
      'series',
      path,
      (s, p) => {
        const series = obj(s, p);
        return { labels: parseLabels(series.labels, `${p}.labels`), value: count(series, 'value', p) };
      },
      MAX_SERIES,
    ),
  };
}

function parseLabels(v: unknown, path: string): Record<string, string> {
  const o = obj(v, path);
  const keys = Object.keys(o);
  if (keys.length > MAX_LABELS) throw new ProtocolError(path, `has ${keys.length} labels, at most ${MAX_LABELS} allowed`);
  return Object.fromEntries(keys.map((k) => [k, str(o, k, path, LABEL)]));
}

function parseDay(v: unknown, path: string): DailyCounts<Partial<Record<DailyName, number>>> {
  const o = obj(v, path);
  const date = str(o, 'date', path, { max: 10 });
  if (!DATE.test(date)) throw new ProtocolError(`${path}.date`, `expected YYYY-MM-DD, got ${JSON.stringify(date)}`);
  const raw = obj(o.counts, `${path}.counts`);
  const counts: Partial<Record<DailyName, number>> = {};
  for (const name of DAILY_NAMES) if (Object.hasOwn(raw, name)) counts[name] = count(raw, name, `${path}.counts`);
  return { date, counts };
}

/** A counter's value: finite and never negative (the host allows fractional increments). */
function count(o: Obj, key: string, path: string): number {
  const v = o[key];
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) {
    throw new ProtocolError(`${path}.${key}`, `expected a number of 0 or more, got ${typeof v === 'number' ? v : v === null ? 'null' : typeof v}`);
  }
  return v;
}

function isoTime(o: Obj, key: string): string {
  const v = str(o, key, PATH, { min: 1, max: 40 });
  if (Number.isNaN(Date.parse(v))) throw new ProtocolError(`${PATH}.${key}`, `expected an ISO 8601 time, got ${JSON.stringify(v)}`);
  return v;
}
