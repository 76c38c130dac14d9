/**
 * Connection status shown in the top bar. The network layer drives it through the named
 * actions; everything else only reads `state`.
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
}

export interface ConnectionStore {
  readonly state: ConnectionState;
  connecting(reason?: string): void;
  connected(reason?: string): void;
  reconnecting(reason: string): void;
  offline(reason: string): void;
}

export function createConnectionStore(initial: { status?: ConnectionStatus; reason?: string; now?: () => number } = {}): ConnectionStore {
  const now = initial.now ?? Date.now;
  const [state, setState] = createStore<ConnectionState>({
    status: initial.status ?? 'offline',
    reason: initial.reason ?? 'Not paired with a computer yet',
    since: now(),
  });
  const move = (status: ConnectionStatus, reason: string) => {
    if (status === state.status && reason === state.reason) return;
    setState({ status, reason, since: status === state.status ? state.since : now() });
  };
  return {
    state,
    connecting: (reason = 'Reaching your computer') => move('connecting', reason),
    connected: (reason = 'End-to-end encrypted') => move('connected', reason),
    reconnecting: (reason) => move('reconnecting', reason),
    offline: (reason) => move('offline', reason),
  };
}

export const STATUS_LABEL: Record<ConnectionStatus, string> = {
  offline: 'Offline',
  connecting: 'Connecting',
  connected: 'Connected',
  reconnecting: 'Reconnecting',
};
