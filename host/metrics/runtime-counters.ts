/**
 * Task and permission counters derived from the runtime's own events, so they count what the
 * runtime did (a turn that ran, failed or was aborted) whichever device — or none — asked for it.
 * @module
 */
import type { RelayRuntimeEvent } from '../../shared/protocol/runtime-events.ts';
import type { Metrics } from './metrics.ts';

export function countRuntimeEvents(metrics: Pick<Metrics, 'inc'>): (event: RelayRuntimeEvent) => void {
  /** Sessions with a turn in progress, and whether that turn already failed. */
  const busy = new Map<string, { failed: boolean }>();
  const finish = (sessionId: string) => {
    const turn = busy.get(sessionId);
    if (!turn) return;
    busy.delete(sessionId);
    if (!turn.failed) metrics.inc('tasks_succeeded_total');
  };
  return (event) => {
    switch (event.type) {
      case 'session.status':
        if (event.status === 'busy' && !busy.has(event.sessionId)) {
          busy.set(event.sessionId, { failed: false });
          metrics.inc('tasks_started_total');
        } else if (event.status === 'idle') finish(event.sessionId);
        return;
      case 'session.idle':
        finish(event.sessionId);
        return;
      case 'session.error': {
        const turn = event.sessionId ? busy.get(event.sessionId) : undefined;
        if (turn?.failed) return;
        if (turn) turn.failed = true;
        if (event.kind === 'aborted') metrics.inc('tasks_aborted_total');
        else metrics.inc('tasks_failed_total', { reason: event.name || 'UnknownError' });
        return;
      }
      case 'permission.asked':
        metrics.inc('permission_prompts_total');
        return;
      case 'permission.replied':
        // The host only ever answers once/reject; a session grant arrives here as "once".
        metrics.inc('permission_answers_total', { answer: event.reply === 'always' ? 'session' : event.reply });
        return;
      default:
    }
  };
}
