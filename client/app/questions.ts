/**
 * When to show the agent's questions, as approval requests are shown (approvals.ts): the sheet
 * opens by itself for a question of the session on screen (unless an approval sheet is open);
 * a question from elsewhere shows as a badge and a banner until the person opens it. "Later"
 * closes the sheet without answering. A question that timed out or was lost stays in view,
 * with why, until the person dismisses it.
 * @module
 */
import { createEffect, createSignal, on, type Accessor } from 'solid-js';
import type { QuestionAskedEvent } from '../../shared/protocol/questions.ts';
import type { AppServices } from './context.ts';

export interface QuestionItem {
  request: QuestionAskedEvent;
  /** Why it can no longer be answered; absent while it waits. */
  ended?: string;
  /** The host dismissed it because nobody answered in time. */
  timedOut?: boolean;
}

export interface QuestionsUi {
  /** Ended questions first (to be acknowledged), then the waiting ones, oldest first. */
  readonly pending: Accessor<readonly QuestionItem[]>;
  /** How many wait for an answer. */
  readonly waiting: Accessor<number>;
  readonly current: Accessor<QuestionItem | undefined>;
  readonly open: Accessor<boolean>;
  review(): void;
  later(): void;
  /** Acknowledges the current item when it ended. */
  dismiss(): void;
}

/** `blocked`: another sheet is open (an approval): this one waits for it to close. */
export function createQuestionsUi(services: Pick<AppServices, 'relay' | 'router'>, blocked: Accessor<boolean>): QuestionsUi {
  const { relay } = services;
  const [open, setOpen] = createSignal(false);
  const deferred = new Set<string>();
  const pending = (): readonly QuestionItem[] => [
    ...relay.endedQuestions().map((e) => ({ request: e.request, ended: e.reason, ...(e.timedOut ? { timedOut: true } : {}) })),
    ...relay.questions().map((request) => ({ request })),
  ];
  const current = () => pending()[0];

  createEffect(
    on([() => current()?.request, () => services.router.route(), blocked], ([req, route, busy]) => {
      if (!req) return setOpen(false);
      const onItsSession = route?.name === 'session' && route.param === req.sessionId;
      if (onItsSession && !busy && !deferred.has(req.requestId)) setOpen(true);
    }),
  );

  return {
    pending,
    waiting: () => relay.questions().length,
    current,
    open: () => open() && !blocked(),
    review: () => setOpen(true),
    later() {
      const item = current();
      if (item) deferred.add(item.request.requestId);
      setOpen(false);
    },
    dismiss() {
      const item = current();
      if (item?.ended !== undefined) relay.dismissEndedQuestion(item.request.requestId);
    },
  };
}

/** One line on what the agent asks, for the banner: its first question, and how many more. */
export function describeQuestion(req: QuestionAskedEvent): string {
  const first = req.questions[0]?.question ?? 'a question';
  const more = req.questions.length - 1;
  return `“${first}”${more > 0 ? ` and ${more} more question${more === 1 ? '' : 's'}` : ''}`;
}
