/**
 * Keeps the stores in step with the computer in use: routes what its link reports (state,
 * welcome, resync, runtime status, events) to the stores each concerns, and says in the top bar
 * whether the app is still catching up.
 * @module
 */
import { batch } from 'solid-js';
import type { Welcome } from '../../shared/channel/client.ts';
import type { Resync } from '../../shared/protocol/messages.ts';
import type { RelayRuntimeEvent } from '../../shared/protocol/runtime-events.ts';
import type { LinkHandlers } from '../net/host-link.ts';
import type { Approvals } from './approvals.ts';
import type { ConnectionStore } from './connection.ts';
import type { HealthStore } from './health.ts';
import type { Hosts } from './hosts.ts';
import type { Link } from './link.ts';
import type { Outbox } from './outbox.ts';
import type { Questions } from './questions.ts';
import type { SessionList } from './session-list.ts';
import type { Timelines } from './timelines.ts';

export interface SyncDeps {
  connection: ConnectionStore;
  link: Pick<Link, 'generation'>;
  hosts: Hosts;
  health: HealthStore;
  list: SessionList;
  timelines: Timelines;
  approvals: Approvals;
  questions: Questions;
  outbox: Pick<Outbox, 'kick'>;
}

export interface Sync {
  /** What the link of the computer in use reports goes here. */
  readonly handlers: LinkHandlers;
  /** Asks the host for the session list. */
  refreshSessions(): Promise<void>;
  /** Applies a runtime event (also one the app infers, such as a task's session turning busy). */
  handleEvent(event: RelayRuntimeEvent): void;
}

export function createSync(deps: SyncDeps): Sync {
  const { connection, hosts, health, list, timelines, approvals, questions } = deps;
  const generation = deps.link.generation;
  /** Resyncs under way: the app is catching up until they are done and the list is fresh. */
  let resyncing = 0;

  /** Connected, and still replaying, resyncing, or waiting for a fresh session list. */
  const showCatchingUp = () => connection.catchingUp(health.state.phase === 'connected' && (resyncing > 0 || (!list.fresh() && !list.error())));

  const refreshSessions = async () => {
    const gen = generation();
    await list.refresh();
    if (gen === generation()) showCatchingUp();
  };

  const reloadAll = () => Promise.all([refreshSessions(), timelines.reload()]);

  const onWelcome = (welcome: Welcome) => {
    if (!hosts.active()) return;
    health.welcomed(welcome);
    hosts.learn(welcome);
    // A host that sends no `resync` (it predates it): reload everything shown.
    if (!welcome.resumed && welcome.seq === undefined) void reloadAll();
    // Resumed: the missed events follow; the list's statuses and titles are checked once too.
    else if (welcome.resumed) void refreshSessions();
  };

  /** What the host could not replay: reload it, and take its list of waiting requests as the truth. */
  const onResync = async (resync: Resync) => {
    resyncing++;
    showCatchingUp();
    try {
      const gen = generation();
      approvals.resync(resync.permissions);
      questions.resync(resync.questions ?? []);
      await Promise.all([refreshSessions(), timelines.reload(resync.sessions)]);
      if (gen !== generation() || list.error() || timelines.failed()) {
        throw new Error('the reload did not complete'); // keep the old resume point: resync again next time
      }
    } finally {
      resyncing--;
      showCatchingUp();
    }
  };

  const handleEvent = (event: RelayRuntimeEvent) => {
    list.apply(event);
    timelines.apply(event);
    if (event.type === 'permission.asked') approvals.asked(event);
    // Denied by the host's timeout: kept in view as timed out, not silently gone.
    else if (event.type === 'permission.replied') {
      if (event.by === 'timeout') approvals.expire(event.requestId, 'timeout');
      else approvals.drop(event.requestId);
    } else if (event.type === 'permission.expired') approvals.expire(event.requestId, event);
    else if (event.type === 'question.asked') questions.asked(event);
    else if (event.type === 'question.replied') questions.drop(event.requestId);
    // Dismissed by the host's timeout: kept in view as timed out, not silently gone.
    else if (event.type === 'question.rejected') {
      if (event.by === 'timeout') questions.end(event.requestId, 'timeout');
      else questions.drop(event.requestId);
    } else if (event.type === 'question.expired') questions.end(event.requestId, event);
    else if (event.type === 'session.error') health.failed(event);
    // The host lost the runtime's stream for a while: what is shown may have gaps.
    else if (event.type === 'runtime.reconnected') void reloadAll();
    // A turn cut short is over: a task queued behind it may go now.
    else if (event.type === 'session.interrupted') deps.outbox.kick();
    else if (event.type === 'session.idle') {
      health.idle(event.sessionId);
      approvals.sessionEnded(event.sessionId);
      questions.sessionEnded(event.sessionId);
      timelines.refetch(event.sessionId); // the final state, for the cache: one fetch per finished turn
      deps.outbox.kick(); // a task waiting for this turn to end may go now
    }
  };

  const handlers: LinkHandlers = {
    onState(state) {
      batch(() => {
        health.showLink(state);
        list.linkChanged(state.phase === 'connected');
      });
      showCatchingUp();
      if (state.phase === 'connected') deps.outbox.kick();
    },
    onWelcome,
    onResync,
    // An event this app cannot read (a newer host's) is skipped; the link still counts its seq.
    onEvent: (_seq, event) => event && batch(() => handleEvent(event)),
    onRuntime(runtime) {
      // Requests failed with runtime.not-ready while it started: load now.
      if (health.runtime(runtime) && health.state.phase === 'connected' && !list.fresh()) void reloadAll();
      if (runtime.state === 'ready') deps.outbox.kick();
    },
    onRtt: (ms) => health.rtt(ms),
  };

  return { handlers, refreshSessions, handleEvent };
}
