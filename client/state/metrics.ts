/**
 * The computer's own metrics, as the health panel shows them: fetched when the panel opens and
 * when the person asks, checked before use, and kept after a failure so the panel can still show
 * the last figures (saying how old they are) while the computer is out of reach.
 * @module
 */
import { createStore } from 'solid-js/store';
import { UnreadableAnswer } from '../../shared/channel/errors.ts';
import type { ReceivedMetrics } from '../../shared/protocol/metrics.ts';
import { explainRequest } from '../net/explain.ts';

export interface MetricsState {
  /** The last snapshot received from the computer in use. */
  snapshot?: ReceivedMetrics;
  /** When this phone received it, by its own clock (the host's `at` is by the host's clock). */
  receivedAt?: number;
  loading: boolean;
  /** Why the latest attempt failed, for a person; the last snapshot, if any, is still there. */
  error?: string;
}

export interface MetricsStore {
  readonly state: MetricsState;
  /** Asks the computer in use for its metrics; never rejects (a failure lands in `state.error`). */
  refresh(): Promise<void>;
}

export interface MetricsDeps {
  /** One request to the computer in use (RelayApp.request): the channel checked the answer. */
  request: (body: { t: 'metrics.get' }) => Promise<ReceivedMetrics>;
  /** The computer in use: a snapshot from another one is dropped, an answer for another one ignored. */
  hostId: () => string | undefined;
  now?: () => number;
}

export function createMetricsStore(deps: MetricsDeps): MetricsStore {
  const now = deps.now ?? Date.now;
  const [state, setState] = createStore<MetricsState>({ loading: false });
  let snapshotHost: string | undefined;
  /** Only the latest request may write: an earlier, slower answer must not replace a newer one. */
  let latest = 0;

  const refresh = async () => {
    const hostId = deps.hostId();
    const attempt = ++latest;
    if (hostId !== snapshotHost) setState({ snapshot: undefined, receivedAt: undefined });
    setState({ loading: true, error: undefined });
    let update: Partial<MetricsState>;
    try {
      const snapshot = await deps.request({ t: 'metrics.get' });
      update = { snapshot, receivedAt: now(), error: undefined };
    } catch (err) {
      update = { error: explainMetricsError(err) };
    }
    if (attempt !== latest) return;
    if (deps.hostId() !== hostId) return void setState({ loading: false });
    if (update.snapshot) snapshotHost = hostId;
    setState({ ...update, loading: false });
  };

  return { state, refresh };
}

/** Why the figures could not be fetched, in words a person can act on. */
export function explainMetricsError(err: unknown): string {
  if (err instanceof UnreadableAnswer) {
    return `Your computer sent figures this app cannot read (${err.detail}). Update Relay on the computer, then reload the app from it.`;
  }
  return explainRequest(err);
}

/** The part of RelayApp the store needs. */
export interface MetricsSource {
  request: MetricsDeps['request'];
  activeHost: () => { hostId: string } | undefined;
}

const stores = new WeakMap<MetricsSource, MetricsStore>();

/**
 * One store per app (keyed by its relay), so the last figures outlive the settings screen: going
 * back to the panel while offline still shows them.
 */
export function metricsFor(relay: MetricsSource): MetricsStore {
  let store = stores.get(relay);
  if (!store) {
    store = createMetricsStore({ request: (body) => relay.request(body), hostId: () => relay.activeHost()?.hostId });
    stores.set(relay, store);
  }
  return store;
}
