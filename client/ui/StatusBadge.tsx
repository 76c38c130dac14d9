import type { SessionStatus } from '../state/timeline.ts';

export const SESSION_STATUS_LABEL: Record<SessionStatus, string> = {
  running: 'Running',
  waiting: 'Waiting for approval',
  idle: 'Idle',
  failed: 'Failed',
  interrupted: 'Interrupted',
};

/** A session's status as a coloured chip with its name in words. */
export function StatusBadge(props: { status: SessionStatus }) {
  return (
    <span class="badge" data-status={props.status}>
      <span class="badge__dot" aria-hidden="true" />
      {SESSION_STATUS_LABEL[props.status]}
    </span>
  );
}
