import { Show, useContext } from 'solid-js';
import { AppContext } from '../app/context.ts';
import { statusSummary, type ConnectionStatus } from '../state/connection.ts';

export interface StatusPillProps {
  status: ConnectionStatus;
  reason: string;
}

/**
 * Connection status for the top bar; a live region, so changes are announced. Inside the app it
 * also says "Catching up" while a reconnect is still being replayed, and how many tasks wait to
 * be sent, read from the connection store the app provides.
 */
export function StatusPill(props: StatusPillProps) {
  const store = useContext(AppContext)?.connection.state;
  const summary = () =>
    statusSummary({ status: props.status, reason: props.reason, since: 0, queued: store?.queued ?? 0, failed: store?.failed ?? 0, catchingUp: store?.catchingUp ?? false });
  return (
    <p class="pill" data-status={props.status} data-catching-up={summary().label === 'Catching up' ? '' : undefined} role="status" title={props.reason}>
      <span class="pill__dot" aria-hidden="true" />
      <span class="pill__label">{summary().label}</span>
      <Show when={summary().extra}>
        <span class="pill__count">{` · ${summary().extra}`}</span>
      </Show>
      <span class="pill__reason">{`: ${props.reason}`}</span>
    </p>
  );
}
