/**
 * The agent's questions as the person sees them: like approval requests (request-sheet.ts), except
 * that a question's sheet waits while an approval's is open.
 * @module
 */
import type { Accessor } from 'solid-js';
import type { QuestionAskedEvent } from '../../shared/protocol/questions.ts';
import { DISMISS } from './approvals.ts';
import type { AppServices } from './context.ts';
import { createRequestSheet, type BannerWords, type RequestSheetUi, type SheetItem } from './request-sheet.ts';

export type QuestionItem = SheetItem<QuestionAskedEvent>;
export type QuestionsUi = RequestSheetUi<QuestionAskedEvent>;

/** `blocked`: another sheet is open (an approval): this one waits for it to close. */
export function createQuestionsUi(services: Pick<AppServices, 'relay' | 'router'>, blocked: Accessor<boolean>): QuestionsUi {
  const { relay } = services;
  return createRequestSheet(services.router, {
    waiting: relay.questions,
    ended: relay.endedQuestions,
    dismissEnded: (id) => relay.dismissEndedQuestion(id),
    blocked,
  });
}

/** How the banner speaks of a question; the host's timeout dismisses it. */
export const QUESTION_WORDS: BannerWords<QuestionAskedEvent> = {
  subject: (req) => `The agent’s question ${describeQuestion(req)}`,
  asking: (req) => `The agent asks ${describeQuestion(req)}`,
  verb: DISMISS,
  open: 'Answer',
};

/** One line on what the agent asks, for the banner: its first question, and how many more. */
export function describeQuestion(req: QuestionAskedEvent): string {
  const first = req.questions[0]?.question ?? 'a question';
  const more = req.questions.length - 1;
  return `“${first}”${more > 0 ? ` and ${more} more question${more === 1 ? '' : 's'}` : ''}`;
}
