import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { COUNTER_NAMES, DAILY_NAMES, GAUGE_NAMES } from '../../shared/protocol/metrics.ts';
import { METRICS, METRIC_NAMES } from './table.ts';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger, silentLogger } from '../log.ts';
import { dayKey, recentDays } from './days.ts';
import { metricsPath } from './file.ts';
import { DAILY_DAYS, MAX_SERIES_PER_METRIC, createMetrics, type Metrics } from './metrics.ts';
import { parseExposition } from '../../test-support/prometheus.ts';

const root = mkdtempSync(join(tmpdir(), 'openwork-metrics-'));
const opened: Metrics[] = [];
after(() => {
  for (const m of opened) m.close();
  rmSync(root, { recursive: true, force: true });
});

let dirs = 0;
function fresh(opts: { enabled?: boolean; now?: () => Date; dataDir?: string; flushMs?: number } = {}) {
  const dataDir = opts.dataDir ?? join(root, `d${dirs++}`);
  const m = createMetrics({ dataDir, enabled: opts.enabled ?? true, log: silentLogger, now: opts.now, flushMs: opts.flushMs });
  opened.push(m);
  return { m, dataDir };
}

/** A clock the test moves by hand. */
function clock(start: Date) {
  let t = start.getTime();
  return { now: () => new Date(t), set: (d: Date) => (t = d.getTime()), advance: (ms: number) => (t += ms) };
}

test('counters move as events happen, with their labels', () => {
  const { m } = fresh();
  m.inc('connections_opened_total');
  m.inc('connections_opened_total');
  m.inc('tasks_failed_total', { reason: 'runtime.error' });
  m.inc('tasks_failed_total', { reason: 'runtime.error' }, 2);
  m.inc('tasks_failed_total', { reason: 'permission.timeout' });
  m.inc('pairing_attempts_total', { outcome: 'approved' });
  m.inc('permission_answers_total', { answer: 'timeout' });
  const s = m.snapshot();
  assert.equal(s.counters.connections_opened_total.total, 2);
  assert.equal(s.counters.tasks_failed_total.total, 4);
  assert.deepEqual(
    s.counters.tasks_failed_total.series.sort((a, b) => a.value - b.value),
    [
      { labels: { reason: 'permission.timeout' }, value: 1 },
      { labels: { reason: 'runtime.error' }, value: 3 },
    ],
  );
  assert.deepEqual(s.counters.pairing_attempts_total.series, [{ labels: { outcome: 'approved' }, value: 1 }]);
  assert.equal(s.counters.permission_answers_total.total, 1);
  assert.equal(s.counters.tasks_started_total.total, 0);
  assert.equal(s.enabled, true);
});

test('the metric table refuses unknown names, labels and values, and shrinking counters', () => {
  const { m } = fresh();
  // @ts-expect-error: not in the table
  assert.throws(() => m.inc('tasks_startd_total'), TypeError);
  // @ts-expect-error: a gauge is not a counter
  assert.throws(() => m.inc('open_connections'), TypeError);
  // @ts-expect-error: an outcome the table does not list
  assert.throws(() => m.inc('pairing_attempts_total', { outcome: 'maybe' }), TypeError);
  // @ts-expect-error: the reason label is required
  assert.throws(() => m.inc('tasks_failed_total'), TypeError);
  assert.throws(() => m.inc('tasks_failed_total', { reason: 'x', extra: 'y' } as { reason: string }), TypeError);
  assert.throws(() => m.inc('tasks_started_total', undefined, -1), RangeError);
  assert.throws(() => m.inc('tasks_started_total', undefined, NaN), RangeError);
  // @ts-expect-error: a counter is not a gauge
  assert.throws(() => m.gauge('tasks_started_total', () => 1), TypeError);
  assert.equal(m.snapshot().counters.pairing_attempts_total.total, 0, 'nothing was counted');
});

test('gauges read live values; uptime comes from the clock', () => {
  const c = clock(new Date(2025, 5, 1, 12));
  const { m } = fresh({ now: c.now });
  let open = 3;
  m.gauge('open_connections', () => open);
  c.advance(90_500);
  assert.deepEqual(m.snapshot().gauges, { uptime_seconds: 90, open_connections: 3 });
  open = 1;
  assert.equal(m.snapshot().gauges.open_connections, 1);
  m.gauge('open_connections', () => {
    throw new Error('hub gone');
  });
  assert.ok(Number.isNaN(m.snapshot().gauges.open_connections), 'a failing reader reads NaN instead of throwing');
});

