import { Show } from 'solid-js';
import { Banner } from '../ui/Banner.tsx';
import { Button } from '../ui/Button.tsx';
import { autoAnswer, useSecondClock } from './approvals.ts';
import { useApp } from './context.ts';
import type { BannerWords, RequestSheetUi, WaitingRequest } from './request-sheet.ts';

/** Under the top bar while a request waits (or ended unseen) and its sheet is closed (e.g. on another screen). */
export function RequestBanner<R extends WaitingRequest & { deadline?: number }>(props: { ui: RequestSheetUi<R>; words: BannerWords<R> }) {
  const { relay } = useApp();
  const item = () => (props.ui.open() ? undefined : props.ui.current());
  const now = useSecondClock();
  const message = () => {
    const { request, ended, timedOut } = item()!;
    const title = relay.sessions.get(request.sessionId)?.title;
    const where = title ? ` in “${title}”` : '';
    if (timedOut) return `${props.words.subject(request)}${where} timed out: ${ended}.`;
    if (ended !== undefined) return `${props.words.subject(request)}${where} expired: ${ended}. It can no longer be answered.`;
    const more = props.ui.waiting() - 1;
    const auto = autoAnswer(request.deadline, relay.activeHost()?.label ?? 'your computer', now(), props.words.verb);
    return `${props.words.asking(request)}${where}.${auto ? ` ${auto}` : ''}${more > 0 ? ` ${more} more waiting.` : ''}`;
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
            {props.words.open}
          </Button>
        </Show>
      </Banner>
    </Show>
  );
}
