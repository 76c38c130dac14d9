import { Show } from 'solid-js';
import { Banner } from '../ui/Banner.tsx';
import { Button } from '../ui/Button.tsx';
import { useApp } from './context.ts';
import { autoAnswer, describeRequest, useSecondClock, type ApprovalsUi } from './approvals.ts';

/** Under the top bar while a request waits (or expired unseen) and its sheet is closed (e.g. on another screen). */
export function ApprovalBanner(props: { ui: ApprovalsUi }) {
  const { relay } = useApp();
  const item = () => (props.ui.open() ? undefined : props.ui.current());
  const now = useSecondClock();
  const message = () => {
    const { request, ended: expired, timedOut } = item()!;
    const title = relay.sessions.get(request.sessionId)?.title;
    const where = title ? ` in “${title}”` : '';
    if (timedOut) return `The request to ${describeRequest(request).summary}${where} timed out: ${expired}.`;
    if (expired !== undefined) return `The request to ${describeRequest(request).summary}${where} expired: ${expired}. It can no longer be answered.`;
    const more = props.ui.waiting() - 1;
    const auto = autoAnswer(request.deadline, relay.activeHost()?.label ?? 'your computer', now());
    return `The agent asks to ${describeRequest(request).summary}${where}.${auto ? ` ${auto}` : ''}${more > 0 ? ` ${more} more waiting.` : ''}`;
  };
  return (
    <Show when={item()}>
      <Banner tone="warn" message={message()}>
        <Show
          when={item()!.ended === undefined}
          fallback={
            <Button variant="secondary" onClick={() => props.ui.dismiss()}>
              Dismiss
            </Button>
          }
        >
          <Button variant="primary" onClick={() => props.ui.review()}>
            Review
          </Button>
        </Show>
      </Banner>
    </Show>
  );
}
