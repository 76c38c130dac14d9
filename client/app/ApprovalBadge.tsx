import { Show } from 'solid-js';
import type { ApprovalsUi } from './approvals.ts';

/** Top bar: how many approvals wait; opens the sheet. */
export function ApprovalBadge(props: { ui: ApprovalsUi }) {
  const count = () => props.ui.waiting();
  return (
    <Show when={count() > 0}>
      <button type="button" class="topbar__badge" onClick={() => props.ui.review()} aria-label={`${count()} ${count() === 1 ? 'approval' : 'approvals'} waiting`}>
        <svg viewBox="0 0 24 24" width="22" height="22" aria-hidden="true">
          <path d="M12 3l8 4v5c0 4.5-3.4 8.3-8 9-4.6-.7-8-4.5-8-9V7z" />
        </svg>
        <span class="topbar__count" aria-hidden="true">{count()}</span>
      </button>
    </Show>
  );
}
