import { Show } from 'solid-js';
import { Banner } from '../ui/Banner.tsx';
import { Button } from '../ui/Button.tsx';
import { autoAnswer, DISMISS, useSecondClock } from './approvals.ts';
import { useApp } from './context.ts';
import { describeQuestion, type QuestionsUi } from './questions.ts';

/** Under the top bar while a question waits (or ended unseen) and its sheet is closed. */
export function QuestionBanner(props: { ui: QuestionsUi }) {
  const { relay } = useApp();
  const item = () => (props.ui.open() ? undefined : props.ui.current());
  const now = useSecondClock();
  const message = () => {
    const { request, ended, timedOut } = item()!;
    const title = relay.sessions.get(request.sessionId)?.title;
    const where = title ? ` in “${title}”` : '';
    if (timedOut) return `The agent’s question ${describeQuestion(request)}${where} timed out: ${ended}.`;
    if (ended !== undefined) return `The agent’s question ${describeQuestion(request)}${where} expired: ${ended}. It can no longer be answered.`;
    const more = props.ui.waiting() - 1;
    const auto = autoAnswer(request.deadline, relay.activeHost()?.label ?? 'your computer', now(), DISMISS);
    return `The agent asks ${describeQuestion(request)}${where}.${auto ? ` ${auto}` : ''}${more > 0 ? ` ${more} more waiting.` : ''}`;
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
            Answer
          </Button>
        </Show>
      </Banner>
    </Show>
  );
}