test('prometheus(): every family has HELP and TYPE, the openwork_ prefix, and escaped labels', () => {
  const { m } = fresh();
  m.gauge('open_connections', () => 2);
  m.inc('connection_failures_total', { reason: 'bad "quote"\\\nline' });
  m.inc('tasks_started_total', undefined, 5);
  const text = m.prometheus();
  const families = parseExposition(text);
  for (const [name, f] of families) {
    assert.ok(name.startsWith('openwork_'), name);
    assert.ok(f.help && f.type, `${name} has HELP and TYPE`);
  }
  assert.equal(families.get('openwork_tasks_started_total')?.type, 'counter');
  assert.equal(families.get('openwork_tasks_started_total')?.samples[0]?.value, 5);
  assert.equal(families.get('openwork_connections_opened_total')?.samples[0]?.value, 0, 'an unlabelled counter reads 0 before any event');
  assert.deepEqual(families.get('openwork_pairing_attempts_total')?.samples, [], 'a labelled counter has no series before any event');
  assert.deepEqual(families.get('openwork_connection_failures_total')?.samples[0]?.labels, { reason: 'bad "quote"\\\nline' });
  assert.equal(families.get('openwork_open_connections')?.type, 'gauge');
  assert.equal(families.get('openwork_open_connections')?.samples[0]?.value, 2);
  assert.ok(families.has('openwork_uptime_seconds'));
});

test('counters and daily buckets survive a restart (close, then a new instance reads the file)', () => {
  const c = clock(new Date(2025, 2, 10, 9));
  const first = fresh({ now: c.now });
  first.m.inc('tasks_started_total');
  first.m.inc('tasks_failed_total', { reason: 'runtime.error' });
  first.m.inc('pairing_attempts_total', { outcome: 'declined' });
  const since = first.m.snapshot().since;
  first.m.close();
  first.m.inc('tasks_started_total');
  assert.ok(existsSync(metricsPath(first.dataDir)));
  assert.equal(statSync(metricsPath(first.dataDir)).mode & 0o777, 0o600);

  c.advance(3600_000);
  const second = fresh({ now: c.now, dataDir: first.dataDir });
  const s = second.m.snapshot();
  assert.equal(s.counters.tasks_started_total.total, 1, 'the increment after close was not recorded');
  assert.deepEqual(s.counters.tasks_failed_total.series, [{ labels: { reason: 'runtime.error' }, value: 1 }]);
  assert.equal(s.counters.pairing_attempts_total.total, 1);
  assert.equal(s.since, since, 'counting started when the first instance did');
  assert.equal(s.gauges.uptime_seconds, 0, 'uptime is per process');
  assert.equal(s.daily.at(-1)?.counts.tasks_started_total, 1);
  second.m.inc('tasks_started_total');
  assert.equal(second.m.snapshot().counters.tasks_started_total.total, 2);
  assert.deepEqual(readdirSync(first.dataDir), ['metrics.json'], 'no temp files are left behind');
});

