import { STATUS_LABEL, type ConnectionStatus } from '../state/connection.ts';

export interface StatusPillProps {
  status: ConnectionStatus;
  reason: string;
}

/** Connection status for the top bar; a live region, so changes are announced. */
export function StatusPill(props: StatusPillProps) {
  return (
    <p class="pill" data-status={props.status} role="status" title={props.reason}>
      <span class="pill__dot" aria-hidden="true" />
      <span class="pill__label">{STATUS_LABEL[props.status]}</span>
      <span class="pill__reason">{`: ${props.reason}`}</span>
    </p>
  );
}
