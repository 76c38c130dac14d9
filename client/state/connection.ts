/**
 * Connection status shown in the top bar. The network layer drives it through the named
 * actions; everything else only reads `state`. Besides the link itself it tells two things a
 * person would otherwise guess at: how many tasks wait in the outbox, and whether the app is
 * still catching up after a reconnect (what it shows may be behind until then).
 * @module
 */
import { createStore } from 'solid-js/store';

export type ConnectionStatus = 'offline' | 'connecting' | 'connected' | 'reconnecting';

export interface ConnectionState {
  readonly status: ConnectionStatus;
  /** One short sentence for people: why we are in this state ("Not paired yet", "Host unreachable"). */
  readonly reason: string;
  /** Date.now() of the last change, so "offline for 5 min" can be shown. */
  readonly since: number;
  /** Tasks in the outbox that are still to be sent. */
  readonly queued: number;
  /** Tasks in the outbox the computer refused (they wait for Retry or Delete). */
  readonly failed: number;
  /** Connected, but missed events are still being replayed or reloaded. */
  readonly catchingUp: boolean;
}

export interface ConnectionStore {
  readonly state: ConnectionState;
  connecting(reason?: string): void;
  connected(reason?: string): void;
  reconnecting(reason: string): void;
  offline(reason: string): void;
  /** The outbox changed. */
  outbox(counts: { queued: number; failed: number }): void;
  catchingUp(on: boolean): void;
}

export function createConnectionStore(initial: { status?: ConnectionStatus; reason?: string; now?: () => number } = {}): ConnectionStore {
  const now = initial.now ?? Date.now;
  const [state, setState] = createStore<ConnectionState>({
    status: initial.status ?? 'offline',
    reason: initial.reason ?? 'Not paired with a computer yet',
    since: now(),
    queued: 0,
    failed: 0,
    catchingUp: false,
  });
  const move = (status: ConnectionStatus, reason: string) => {
    if (status === state.status && reason === state.reason) return;
    // Catching up is something a connection does: any other state ends it.
    setState({ status, reason, since: status === state.status ? state.since : now(), ...(status === 'connected' ? {} : { catchingUp: false }) });
  };
  return {
    state,
    connecting: (reason = 'Reaching your computer') => move('connecting', reason),
    connected: (reason = 'End-to-end encrypted') => move('connected', reason),
    reconnecting: (reason) => move('reconnecting', reason),
    offline: (reason) => move('offline', reason),
    outbox: ({ queued, failed }) => setState({ queued, failed }),
    catchingUp: (on) => setState({ catchingUp: on && state.status === 'connected' }),
  };
}

export const STATUS_LABEL: Record<ConnectionStatus, string> = {
  offline: 'Offline',
  connecting: 'Connecting',
  connected: 'Connected',
  reconnecting: 'Reconnecting',
};

/** The pill's words: the status ("Catching up" while connected but behind), then the outbox. */
export function statusSummary(state: ConnectionState): { label: string; extra: string } {
  const label = state.status === 'connected' && state.catchingUp ? 'Catching up' : STATUS_LABEL[state.status];
  const parts = [
    ...(state.queued ? [`${state.queued} queued`] : []),
    ...(state.failed ? [`${state.failed} not sent`] : []),
  ];
  return { label, extra: parts.join(', ') };
}
