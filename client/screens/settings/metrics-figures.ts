/**
 * The computer's metrics in plain words, for the health panel: the last days as chart columns,
 * each with a sentence for screen readers, and the headline figures. Only what the snapshot
 * actually has is described: a counter an older host does not send is left out, never shown as 0.
 * @module
 */
import type { CounterName, CounterSnapshot, ReceivedMetrics } from '../../../shared/protocol/metrics.ts';

export const CHART_DAYS = 7;

export interface ChartDay {
  /** `YYYY-MM-DD`, the host's day. */
  date: string;
  /** "Tue", under the column. */
  short: string;
  tasks: number;
  failed: number;
  /** What a screen reader reads for the day: "Tue 24 Nov: 5 tasks, 1 failed". */
  text: string;
}

export interface Figure {
  term: string;
  detail: string;
}

const WEEKDAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/** The host's days are calendar dates, not instants: read them in UTC so the phone's zone cannot shift them. */
function calendar(date: string): { weekday: string; day: number; month: string } {
  const d = new Date(`${date}T00:00:00Z`);
  return { weekday: WEEKDAYS[d.getUTCDay()]!, day: d.getUTCDate(), month: MONTHS[d.getUTCMonth()]! };
}

/** The last `CHART_DAYS` days, oldest first; the last one is the host's today. */
export function chartDays(m: ReceivedMetrics): ChartDay[] {
  const days = m.daily.slice(-CHART_DAYS);
  return days.map((d, i) => {
    const { weekday, day, month } = calendar(d.date);
    const c = d.counts;
    const parts: string[] = [];
    if (c.tasks_started_total !== undefined) parts.push(plural(c.tasks_started_total, 'task'));
    if (c.tasks_failed_total !== undefined) parts.push(`${c.tasks_failed_total} failed`);
    if (c.tasks_aborted_total) parts.push(`${c.tasks_aborted_total} stopped`);
    if (c.connection_failures_total) parts.push(plural(c.connection_failures_total, 'connection failure'));
    const today = i === days.length - 1 ? ' (today)' : '';
    return {
      date: d.date,
      short: weekday,
      tasks: c.tasks_started_total ?? 0,
      failed: c.tasks_failed_total ?? 0,
      text: `${weekday} ${day} ${month}${today}: ${parts.join(', ') || 'nothing recorded'}`,
    };
  });
}

/** "2 approved, 1 declined": a counter's series by one label, largest first, zeros left out. */
function byLabel(c: CounterSnapshot, label: string, words: Record<string, string> = {}): string {
  return c.series
    .filter((s) => s.value > 0)
    .sort((a, b) => b.value - a.value || (a.labels[label] ?? '').localeCompare(b.labels[label] ?? ''))
    .map((s) => {
      const value = s.labels[label] ?? 'unknown';
      return `${s.value} ${words[value] ?? value.replaceAll('-', ' ')}`;
    })
    .join(', ');
}

/** "3: 2 approved, 1 declined", or "None". */
function totalBy(c: CounterSnapshot, label: string, words?: Record<string, string>): string {
  return c.total ? `${c.total}: ${byLabel(c, label, words)}` : 'None';
}

const ANSWERS: Record<string, string> = {
  once: 'allowed once',
  session: 'allowed for the session',
  reject: 'denied',
  timeout: 'unanswered in time (denied)',
};

/** "25 Nov 2026, 09:05" in the phone's time zone. */
export function formatTime(iso: string): string {
  const d = new Date(iso);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getDate()} ${MONTHS[d.getMonth()]} ${d.getFullYear()}, ${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** The headline figures, in the order a person would ask about them. */
export function headlineFigures(m: ReceivedMetrics): Figure[] {
  const c = m.counters;
  const out: Figure[] = [{ term: 'Counting since', detail: formatTime(m.since) }];
  const add = (term: string, detail: string | undefined) => detail !== undefined && out.push({ term, detail });
  const has = (name: CounterName, describe: (c: CounterSnapshot) => string) => (c[name] ? describe(c[name]) : undefined);

  const tasks = [
    c.tasks_started_total && `${c.tasks_started_total.total} started`,
    c.tasks_succeeded_total && `${c.tasks_succeeded_total.total} finished`,
    c.tasks_failed_total && `${c.tasks_failed_total.total} failed${c.tasks_failed_total.total ? ` (${byLabel(c.tasks_failed_total, 'reason')})` : ''}`,
    c.tasks_aborted_total && `${c.tasks_aborted_total.total} stopped`,
  ].filter(Boolean);
  if (tasks.length) add('Tasks', tasks.join(', '));

  const open = m.gauges.open_connections;
  add(
    'Connections',
    has('connections_opened_total', (s) => `${s.total} opened${typeof open === 'number' ? `, ${open} open now` : ''}`),
  );
  add(
    'Connection failures',
    has('connection_failures_total', (s) => totalBy(s, 'reason')),
  );
  add(
    'Pairing attempts',
    has('pairing_attempts_total', (s) => totalBy(s, 'outcome')),
  );
  add(
    'Permission prompts',
    has('permission_prompts_total', (s) => String(s.total)),
  );
  add(
    'Permission answers',
    has('permission_answers_total', (s) => totalBy(s, 'answer', ANSWERS)),
  );
  const gaps = c.resume_gaps_total?.total;
  add(
    'Reconnects',
    has('reconnects_total', (s) => `${s.total}${gaps ? `, ${gaps} of them reloaded everything (missed too much)` : ''}`),
  );
  return out;
}