test('changes are saved by themselves after the debounce interval', async () => {
  const { m, dataDir } = fresh({ flushMs: 20 });
  m.inc('reconnects_total');
  assert.equal(existsSync(metricsPath(dataDir)), false, 'not written on every increment');
  const deadline = Date.now() + 10_000;
  while (!existsSync(metricsPath(dataDir)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  const file = JSON.parse(readFileSync(metricsPath(dataDir), 'utf8'));
  assert.deepEqual(file.counters.reconnects_total, [{ labels: {}, value: 1 }]);
});

test('disabled (--no-metrics): records nothing, reads nothing, writes nothing', () => {
  const dataDir = join(root, 'disabled');
  const enabled = fresh({ dataDir });
  enabled.m.inc('tasks_started_total');
  enabled.m.close();
  const before = readFileSync(metricsPath(dataDir), 'utf8');

  const { m } = fresh({ dataDir, enabled: false });
  m.inc('tasks_started_total');
  m.inc('tasks_failed_total', { reason: 'x' });
  m.flush();
  m.close();
  const s = m.snapshot();
  assert.equal(s.enabled, false);
  assert.equal(s.counters.tasks_started_total.total, 0, 'the file was not read');
  assert.deepEqual(s.daily, []);
  assert.equal(readFileSync(metricsPath(dataDir), 'utf8'), before, 'the file was not touched');
  assert.doesNotMatch(m.prometheus(), /_total/, 'no counters are exposed');

  const emptyDir = join(root, 'disabled-empty');
  const off = fresh({ dataDir: emptyDir, enabled: false });
  off.m.inc('reconnects_total');
  off.m.close();
  assert.equal(existsSync(emptyDir), false, 'not even the data directory was created');
});

test('daily buckets roll over at local midnight and keep only the recent days', () => {
  const c = clock(new Date(2025, 0, 1, 23, 59));
  const { m } = fresh({ now: c.now });
  m.inc('tasks_started_total');
  m.inc('tasks_failed_total', { reason: 'a' });
  m.inc('tasks_failed_total', { reason: 'b' });
  c.set(new Date(2025, 0, 2, 0, 1));
  m.inc('tasks_started_total', undefined, 4);
  m.inc('tasks_succeeded_total', undefined, 3);

  const daily = m.snapshot().daily;
  assert.equal(daily.length, DAILY_DAYS);
  assert.deepEqual(
    daily.map((d) => d.date),
    recentDays(c.now(), DAILY_DAYS),
  );
  assert.equal(daily.at(-1)?.date, '2025-01-02');
  assert.deepEqual(daily.at(-2), {
    date: '2025-01-01',
    counts: { connection_failures_total: 0, tasks_started_total: 1, tasks_succeeded_total: 0, tasks_failed_total: 2, tasks_aborted_total: 0 },
  });
  assert.equal(daily.at(-1)?.counts.tasks_started_total, 4);
  assert.equal(daily.at(-1)?.counts.tasks_succeeded_total, 3);
  assert.equal(daily.at(-3)?.counts.tasks_started_total, 0, 'a day without events reads zero');

  // Three weeks later the old days have left the window, and the file no longer keeps them.
  c.set(new Date(2025, 0, 23, 12));
  m.inc('tasks_aborted_total');
  const later = m.snapshot().daily;
  assert.ok(later.every((d) => d.counts.tasks_started_total === 0));
  assert.equal(later.at(-1)?.counts.tasks_aborted_total, 1);
  m.flush();
  assert.equal(m.snapshot().counters.tasks_started_total.total, 5, 'totals are not windowed');
});

test('days are local calendar days, DST included', () => {
  assert.equal(dayKey(new Date(2025, 11, 31, 23, 59, 59)), '2025-12-31');
  assert.deepEqual(recentDays(new Date(2025, 2, 31, 0, 30), 3), ['2025-03-29', '2025-03-30', '2025-03-31']);
  assert.deepEqual(recentDays(new Date(2024, 2, 1), 2), ['2024-02-29', '2024-03-01']);
});

test('free-form labels cannot grow without bound: extra values fold into "other"', () => {
  const { m } = fresh();
  for (let i = 0; i < MAX_SERIES_PER_METRIC + 10; i++) m.inc('connection_failures_total', { reason: `r${i}` });
  const series = m.snapshot().counters.connection_failures_total.series;
  assert.equal(series.length, MAX_SERIES_PER_METRIC + 1);
  assert.equal(series.find((s) => s.labels.reason === 'other')?.value, 10);
  m.inc('connection_failures_total', { reason: 'x'.repeat(500) });
  assert.ok(m.snapshot().counters.connection_failures_total.series.every((s) => s.labels.reason!.length <= 80));
});

test('a corrupt file is moved aside with a warning and counting starts over', () => {
  const dataDir = join(root, 'corrupt');
  const lines: string[] = [];
  const first = fresh({ dataDir });
  first.m.inc('tasks_started_total');
  first.m.close();
  writeFileSync(metricsPath(dataDir), '{"version": 1, "since": "not json');
  const m = createMetrics({ dataDir, enabled: true, log: createLogger({ write: (l) => lines.push(l) }) });
  opened.push(m);
  assert.equal(m.snapshot().counters.tasks_started_total.total, 0);
  assert.ok(existsSync(`${metricsPath(dataDir)}.corrupt`));
  assert.match(lines.join('\n'), /metrics file unreadable/);
});

test('entries for metrics or label values the table no longer knows are dropped on load', () => {
  const dataDir = join(root, 'old-names');
  const first = fresh({ dataDir });
  first.m.inc('tasks_started_total');
  first.m.close();
  const file = JSON.parse(readFileSync(metricsPath(dataDir), 'utf8'));
  file.counters.renamed_metric_total = [{ labels: {}, value: 7 }];
  file.counters.pairing_attempts_total = [
    { labels: { outcome: 'approved' }, value: 2 },
    { labels: { outcome: 'withdrawn' }, value: 9 },
  ];
  writeFileSync(metricsPath(dataDir), JSON.stringify(file));
  const { m } = fresh({ dataDir });
  const s = m.snapshot();
  assert.equal(s.counters.tasks_started_total.total, 1);
  assert.deepEqual(s.counters.pairing_attempts_total.series, [{ labels: { outcome: 'approved' }, value: 2 }]);
  assert.ok(!('renamed_metric_total' in s.counters));
});

test('a failed write is logged, not thrown, and retried by the next flush', () => {
  const blocker = join(root, 'not-a-dir');
  writeFileSync(blocker, 'a file where the data dir should be');
  const lines: string[] = [];
  const m = createMetrics({ dataDir: join(blocker, 'data'), enabled: true, log: createLogger({ write: (l) => lines.push(l) }) });
  opened.push(m);
  m.inc('tasks_started_total');
  assert.doesNotThrow(() => m.flush());
  assert.match(lines.join('\n'), /could not save metrics/);
});

test("the host's table and the wire's names (shared/protocol/metrics.ts) list the same metrics", () => {
  const of = (type: 'counter' | 'gauge') => METRIC_NAMES.filter((n) => METRICS[n].type === type).sort();
  assert.deepEqual(of('counter'), [...COUNTER_NAMES].sort());
  assert.deepEqual(of('gauge'), [...GAUGE_NAMES].sort());
  assert.deepEqual(METRIC_NAMES.filter((n) => 'daily' in METRICS[n]).sort(), [...DAILY_NAMES].sort());
});
