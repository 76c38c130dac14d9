import { createEffect, createSignal, For, on, onCleanup, onMount, Show } from 'solid-js';
import type { ReceivedMetrics } from '../../../shared/protocol/metrics.ts';
import { useApp } from '../../app/context.ts';
import { metricsFor } from '../../state/metrics.ts';
import { Button } from '../../ui/Button.tsx';
import { timeAgo } from '../../ui/time.ts';
import { CHART_DAYS, chartDays, headlineFigures } from './metrics-figures.ts';
import './metrics.css';

/** Bar area of one day's column, in SVG units (the column is drawn 0..100 high). */
const BAR_TOP = 100;

/**
 * What the computer counted: tasks and failures over the last week as a small chart, and the
 * headline figures. Fetched when the panel opens, on Refresh, and when the connection comes back.
 */
export function MetricsSection() {
  const { relay } = useApp();
  const metrics = metricsFor(relay);
  const s = metrics.state;
  const [now, setNow] = createSignal(Date.now());
  onMount(() => {
    void metrics.refresh();
    const timer = setInterval(() => setNow(Date.now()), 30_000);
    onCleanup(() => clearInterval(timer));
  });
  createEffect(
    on(
      () => [relay.health.phase, relay.activeHost()?.hostId] as const,
      ([phase]) => {
        if (phase === 'connected') void metrics.refresh();
      },
      { defer: true },
    ),
  );
  const age = () => {
    if (!s.snapshot || s.receivedAt === undefined) return '';
    const when = timeAgo(s.receivedAt, now());
    if (relay.health.phase !== 'connected') return `Saved figures from ${when}: this phone cannot reach the computer right now.`;
    return s.error ? `Showing the figures from ${when}.` : `Updated ${when}.`;
  };

  return (
    <section class="metrics" aria-labelledby="metrics-title" aria-busy={s.loading}>
      <h2 class="section-title" id="metrics-title">
        Activity on this computer
      </h2>
      <Show when={s.snapshot} fallback={<p class="hint">{s.loading ? 'Loading the figures…' : s.error ? 'No figures yet.' : ''}</p>}>
        {(m) => (
          <Show when={m().enabled} fallback={<RecordingOff />}>
            <Chart metrics={m()} />
            <dl class="facts metrics__figures">
              <For each={headlineFigures(m())}>
                {(f) => (
                  <>
                    <dt>{f.term}</dt>
                    <dd>{f.detail}</dd>
                  </>
                )}
              </For>
            </dl>
          </Show>
        )}
      </Show>
      <p class="hint" aria-live="polite">
        {age()}
      </p>
      <Show when={s.error}>
        <p class="note note--error" role="alert">
          {s.error}
        </p>
      </Show>
      <div class="actions">
        <Button disabled={s.loading || !relay.activeHost()} onClick={() => void metrics.refresh()}>
          Refresh figures
        </Button>
      </div>
    </section>
  );
}

function RecordingOff() {
  return (
    <p class="note metrics__off">
      Recording is off: Relay on this computer was started with <code>--no-metrics</code> (or with OPENWORK_NO_METRICS set), so it counts nothing. To turn it on, start it again
      without that option, for example <code>npm start</code>. The figures stay on the computer either way.
    </p>
  );
}

function Chart(props: { metrics: ReceivedMetrics }) {
  const days = () => chartDays(props.metrics);
  // Failures count too: a task started before midnight can fail after it.
  const scale = () => Math.max(1, ...days().flatMap((d) => [d.tasks, d.failed]));
  const height = (n: number) => (n / scale()) * BAR_TOP;
  return (
    <figure class="metrics-chart">
      <figcaption id="metrics-chart-title">Tasks in the last {CHART_DAYS} days</figcaption>
      <ol class="metrics-chart__days" aria-labelledby="metrics-chart-title">
        <For each={days()}>
          {(d, i) => (
            <li class="metrics-chart__day" classList={{ 'metrics-chart__day--today': i() === days().length - 1 }}>
              <span class="metrics-chart__count" aria-hidden="true">
                {d.tasks}
              </span>
              <svg class="metrics-chart__bars" viewBox={`0 0 24 ${BAR_TOP}`} preserveAspectRatio="none" aria-hidden="true">
                <rect class="metrics-chart__bar metrics-chart__bar--tasks" x="1" width="10" y={BAR_TOP - height(d.tasks)} height={height(d.tasks)} />
                <rect class="metrics-chart__bar metrics-chart__bar--failed" x="13" width="10" y={BAR_TOP - height(d.failed)} height={height(d.failed)} />
              </svg>
              <span class="metrics-chart__label" aria-hidden="true">
                {d.short}
              </span>
              <span class="visually-hidden">{d.text}</span>
            </li>
          )}
        </For>
      </ol>
      <p class="metrics-legend" aria-hidden="true">
        <span class="metrics-legend__item">
          <span class="metrics-legend__swatch metrics-legend__swatch--tasks" />
          tasks
        </span>
        <span class="metrics-legend__item">
          <span class="metrics-legend__swatch metrics-legend__swatch--failed" />
          failed
        </span>
      </p>
    </figure>
  );
}
