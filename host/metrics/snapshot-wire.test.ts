import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createMetrics } from './metrics.ts';
import { silentLogger } from '../log.ts';
import { ProtocolError } from '../../shared/protocol/guard.ts';
import { COUNTER_NAMES, DAILY_NAMES, GAUGE_NAMES, parseMetricsSnapshot, type MetricsSnapshot } from '../../shared/protocol/metrics.ts';

/** A real host's snapshot as it crosses the wire (JSON: a NaN gauge becomes null). */
function hostSnapshot(enabled: boolean) {
  const dataDir = mkdtempSync(join(tmpdir(), 'metrics-wire-'));
  try {
    const m = createMetrics({ dataDir, enabled, log: silentLogger, now: () => new Date(2026, 10, 24, 12) });
    m.inc('tasks_started_total', undefined, 3);
    m.inc('tasks_succeeded_total');
    m.inc('tasks_failed_total', { reason: 'ProviderAuthError' });
    m.inc('connection_failures_total', { reason: 'handshake.failed' });
    m.inc('pairing_attempts_total', { outcome: 'approved' });
    m.inc('permission_answers_total', { answer: 'reject' });
    // The wire type is what the host's snapshot() returns: this line stops compiling if they drift apart.
    const typed: MetricsSnapshot = m.snapshot();
    m.close();
    return JSON.parse(JSON.stringify(typed)) as unknown;
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

const valid = (): Record<string, unknown> => hostSnapshot(true) as Record<string, unknown>;

test("a real host's snapshot parses to itself, every name the phone knows present", () => {
  const wire = valid();
  const parsed = parseMetricsSnapshot(wire);
  assert.deepEqual(parsed, wire);
  assert.deepEqual(Object.keys(parsed.counters).sort(), [...COUNTER_NAMES].sort());
  assert.deepEqual(Object.keys(parsed.gauges).sort(), [...GAUGE_NAMES].sort());
  assert.equal(parsed.daily.length, 14);
  assert.deepEqual(Object.keys(parsed.daily[13]!.counts).sort(), [...DAILY_NAMES].sort());
  assert.equal(parsed.daily[13]!.date, '2026-11-24');
  assert.equal(parsed.daily[13]!.counts.tasks_started_total, 3);
  assert.equal(parsed.counters.tasks_failed_total?.series[0]?.labels.reason, 'ProviderAuthError');
  assert.equal(parsed.gauges.open_connections, null, 'an unregistered gauge (NaN) arrives as null');
});

test('a disabled host parses too: counters at zero, no days', () => {
  const parsed = parseMetricsSnapshot(hostSnapshot(false));
  assert.equal(parsed.enabled, false);
  assert.deepEqual(parsed.daily, []);
  assert.equal(parsed.counters.tasks_started_total?.total, 0);
});

test('unknown counters, gauges and daily counts are ignored; missing ones are absent, not zero', () => {
  const wire = valid();
  const counters = wire.counters as Record<string, unknown>;
  counters.future_total = { total: 'anything', series: 'at all' };
  delete counters.reconnects_total;
  (wire.gauges as Record<string, unknown>).future_gauge = 'x';
  const day = (wire.daily as { counts: Record<string, unknown> }[])[0]!;
  day.counts.future_total = -1;
  delete day.counts.tasks_aborted_total;
  const parsed = parseMetricsSnapshot(wire);
  assert.equal('future_total' in parsed.counters, false);
  assert.equal('reconnects_total' in parsed.counters, false);
  assert.equal('future_gauge' in parsed.gauges, false);
  assert.equal('future_total' in parsed.daily[0]!.counts, false);
  assert.equal('tasks_aborted_total' in parsed.daily[0]!.counts, false);
});

test('a malformed answer is refused with the field named', () => {
  // biome-ignore lint/suspicious/noExplicitAny: each case breaks the well-formed answer in its own way.
  const cases: [string, (w: Record<string, any>) => unknown, RegExp][] = [
    ['not an object', () => 'metrics', /^metrics: expected an object/],
    ['enabled', (w) => ((w.enabled = 'yes'), w), /^metrics\.enabled: /],
    ['since', (w) => ((w.since = 'last week'), w), /^metrics\.since: expected an ISO 8601 time/],
    ['at', (w) => (delete w.at, w), /^metrics\.at: expected a string/],
    ['counters', (w) => ((w.counters = []), w), /^metrics\.counters: expected an object/],
    ['negative total', (w) => ((w.counters.tasks_started_total.total = -1), w), /^metrics\.counters\.tasks_started_total\.total: expected a number of 0 or more, got -1/],
    ['series', (w) => ((w.counters.tasks_failed_total.series = {}), w), /^metrics\.counters\.tasks_failed_total\.series: expected a list/],
    ['label', (w) => ((w.counters.tasks_failed_total.series[0].labels.reason = 7), w), /^metrics\.counters\.tasks_failed_total\.series\[0\]\.labels\.reason: expected a string/],
    ['value', (w) => ((w.counters.tasks_failed_total.series[0].value = '1'), w), /series\[0\]\.value: expected a number of 0 or more, got string/],
    ['gauge', (w) => ((w.gauges.uptime_seconds = 'long'), w), /^metrics\.gauges\.uptime_seconds: /],
    ['daily', (w) => ((w.daily = null), w), /^metrics\.daily: expected a list/],
    ['date', (w) => ((w.daily[2].date = '24/11/2026'), w), /^metrics\.daily\[2\]\.date: expected YYYY-MM-DD/],
    ['count', (w) => ((w.daily[13].counts.tasks_started_total = null), w), /^metrics\.daily\[13\]\.counts\.tasks_started_total: expected a number of 0 or more, got null/],
    ['too many days', (w) => ((w.daily = Array.from({ length: 401 }, () => w.daily[0])), w), /^metrics\.daily: has 401 items/],
  ];
  for (const [name, spoil, message] of cases) {
    assert.throws(
      () => parseMetricsSnapshot(spoil(valid())),
      (err: unknown) => err instanceof ProtocolError && message.test(err.message),
      name,
    );
  }
});
