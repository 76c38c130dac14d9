/**
 * How the sessions list names a session's state: the status the app keeps (the same the session's
 * own screen shows), with a turn that ended split into done and stopped, as people tell them apart.
 * @module
 */
import type { SessionStatus } from '../../state/timeline.ts';

export const ROW_STATES = ['running', 'waiting', 'done', 'stopped', 'failed', 'interrupted'] as const;
export type RowState = (typeof ROW_STATES)[number];

export const ROW_STATE_LABEL: Record<RowState, string> = {
  running: 'Running',
  waiting: 'Waiting for you',
  done: 'Done',
  stopped: 'Stopped',
  failed: 'Failed',
  interrupted: 'Interrupted',
};

/** `stopped`: a person stopped its last turn (the session is idle since). */
export function rowState(status: SessionStatus, stopped: boolean | undefined): RowState {
  if (status === 'idle') return stopped ? 'stopped' : 'done';
  return status;
}
