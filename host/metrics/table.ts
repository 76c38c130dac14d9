/**
 * Every metric the host records, in one typed table: a caller names a metric and its labels from
 * here, so a typo is a type error instead of a silently new series. Names carry no prefix; the
 * Prometheus text adds `openwork_`.
 * @module
 */
import { OUTCOMES as PAIRING_OUTCOMES } from '../pairing/offers.ts';

/** `'any'`: a free-form value (an error code, a reason); otherwise the only values allowed. */
export type LabelValues = readonly string[] | 'any';

export interface MetricSpec {
  type: 'counter' | 'gauge';
  help: string;
  labels?: Readonly<Record<string, LabelValues>>;
  /** Also counted per day (summed over labels), for the 7-day chart in the app. */
  daily?: true;
}

/** Why a resume needed a reload (the `resync` reasons of a device that named where it stopped). */
export const RESUME_GAP_REASONS = ['gap', 'restart'] as const;

export const PERMISSION_ANSWERS = ['once', 'session', 'reject', 'timeout'] as const;
export type PermissionAnswer = (typeof PERMISSION_ANSWERS)[number];

/** What became of a notification push (host/push/sender.ts). */
export const PUSH_OUTCOMES = ['sent', 'retried', 'gone', 'failed', 'refused', 'dropped'] as const;

export const METRICS = {
  connections_opened_total: { type: 'counter', help: 'Device connections opened (WebSocket upgrades accepted).' },
  connection_failures_total: {
    type: 'counter',
    help:
      'Device connections that failed or were refused, by reason: the error code the host closed with (handshake.failed, ' +
      'device.unknown, device.revoked, protocol.invalid, frame.auth, connection.slow, ...), connection.lost (the device went ' +
      'silent or dropped the socket) or internal.error. Pairing refusals are pairing attempts, not counted here.',
    labels: { reason: 'any' },
    daily: true,
  },
  pairing_attempts_total: { type: 'counter', help: 'Pairing attempts, by outcome.', labels: { outcome: PAIRING_OUTCOMES } },
  tasks_started_total: { type: 'counter', help: 'Tasks submitted to the runtime.', daily: true },
  tasks_succeeded_total: { type: 'counter', help: 'Tasks that finished without an error.', daily: true },
  tasks_failed_total: { type: 'counter', help: 'Tasks that ended with an error, by reason.', labels: { reason: 'any' }, daily: true },
  tasks_aborted_total: { type: 'counter', help: 'Tasks stopped by a device before they finished.', daily: true },
  permission_prompts_total: { type: 'counter', help: 'Permission requests from the runtime that were put to devices.' },
  permission_answers_total: {
    type: 'counter',
    help: 'Answers to permission requests, by answer (timeout: nobody answered in time, so it was denied).',
    labels: { answer: PERMISSION_ANSWERS },
  },
  reconnects_total: { type: 'counter', help: 'Connections of already paired devices that resumed after a previous one.' },
  resume_gaps_total: {
    type: 'counter',
    help:
      'Resumes that could not replay every missed event, so the device reloaded instead, by reason (gap: the events were ' + 'no longer kept; restart: the host restarted since).',
    labels: { reason: RESUME_GAP_REASONS },
  },
  compat_requests_total: {
    type: 'counter',
    help: 'Requests from OpenCode\'s own clients (host/compat/), by route (method and path pattern; "unlisted" for a refused ' + 'route) and the HTTP status answered.',
    labels: { route: 'any', status: 'any' },
  },
  push_sends_total: {
    type: 'counter',
    help:
      'Notification pushes, by outcome (sent; retried: the push service was busy or did not answer; gone: it dropped the ' +
      'subscription, which is then removed; failed; refused: an address the host does not send to; dropped: too many waiting).',
    labels: { outcome: PUSH_OUTCOMES },
  },
  uptime_seconds: { type: 'gauge', help: 'Seconds since the host started.' },
  open_connections: { type: 'gauge', help: 'Device connections open now.' },
} as const satisfies Record<string, MetricSpec>;

export type MetricName = keyof typeof METRICS;
type Spec<N extends MetricName> = (typeof METRICS)[N];

export type CounterName = { [N in MetricName]: Spec<N>['type'] extends 'counter' ? N : never }[MetricName];
export type GaugeName = { [N in MetricName]: Spec<N>['type'] extends 'gauge' ? N : never }[MetricName];
export type DailyName = { [N in MetricName]: Spec<N> extends { daily: true } ? N : never }[MetricName];

/** The labels a metric takes, each typed by its allowed values; `undefined` for a metric without labels. */
export type LabelsOf<N extends MetricName> = Spec<N> extends { labels: infer L } ? { [K in keyof L]: L[K] extends readonly (infer V)[] ? V : string } : undefined;

export const METRIC_NAMES = Object.keys(METRICS) as MetricName[];
export const DAILY_NAMES = METRIC_NAMES.filter((n) => (METRICS[n] as MetricSpec).daily) as DailyName[];

export function specOf(name: string): MetricSpec | undefined {
  return Object.hasOwn(METRICS, name) ? (METRICS as Record<string, MetricSpec>)[name] : undefined;
}
