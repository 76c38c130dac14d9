/**
 * The host's local metrics: counters (kept across restarts in `<data-dir>/metrics.json`), live
 * gauges, and per-day totals for the app's 7-day chart. Nothing here is ever sent anywhere by
 * itself: paired devices get `snapshot()` when they ask, loopback scrapers get `prometheus()`.
 *
 * Recording must never break what is being recorded, so a failed write is logged and retried on
 * the next change instead of thrown. With `enabled: false` (`--no-metrics`) nothing is recorded,
 * read or written.
 * @module
 */
import { renameSync } from 'node:fs';
import type { CounterSnapshot, MetricsSnapshot } from '../../shared/protocol/metrics.ts';
import type { Logger } from '../log.ts';
import { dayKey, recentDays } from './days.ts';
import { metricsPath, readMetricsFile, writeMetricsFile, type MetricsFile, type StoredDay, type StoredSeries } from './file.ts';
import { renderExposition, type Family } from './prometheus.ts';
import { DAILY_NAMES, METRICS, METRIC_NAMES, specOf, type CounterName, type DailyName, type GaugeName, type LabelsOf, type MetricSpec } from './table.ts';

export const PROMETHEUS_PREFIX = 'openwork_';
/** Days in `snapshot().daily` (the app charts the last 7); older buckets are dropped. */
export const DAILY_DAYS = 14;
export const DEFAULT_FLUSH_MS = 5000;
/** Free-form label values (reasons) could grow without bound; past this, new ones fold into "other". */
export const MAX_SERIES_PER_METRIC = 64;
const MAX_LABEL_VALUE = 80;

export interface MetricsOptions {
  dataDir: string;
  enabled: boolean;
  log: Logger;
  /** Injected by tests; default `() => new Date()`. */
  now?: () => Date;
  /** How long a change may stay unsaved; default 5 s. */
  flushMs?: number;
}

// The wire shape lives in shared/ so the phone parses exactly what the host sends.
export type { CounterSnapshot, MetricsSnapshot };

type IncArgs<N extends CounterName> = LabelsOf<N> extends undefined ? [labels?: undefined, by?: number] : [labels: LabelsOf<N>, by?: number];

export interface Metrics {
  readonly enabled: boolean;
  /** Adds `by` (default 1) to a counter; throws TypeError/RangeError for a name, label or amount the table does not allow. */
  inc<N extends CounterName>(name: N, ...args: IncArgs<N>): void;
  /** Registers how to read a gauge now (e.g. the number of open connections); replaces an earlier reader. */
  gauge(name: GaugeName, read: () => number): void;
  snapshot(): MetricsSnapshot;
  prometheus(): string;
  /** Writes unsaved changes now. */
  flush(): void;
  /** Writes unsaved changes and stops: later `inc` calls are ignored. */
  close(): void;
}

