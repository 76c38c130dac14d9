/**
 * `<data-dir>/metrics.json`: the counters and daily buckets, so they survive a restart. Written
 * atomically (temp file in the same directory, then rename): a crash mid-write leaves the previous
 * file, never half of one. Entries the current metric table does not know (a renamed metric, a
 * label value no longer allowed) are dropped on load rather than failing the host.
 * @module
 */
import { mkdirSync } from 'node:fs';
import { readFileIfExists, writeFileAtomic } from '../files.ts';
import { join } from 'node:path';
import { ProtocolError, isObj, list, obj, str, type Obj } from '../../shared/protocol/guard.ts';
import { specOf, type MetricSpec } from './table.ts';

export interface StoredSeries {
  labels: Record<string, string>;
  value: number;
}

export interface StoredDay {
  /** `YYYY-MM-DD`, the host's local day. */
  date: string;
  counts: Record<string, number>;
}

export interface MetricsFile {
  version: 1;
  /** ISO 8601: when this host started counting. */
  since: string;
  counters: Record<string, StoredSeries[]>;
  daily: StoredDay[];
}

export const METRICS_FILE = 'metrics.json';

export function metricsPath(dataDir: string): string {
  return join(dataDir, METRICS_FILE);
}

/** The file's contents; `undefined` when there is none. Throws with the path when it is corrupt. */
export function readMetricsFile(dataDir: string): MetricsFile | undefined {
  const path = metricsPath(dataDir);
  const text = readFileIfExists(path);
  if (text === undefined) return undefined;
  try {
    return parseMetricsFile(JSON.parse(text));
  } catch (err) {
    throw new Error(`${path} is corrupt (${err instanceof Error ? err.message : String(err)})`);
  }
}

export function writeMetricsFile(dataDir: string, file: MetricsFile): void {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  // Counts are statistics written every few seconds: losing the last write to a power cut costs
  // seconds of counts, while an fsync each time would wear a flash card.
  writeFileAtomic(metricsPath(dataDir), `${JSON.stringify(file)}\n`, { mode: 0o600, flush: false });
}

const DATE = /^\d{4}-\d{2}-\d{2}$/;

function parseMetricsFile(v: unknown): MetricsFile {
  const o = obj(v, 'metrics.json');
  if (o.version !== 1) throw new ProtocolError('metrics.json.version', 'expected 1');
  const since = str(o, 'since', 'metrics.json', { max: 40 });
  if (Number.isNaN(Date.parse(since))) throw new ProtocolError('metrics.json.since', 'expected an ISO 8601 time');
  const counters: Record<string, StoredSeries[]> = {};
  for (const [name, series] of Object.entries(obj(o.counters, 'metrics.json.counters'))) {
    const spec = specOf(name);
    if (spec?.type !== 'counter' || !Array.isArray(series)) continue;
    counters[name] = series.flatMap((s) => {
      const parsed = parseSeries(s, spec);
      return parsed ? [parsed] : [];
    });
  }
  const daily = list(o, 'daily', 'metrics.json', (d, path) => {
    const day = obj(d, path);
    const date = str(day, 'date', path, { max: 10 });
    if (!DATE.test(date)) throw new ProtocolError(`${path}.date`, 'expected YYYY-MM-DD');
    const counts: Record<string, number> = {};
    for (const [name, n] of Object.entries(obj(day.counts, `${path}.counts`))) {
      if (specOf(name)?.daily && isCount(n)) counts[name] = n;
    }
    return { date, counts };
  });
  return { version: 1, since, counters, daily };
}

function parseSeries(v: unknown, spec: MetricSpec): StoredSeries | undefined {
  if (!isObj(v) || !isCount(v.value) || !isObj(v.labels)) return undefined;
  const labels = v.labels as Obj;
  const allowed = spec.labels ?? {};
  if (Object.keys(labels).length !== Object.keys(allowed).length) return undefined;
  for (const [key, values] of Object.entries(allowed)) {
    const value = labels[key];
    if (typeof value !== 'string' || (values !== 'any' && !values.includes(value))) return undefined;
  }
  return { labels: labels as Record<string, string>, value: v.value };
}

function isCount(n: unknown): n is number {
  return typeof n === 'number' && Number.isFinite(n) && n >= 0;
}
