import { Show } from 'solid-js';
import { Banner } from '../ui/Banner.tsx';
import { Button } from '../ui/Button.tsx';
import { useApp } from './context.ts';
import { describeRequest, type ApprovalsUi } from './approvals.ts';

/** Under the top bar while a request waits and its sheet is closed (e.g. on another screen). */
export function ApprovalBanner(props: { ui: ApprovalsUi }) {
  const { relay } = useApp();
  const req = () => (props.ui.open() ? undefined : props.ui.current());
  const message = () => {
    const r = req()!;
    const title = relay.sessions.get(r.sessionId)?.title;
    const more = props.ui.pending().length - 1;
    return `The agent asks to ${describeRequest(r).summary}${title ? ` in “${title}”` : ''}.${more > 0 ? ` ${more} more waiting.` : ''}`;
  };
  return (
    <Show when={req()}>
      <Banner tone="warn" message={message()}>
        <Button variant="primary" onClick={() => props.ui.review()}>Review</Button>
      </Banner>
    </Show>
  );
}
