/**
 * What the health panel and the top bar show of the computer in use: the link's phase and why,
 * the round trip, the host's and runtime's versions, a provider problem, and how the last task
 * ended. The link drives it; a runtime event may set the last task.
 * @module
 */
import { createStore } from 'solid-js/store';
import type { Welcome } from '../../shared/channel/client.ts';
import type { ErrorCode } from '../../shared/protocol/errors.ts';
import type { RuntimeStatus } from '../../shared/protocol/messages.ts';
import type { EventOf } from '../../shared/protocol/runtime-events.ts';
import { sameOrigin } from '../net/addresses.ts';
import type { LinkState } from '../net/host-link.ts';
import type { HostRecord } from '../storage/db.ts';
import type { ConnectionStore } from './connection.ts';
import { NO_HOST } from './link.ts';

export interface LastTask {
  sessionId: string;
  result: 'finished' | 'failed' | 'stopped';
  note?: string;
  at: number;
}

export interface Health {
  phase: LinkState['phase'] | 'unpaired';
  reason: string;
  code?: ErrorCode;
  address?: string;
  connectedAt?: number;
  /** When the last connection ended: the runtime and provider facts below are as known then. */
  lostAt?: number;
  rttMs?: number;
  pingAt?: number;
  hostVersion?: string;
  runtime?: RuntimeStatus;
  /** From the host's /healthz, when the page comes from that host. */
  uptimeSeconds?: number;
  /** Set when a turn failed because no model provider works (a `provider-auth` run error). */
  providerProblem?: string;
  lastTask?: LastTask;
}

export interface HealthDeps {
  connection: ConnectionStore;
  activeHost: () => HostRecord | undefined;
  origin: string;
  fetchHealth?: () => Promise<unknown>;
  now: () => number;
}

export interface HealthStore {
  readonly state: Health;
  /** Shows a change of the link, in the top bar too (the caller batches it with what else changes). */
  showLink(state: LinkState): void;
  /** No computer is in use. */
  unpaired(): void;
  /** Forgets everything known of the previous computer. */
  reset(): void;
  welcomed(welcome: Welcome): void;
  /** Takes the runtime's status; true when it has just become ready. */
  runtime(status: RuntimeStatus): boolean;
  runtimeReady(): boolean;
  rtt(ms: number): void;
  /** A turn of `sessionId` ended (`session.idle`). */
  idle(sessionId: string): void;
  failed(event: EventOf<'session.error'>): void;
  /** Asks the host's /healthz for its uptime, when the page comes from the computer in use. */
  refresh(): Promise<void>;
}

export function createHealth(deps: HealthDeps): HealthStore {
  const { now } = deps;
  const [health, setHealth] = createStore<Health>({ phase: 'unpaired', reason: NO_HOST });

  return {
    state: health,

    showLink(state) {
      const c = deps.connection;
      if (state.phase === 'connecting') c.connecting(state.reason);
      else if (state.phase === 'connected') c.connected();
      else if (state.phase === 'waiting') c.reconnecting(state.reason);
      else c.offline(state.reason);
      if (health.phase === 'connected' && state.phase !== 'connected') setHealth('lostAt', now());
      setHealth({
        phase: state.phase,
        reason: state.phase === 'connected' ? 'End-to-end encrypted' : state.reason,
        code: state.phase === 'stopped' ? state.code : undefined,
        address: state.phase === 'connected' ? state.address : health.address,
      });
      if (state.phase === 'connected') setHealth('connectedAt', now());
    },

    unpaired() {
      deps.connection.unpaired();
      setHealth({ phase: 'unpaired', reason: NO_HOST });
    },

    reset() {
      setHealth({
        phase: 'unpaired',
        reason: NO_HOST,
        rttMs: undefined,
        pingAt: undefined,
        runtime: undefined,
        hostVersion: undefined,
        uptimeSeconds: undefined,
        providerProblem: undefined,
        lastTask: undefined,
        address: undefined,
        connectedAt: undefined,
        lostAt: undefined,
        code: undefined,
      });
    },

    welcomed: (welcome) => setHealth({ hostVersion: welcome.host.version }),

    runtime(status) {
      const wasReady = health.runtime?.state === 'ready';
      setHealth('runtime', status);
      return status.state === 'ready' && !wasReady;
    },

    runtimeReady: () => health.runtime?.state === 'ready',
    rtt: (ms) => setHealth({ rttMs: Math.round(ms), pingAt: now() }),

    idle(sessionId) {
      // A failure or a stop was reported just before this idle: keep that as the result.
      const last = health.lastTask;
      if (!(last?.sessionId === sessionId && last.result !== 'finished' && last.at > now() - 5000)) {
        setHealth('lastTask', { sessionId, result: 'finished', at: now() });
      }
    },

    failed(event) {
      if (!event.sessionId) return;
      const stopped = event.kind === 'aborted';
      setHealth('lastTask', { sessionId: event.sessionId, result: stopped ? 'stopped' : 'failed', ...(stopped ? {} : { note: event.message || event.name }), at: now() });
      if (event.kind === 'provider-auth') setHealth('providerProblem', event.message || 'no model provider is signed in');
    },

    async refresh() {
      const host = deps.activeHost();
      if (!host || !deps.fetchHealth || !host.addresses.some((a) => sameOrigin(a, deps.origin))) return;
      try {
        const body = (await deps.fetchHealth()) as { uptimeSeconds?: unknown };
        if (typeof body?.uptimeSeconds === 'number') setHealth('uptimeSeconds', body.uptimeSeconds);
      } catch {
        setHealth('uptimeSeconds', undefined);
      }
    },
  };
}
