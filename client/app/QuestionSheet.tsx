import { createEffect, createSignal, For, Index, on, Show } from 'solid-js';
import type { QuestionAnswers, QuestionAskedEvent, QuestionInfo } from '../../shared/protocol/questions.ts';
import { explainRequest } from '../net/explain.ts';
import { Button } from '../ui/Button.tsx';
import { Sheet } from '../ui/Sheet.tsx';
import { autoAnswer, DISMISS, useSecondClock } from './approvals.ts';
import { useApp } from './context.ts';
import type { QuestionsUi } from './questions.ts';

/** One question's choice: the options picked (in the options' order) and any typed answer. */
interface Choice {
  picked: string[];
  typed: string;
}

/** The answer a choice gives: the picked labels, then the typed text (a single-choice question takes one of them). */
function answerOf(q: QuestionInfo, c: Choice): string[] {
  const typed = q.custom === false ? '' : c.typed.trim();
  if (!q.multiple) return typed ? [typed] : c.picked.slice(0, 1);
  return [...c.picked, ...(typed ? [typed] : [])];
}

function QuestionField(props: { q: QuestionInfo; index: number; choice: Choice; onChange: (c: Choice) => void; disabled: boolean }) {
  const name = () => `question-${props.index}`;
  const pick = (label: string, on: boolean) => {
    const { q, choice } = props;
    if (!q.multiple) return props.onChange({ picked: on ? [label] : [], typed: '' });
    const picked = q.options.map((o) => o.label).filter((l) => (l === label ? on : choice.picked.includes(l)));
    props.onChange({ ...choice, picked });
  };
  return (
    <fieldset class="question" disabled={props.disabled}>
      <legend class="question__text">
        <Show when={props.q.header}>
          <span class="chip">{props.q.header}</span>{' '}
        </Show>
        {props.q.question}
      </legend>
      <Show when={props.q.multiple}>
        <p class="hint">Choose one or more.</p>
      </Show>
      <For each={props.q.options}>
        {(o) => (
          <label class="question__option">
            <input
              type={props.q.multiple ? 'checkbox' : 'radio'}
              name={name()}
              value={o.label}
              checked={props.choice.picked.includes(o.label)}
              onChange={(e) => pick(o.label, e.currentTarget.checked)}
            />
            <span>
              <strong>{o.label}</strong>
              <Show when={o.description}>
                <span class="question__description">{o.description}</span>
              </Show>
            </span>
          </label>
        )}
      </For>
      <Show when={props.q.custom !== false}>
        <label class="question__typed">
          <span>{props.q.options.length ? 'Or type your own answer' : 'Your answer'}</span>
          <input
            type="text"
            value={props.choice.typed}
            maxLength={4000}
            onInput={(e) => {
              const typed = e.currentTarget.value;
              // A typed answer replaces the single choice, as a radio button would.
              props.onChange({ picked: props.q.multiple || !typed.trim() ? props.choice.picked : [], typed });
            }}
          />
        </label>
      </Show>
    </fieldset>
  );
}

function QuestionForm(props: { request: QuestionAskedEvent; ui: QuestionsUi }) {
  const { relay } = useApp();
  const [choices, setChoices] = createSignal<Choice[]>(props.request.questions.map(() => ({ picked: [], typed: '' })));
  const [busy, setBusy] = createSignal(false);
  const [error, setError] = createSignal('');
  const now = useSecondClock();
  const hostName = () => relay.activeHost()?.label ?? 'your computer';
  const answers = (): QuestionAnswers => props.request.questions.map((q, i) => answerOf(q, choices()[i]!));
  const complete = () => answers().every((a) => a.length > 0);
  const act = async (run: () => Promise<void>) => {
    if (busy()) return;
    setBusy(true);
    setError('');
    try {
      await run();
    } catch (err) {
      setError(explainRequest(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <form
      class="approval"
      onSubmit={(e) => {
        e.preventDefault();
        if (complete()) void act(() => relay.replyQuestion(props.request, answers()));
      }}
    >
      <Show when={autoAnswer(props.request.deadline, hostName(), now(), DISMISS)}>
        <p class="hint countdown" role="timer">
          {autoAnswer(props.request.deadline, hostName(), now(), DISMISS)}
        </p>
      </Show>
      <Index each={props.request.questions}>
        {(q, i) => <QuestionField q={q()} index={i} choice={choices()[i]!} disabled={busy()} onChange={(c) => setChoices(choices().map((old, j) => (j === i ? c : old)))} />}
      </Index>
      <Show when={error()}>
        <p class="note note--error" role="alert">
          {error()}
        </p>
      </Show>
      <div class="sheet__actions sheet__actions--stack">
        <Button type="submit" variant="primary" disabled={busy() || !complete()}>
          Send answer
        </Button>
        <Button variant="danger" disabled={busy()} onClick={() => void act(() => relay.rejectQuestion(props.request))}>
          Dismiss the question
        </Button>
        <Button variant="quiet" disabled={busy()} onClick={() => props.ui.later()}>
          Decide later
        </Button>
      </div>
      <p class="hint">Dismissing it stops the agent’s turn.</p>
    </form>
  );
}

/**
 * The question sheet: the agent's questions with their options (one or several choices), a typed
 * answer where allowed, Send / Dismiss / Later. A question that timed out or was lost says so and
 * why, and offers only to acknowledge it.
 */
export default function QuestionSheet(props: { ui: QuestionsUi }) {
  const { relay } = useApp();
  const item = () => props.ui.current();
  const title = () => {
    const r = item();
    if (!r) return 'Question';
    if (r.timedOut) return 'This question timed out';
    if (r.ended !== undefined) return 'This question expired';
    return r.request.questions.length > 1 ? 'The agent asks you' : 'The agent asks';
  };
  const close = () => (item()?.ended !== undefined ? props.ui.dismiss() : props.ui.later());
  // Scrolls a new question into view from the top.
  let body: HTMLDivElement | undefined;
  createEffect(
    on(
      () => item()?.request.requestId,
      () => body?.scrollTo?.(0, 0),
      { defer: true },
    ),
  );
  return (
    <Sheet open={props.ui.open() && item() !== undefined} title={title()} onClose={close}>
      <div ref={body}>
        <Show when={item()} keyed>
          {({ request, ended, timedOut }) => (
            <>
              <p class="hint">
                {relay.sessions.get(request.sessionId)?.title ? `In “${relay.sessions.get(request.sessionId)!.title}”` : 'In a session'} on{' '}
                {relay.activeHost()?.label ?? 'your computer'}.
              </p>
              <Show
                when={ended === undefined}
                fallback={
                  <div class="approval">
                    <p class="note note--error">
                      {timedOut ? 'Timed out' : 'Expired'}: {ended}. Ask again in the session if it is still needed.
                    </p>
                    <ul class="patterns">
                      <For each={request.questions}>{(q) => <li>{q.question}</li>}</For>
                    </ul>
                    <div class="sheet__actions sheet__actions--stack">
                      <Button variant="primary" onClick={() => props.ui.dismiss()}>
                        Dismiss
                      </Button>
                    </div>
                  </div>
                }
              >
                <QuestionForm request={request} ui={props.ui} />
              </Show>
            </>
          )}
        </Show>
      </div>
    </Sheet>
  );
}
