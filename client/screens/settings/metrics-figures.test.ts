import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ReceivedMetrics } from '../../../shared/protocol/metrics.ts';
import { chartDays, formatTime, headlineFigures } from './metrics-figures.ts';

const counter = (label: string, values: Record<string, number>) => ({
  total: Object.values(values).reduce((a, b) => a + b, 0),
  series: Object.entries(values).map(([v, value]) => ({ labels: { [label]: v }, value })),
});
const plain = (total: number) => ({ total, series: total ? [{ labels: {}, value: total }] : [] });

const days = ['2026-11-17', '2026-11-18', '2026-11-19', '2026-11-20', '2026-11-21', '2026-11-22', '2026-11-23', '2026-11-24'];
const metrics = (): ReceivedMetrics => ({
  enabled: true,
  since: '2026-11-20T08:05:00.000Z',
  at: '2026-11-24T12:00:00.000Z',
  counters: {
    connections_opened_total: plain(12),
    connection_failures_total: counter('reason', { 'handshake.failed': 1, 'device.unknown': 2 }),
    pairing_attempts_total: counter('outcome', { approved: 2, 'rate-limited': 1, declined: 0 }),
    tasks_started_total: plain(5),
    tasks_succeeded_total: plain(3),
    tasks_failed_total: counter('reason', { ProviderAuthError: 1 }),
    tasks_aborted_total: plain(1),
    permission_prompts_total: plain(4),
    permission_answers_total: counter('answer', { once: 2, reject: 1, timeout: 1 }),
    reconnects_total: plain(6),
    resume_gaps_total: plain(1),
  },
  gauges: { uptime_seconds: 100, open_connections: 1 },
  daily: days.map((date, i) => ({
    date,
    counts: {
      tasks_started_total: i,
      tasks_succeeded_total: 0,
      tasks_failed_total: i === 7 ? 1 : 0,
      tasks_aborted_total: i === 7 ? 2 : 0,
      connection_failures_total: i === 6 ? 1 : 0,
    },
  })),
});

test('the chart has the last 7 days, oldest first, each with a sentence', () => {
  const chart = chartDays(metrics());
  assert.deepEqual(
    chart.map((d) => d.date),
    days.slice(1),
  );
  assert.equal(chart[0]!.text, 'Wed 18 Nov: 1 task, 0 failed');
  assert.equal(chart[5]!.text, 'Mon 23 Nov: 6 tasks, 0 failed, 1 connection failure');
  assert.equal(chart[6]!.text, 'Tue 24 Nov (today): 7 tasks, 1 failed, 2 stopped');
  assert.deepEqual([chart[6]!.short, chart[6]!.tasks, chart[6]!.failed], ['Tue', 7, 1]);
});

test('a day says only what the host counted', () => {
  const m = metrics();
  m.daily = [{ date: '2026-03-01', counts: {} }];
  assert.deepEqual(chartDays(m), [{ date: '2026-03-01', short: 'Sun', tasks: 0, failed: 0, text: 'Sun 1 Mar (today): nothing recorded' }]);
});

test('headline figures in plain words', () => {
  const figures = Object.fromEntries(headlineFigures(metrics()).map((f) => [f.term, f.detail]));
  assert.deepEqual(figures, {
    'Counting since': formatTime('2026-11-20T08:05:00.000Z'),
    Tasks: '5 started, 3 finished, 1 failed (1 ProviderAuthError), 1 stopped',
    Connections: '12 opened, 1 open now',
    'Connection failures': '3: 2 device.unknown, 1 handshake.failed',
    'Pairing attempts': '3: 2 approved, 1 rate limited',
    'Permission prompts': '4',
    'Permission answers': '4: 2 allowed once, 1 denied, 1 unanswered in time (denied)',
    Reconnects: '6, 1 of them reloaded everything (missed too much)',
  });
  assert.match(figures['Counting since']!, /^\d{1,2} Nov 2026, \d\d:\d\d$/);
});

test('figures the snapshot lacks are left out, none made up', () => {
  const m = metrics();
  m.counters = { connections_opened_total: plain(0), connection_failures_total: counter('reason', {}) };
  m.gauges = { open_connections: null };
  assert.deepEqual(headlineFigures(m).slice(1), [
    { term: 'Connections', detail: '0 opened' },
    { term: 'Connection failures', detail: 'None' },
  ]);
});
