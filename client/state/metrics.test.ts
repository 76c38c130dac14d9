import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readResult } from '../../shared/channel/errors.ts';
import { NotConnected } from '../net/explain.ts';
import { createMetricsStore, metricsFor } from './metrics.ts';

const snapshot = (started: number) => ({
  enabled: true,
  since: '2026-11-20T08:00:00.000Z',
  at: '2026-11-25T08:00:00.000Z',
  counters: { tasks_started_total: { total: started, series: [{ labels: {}, value: started }] } },
  gauges: { uptime_seconds: 60 },
  daily: [{ date: '2026-11-25', counts: { tasks_started_total: started } }],
});

function harness() {
  let host: string | undefined = 'H1';
  let t = 1000;
  const answers: (() => Promise<unknown>)[] = [];
  const asked: unknown[] = [];
  const store = createMetricsStore({
    // What the host sends, read as the channel reads it.
    request: async (body) => {
      asked.push(body);
      const next = answers.shift();
      return readResult(body.t, await (next ? next() : Promise.reject(new Error('no answer scripted'))));
    },
    hostId: () => host,
    now: () => t,
  });
  return { store, answers, asked, setHost: (h: string | undefined) => (host = h), setTime: (n: number) => (t = n) };
}

test('loads, checks and keeps a snapshot with the time it arrived', async () => {
  const h = harness();
  h.answers.push(async () => snapshot(3));
  const loading = h.store.refresh();
  assert.equal(h.store.state.loading, true);
  await loading;
  assert.deepEqual(h.asked, [{ t: 'metrics.get' }]);
  assert.equal(h.store.state.loading, false);
  assert.equal(h.store.state.error, undefined);
  assert.equal(h.store.state.snapshot?.counters.tasks_started_total?.total, 3);
  assert.equal(h.store.state.receivedAt, 1000);
});

test('a failure keeps the last snapshot and explains itself', async () => {
  const h = harness();
  h.answers.push(async () => snapshot(3));
  await h.store.refresh();
  h.setTime(5000);
  h.answers.push(() => Promise.reject(new NotConnected('Desk')));
  await h.store.refresh();
  assert.match(h.store.state.error ?? '', /^Not connected to Desk right now/);
  assert.equal(h.store.state.snapshot?.counters.tasks_started_total?.total, 3);
  assert.equal(h.store.state.receivedAt, 1000, 'still says when the kept figures arrived');
  h.answers.push(() => Promise.reject(Object.assign(new Error('scope'), { code: 'scope.denied' })));
  await h.store.refresh();
  assert.match(h.store.state.error ?? '', /not allowed/);
});

test('a malformed answer is refused with a clear error, not shown', async () => {
  const h = harness();
  h.answers.push(async () => ({ ...snapshot(1), daily: [{ date: 'yesterday', counts: {} }] }));
  await h.store.refresh();
  assert.equal(h.store.state.snapshot, undefined);
  assert.match(h.store.state.error ?? '', /cannot read \(metrics\.daily\[0\]\.date: expected YYYY-MM-DD.*Update Relay on the computer/);
});

test('figures from another computer are dropped, and a late answer for one is ignored', async () => {
  const h = harness();
  h.answers.push(async () => snapshot(3));
  await h.store.refresh();
  h.setHost('H2');
  let answer!: (v: unknown) => void;
  h.answers.push(() => new Promise((resolve) => (answer = resolve)));
  const pending = h.store.refresh();
  assert.equal(h.store.state.snapshot, undefined, "H1's figures are not shown as H2's");
  h.setHost('H3');
  answer(snapshot(9));
  await pending;
  assert.equal(h.store.state.snapshot, undefined, "H2's answer is not shown while H3 is in use");
  assert.equal(h.store.state.loading, false);
});

test('only the latest of overlapping requests lands', async () => {
  const h = harness();
  let first!: (v: unknown) => void;
  h.answers.push(() => new Promise((resolve) => (first = resolve)));
  h.answers.push(async () => snapshot(2));
  const slow = h.store.refresh();
  await h.store.refresh();
  first(snapshot(1));
  await slow;
  assert.equal(h.store.state.snapshot?.counters.tasks_started_total?.total, 2);
  assert.equal(h.store.state.loading, false);
});

test('metricsFor gives one store per app', () => {
  const relay = { request: async () => readResult('metrics.get', snapshot(1)), activeHost: () => ({ hostId: 'H1' }) };
  assert.equal(metricsFor(relay), metricsFor(relay));
  assert.notEqual(metricsFor(relay), metricsFor({ ...relay }));
});
