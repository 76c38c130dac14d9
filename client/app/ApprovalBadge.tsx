import { Show } from 'solid-js';
import type { ApprovalsUi } from './approvals.ts';
import type { QuestionsUi } from './questions.ts';

/** Top bar: how many approvals and questions of the agent wait; opens the sheet (approvals first). */
export function ApprovalBadge(props: { ui: ApprovalsUi; questions: QuestionsUi }) {
  const count = () => props.ui.waiting() + props.questions.waiting();
  const label = () => {
    const a = props.ui.waiting();
    const q = props.questions.waiting();
    const parts = [a ? `${a} ${a === 1 ? 'approval' : 'approvals'}` : '', q ? `${q} ${q === 1 ? 'question' : 'questions'}` : ''].filter(Boolean);
    return `${parts.join(' and ')} waiting`;
  };
  return (
    <Show when={count() > 0}>
      <button type="button" class="topbar__badge" onClick={() => (props.ui.waiting() > 0 ? props.ui.review() : props.questions.review())} aria-label={label()}>
        <svg viewBox="0 0 24 24" width="22" height="22" aria-hidden="true">
          <path d="M12 3l8 4v5c0 4.5-3.4 8.3-8 9-4.6-.7-8-4.5-8-9V7z" />
        </svg>
        <span class="topbar__count" aria-hidden="true">
          {count()}
        </span>
      </button>
    </Show>
  );
}
