/**
 * Connection status shown in the top bar. The network layer drives it through the named
 * actions; everything else only reads `state`. Besides the link itself it tells two things a
 * person would otherwise guess at: how many tasks wait in the outbox, and whether the app is
 * still catching up after a reconnect (what it shows may be behind until then).
 * @module
 */
import { createStore } from 'solid-js/store';

/** `unpaired`: no computer to connect to (not the same as offline: nothing is wrong). */
export type ConnectionStatus = 'unpaired' | 'offline' | 'connecting' | 'connected' | 'reconnecting';

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
  /** The computer a pairing under way is with (the pair screen): the pill says so, not the link's state. */
  readonly pairingWith?: string;
}

export interface ConnectionStore {
  readonly state: ConnectionState;
  connecting(reason?: string): void;
  connected(reason?: string): void;
  reconnecting(reason: string): void;
  offline(reason: string): void;
  unpaired(): void;
  /** A pairing with `host` is under way; undefined when it ended. */
  pairing(host: string | undefined): void;
  /** The outbox changed. */
  outbox(counts: { queued: number; failed: number }): void;
  catchingUp(on: boolean): void;
}

const NO_HOST = 'Not paired with a computer yet';

export function createConnectionStore(initial: { status?: ConnectionStatus; reason?: string; now?: () => number } = {}): ConnectionStore {
  const now = initial.now ?? Date.now;
  const [state, setState] = createStore<ConnectionState>({
    status: initial.status ?? 'unpaired',
    reason: initial.reason ?? NO_HOST,
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
    unpaired: () => move('unpaired', NO_HOST),
    pairing: (host) => setState({ pairingWith: host }),
    outbox: ({ queued, failed }) => setState({ queued, failed }),
    catchingUp: (on) => setState({ catchingUp: on && state.status === 'connected' }),
  };
}

export const STATUS_LABEL: Record<ConnectionStatus, string> = {
  unpaired: 'Not paired',
  offline: 'Offline',
  connecting: 'Connecting',
  connected: 'Connected',
  reconnecting: 'Reconnecting',
};

/**
 * The pill's words: the status ("Pairing" while a pairing is under way, "Catching up" while
 * connected but behind), then the outbox.
 */
export function statusSummary(state: ConnectionState): { label: string; extra: string } {
  const label = state.pairingWith !== undefined ? 'Pairing' : state.status === 'connected' && state.catchingUp ? 'Catching up' : STATUS_LABEL[state.status];
  const parts = [...(state.queued ? [`${state.queued} queued`] : []), ...(state.failed ? [`${state.failed} not sent`] : [])];
  return { label, extra: parts.join(', ') };
}