export function createMetrics(opts: MetricsOptions): Metrics {
  const { dataDir, enabled, log } = opts;
  const now = opts.now ?? (() => new Date());
  const flushMs = opts.flushMs ?? DEFAULT_FLUSH_MS;
  const startedAt = now().getTime();
  const loaded = enabled ? load(dataDir, log) : undefined;
  const since = loaded?.since ?? new Date(startedAt).toISOString();
  /** metric → series key → series */
  const counters = new Map<string, Map<string, StoredSeries>>();
  for (const [name, list] of Object.entries(loaded?.counters ?? {})) {
    counters.set(name, new Map(list.map((s) => [seriesKey(specOf(name)!, s.labels), s])));
  }
  let daily: StoredDay[] = loaded?.daily ?? [];
  const gauges = new Map<GaugeName, () => number>([['uptime_seconds', () => Math.floor((now().getTime() - startedAt) / 1000)]]);
  let dirty = false;
  let closed = false;
  let timer: NodeJS.Timeout | undefined;
  const warned = new Set<string>();

  const save = () => {
    if (timer) clearTimeout(timer);
    timer = undefined;
    if (!enabled || !dirty) return;
    try {
      writeMetricsFile(dataDir, toFile());
      dirty = false;
    } catch (err) {
      log.warn('could not save metrics; will retry on the next change', { path: metricsPath(dataDir), err });
    }
  };

  const toFile = (): MetricsFile => ({
    version: 1,
    since,
    counters: Object.fromEntries([...counters].map(([name, series]) => [name, [...series.values()]])),
    daily,
  });

  const addDaily = (name: string, by: number) => {
    const date = dayKey(now());
    let bucket = daily.find((d) => d.date === date);
    if (!bucket) {
      const oldest = recentDays(now(), DAILY_DAYS)[0]!;
      daily = daily.filter((d) => d.date >= oldest);
      bucket = { date, counts: {} };
      daily.push(bucket);
    }
    bucket.counts[name] = (bucket.counts[name] ?? 0) + by;
  };

  const readGauge = (name: GaugeName): number => {
    const read = gauges.get(name);
    if (!read) return NaN;
    try {
      return read();
    } catch (err) {
      if (!warned.has(name)) log.warn('a metrics gauge could not be read', { gauge: name, err });
      warned.add(name);
      return NaN;
    }
  };

  const counterSnapshot = (name: CounterName): CounterSnapshot => {
    const series = enabled ? [...(counters.get(name)?.values() ?? [])].map((s) => ({ labels: { ...s.labels }, value: s.value })) : [];
    return { total: series.reduce((sum, s) => sum + s.value, 0), series };
  };

  return {
    enabled,
    inc(name, ...[labels, by = 1]) {
      const spec = specOf(name);
      if (spec?.type !== 'counter') throw new TypeError(`metrics: ${String(name)} is not a counter in the metric table`);
      if (!Number.isFinite(by) || by < 0) throw new RangeError(`metrics: ${name} can only grow; got by=${by}`);
      let checked = checkLabels(name, spec, labels as Record<string, string> | undefined);
      if (!enabled || closed) return;
      let series = counters.get(name);
      if (!series) {
        series = new Map();
        counters.set(name, series);
      }
      let key = seriesKey(spec, checked);
      if (!series.has(key) && series.size >= MAX_SERIES_PER_METRIC) {
        checked = foldFreeLabels(spec, checked);
        key = seriesKey(spec, checked);
      }
      const entry = series.get(key);
      if (entry) entry.value += by;
      else series.set(key, { labels: checked, value: by });
      if (spec.daily) addDaily(name, by);
      dirty = true;
      timer ??= setTimeout(save, flushMs).unref();
    },
    gauge(name, read) {
      if (specOf(name)?.type !== 'gauge') throw new TypeError(`metrics: ${String(name)} is not a gauge in the metric table`);
      gauges.set(name, read);
      warned.delete(name);
    },
    snapshot() {
      const at = now();
      const days = new Map(daily.map((d) => [d.date, d.counts]));
      return {
        enabled,
        since,
        at: at.toISOString(),
        counters: Object.fromEntries(counterNames().map((n) => [n, counterSnapshot(n)])) as Record<CounterName, CounterSnapshot>,
        gauges: Object.fromEntries(gaugeNames().map((n) => [n, readGauge(n)])) as Record<GaugeName, number>,
        daily: enabled
          ? recentDays(at, DAILY_DAYS).map((date) => ({
              date,
              counts: Object.fromEntries(DAILY_NAMES.map((n) => [n, days.get(date)?.[n] ?? 0])) as Record<DailyName, number>,
            }))
          : [],
      };
    },
    prometheus() {
      const families: Family[] = [];
      for (const name of METRIC_NAMES) {
        const spec: MetricSpec = METRICS[name];
        let samples: Family['samples'];
        if (spec.type === 'gauge') samples = [{ labels: {}, value: readGauge(name as GaugeName) }];
        else if (!enabled) continue;
        else {
          const series = counterSnapshot(name as CounterName).series;
          // A counter without labels reads 0 before its first event; a labelled one has no series yet.
          samples = series.length || spec.labels ? series : [{ labels: {}, value: 0 }];
        }
        families.push({ name: PROMETHEUS_PREFIX + name, type: spec.type, help: spec.help, samples });
      }
      return renderExposition(families);
    },
    flush: save,
    close() {
      if (closed) return;
      save();
      closed = true;
    },
  };
}

function counterNames(): CounterName[] {
  return METRIC_NAMES.filter((n) => METRICS[n].type === 'counter') as CounterName[];
}

function gaugeNames(): GaugeName[] {
  return METRIC_NAMES.filter((n) => METRICS[n].type === 'gauge') as GaugeName[];
}

function load(dataDir: string, log: Logger): MetricsFile | undefined {
  try {
    return readMetricsFile(dataDir);
  } catch (err) {
    const path = metricsPath(dataDir);
    const aside = `${path}.corrupt`;
    try {
      renameSync(path, aside);
    } catch {
      // Unreadable and unmovable: the next save replaces it.
    }
    log.warn('metrics file unreadable; starting from zero (the old file was moved aside)', { path, aside, err });
    return undefined;
  }
}

/** Returns the labels in table order, values trimmed to a sane length; throws for missing, extra or disallowed labels. */
function checkLabels(name: string, spec: MetricSpec, labels: Record<string, string> | undefined): Record<string, string> {
  const allowed = spec.labels ?? {};
  const given = labels ?? {};
  for (const key of Object.keys(given)) {
    if (!Object.hasOwn(allowed, key)) throw new TypeError(`metrics: ${name} has no label ${JSON.stringify(key)}`);
  }
  const out: Record<string, string> = {};
  for (const [key, values] of Object.entries(allowed)) {
    const value = given[key];
    if (typeof value !== 'string') throw new TypeError(`metrics: ${name} needs the label ${key}`);
    if (values !== 'any' && !values.includes(value)) {
      throw new TypeError(`metrics: ${name} label ${key} must be one of ${values.join(', ')}; got ${JSON.stringify(value)}`);
    }
    out[key] = value.slice(0, MAX_LABEL_VALUE) || 'unknown';
  }
  return out;
}

function foldFreeLabels(spec: MetricSpec, labels: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(labels).map(([k, v]) => [k, spec.labels?.[k] === 'any' ? 'other' : v]));
}

function seriesKey(spec: MetricSpec, labels: Record<string, string>): string {
  return JSON.stringify(Object.keys(spec.labels ?? {}).map((k) => labels[k]));
}
