import { Show, useContext, type JSX } from 'solid-js';
import { AppContext } from '../app/context.ts';
import { statusSummary, type ConnectionStatus } from '../state/connection.ts';

export interface StatusPillProps {
  status: ConnectionStatus;
  reason: string;
  /** Connect now instead of waiting for the next retry; while there is one to skip, the pill is a button for it. */
  onRetry?: () => void;
}

/**
 * Connection status for the top bar; a live region, so changes are announced. It says why and
 * what happens next ("Cannot reach vm, trying again…"); on a narrow screen that sentence takes
 * the label's place rather than being hidden. Inside the app it also says "Pairing" while a
 * pairing is under way, "Catching up" while a reconnect is still being replayed, and how many
 * tasks wait to be sent, read from the connection store the app provides.
 */
export function StatusPill(props: StatusPillProps) {
  const store = useContext(AppContext)?.connection.state;
  const pairingWith = () => store?.pairingWith;
  const summary = () =>
    statusSummary({
      status: props.status,
      reason: props.reason,
      since: 0,
      queued: store?.queued ?? 0,
      failed: store?.failed ?? 0,
      catchingUp: store?.catchingUp ?? false,
      ...(pairingWith() !== undefined ? { pairingWith: pairingWith()! } : {}),
    });
  const reason = () => (pairingWith() !== undefined ? `Pairing with ${pairingWith()}` : props.reason);
  const shown = () => (pairingWith() !== undefined ? 'pairing' : props.status);
  const retryable = () => props.onRetry !== undefined && pairingWith() === undefined && (props.status === 'reconnecting' || props.status === 'offline');
  const body = (): JSX.Element => (
    <>
      <span class="pill__dot" aria-hidden="true" />
      <span class="pill__label">{summary().label}</span>
      <Show when={summary().extra}>
        <span class="pill__count">{` · ${summary().extra}`}</span>
      </Show>
      <span class="pill__reason">
        <span class="pill__sep">{': '}</span>
        {reason()}
      </span>
    </>
  );
  return (
    <Show
      when={retryable()}
      fallback={
        <p class="pill" data-status={shown()} data-catching-up={summary().label === 'Catching up' ? '' : undefined} role="status" title={reason()}>
          {body()}
        </p>
      }
    >
      <button type="button" class="pill pill--retry" data-status={shown()} title={`${reason()}. Tap to try again now.`} onClick={() => props.onRetry?.()}>
        <span class="pill__body" role="status">
          {body()}
        </span>
        <span class="visually-hidden">Tap to try again now.</span>
      </button>
    </Show>
  );
}
