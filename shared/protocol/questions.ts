/**
 * The agent's questions to the person, as the relay carries them. OpenCode's `question` tool asks
 * one or more questions, each with options (a label and a description), maybe several choices
 * (`multiple`) and maybe a typed answer (`custom`, allowed unless the runtime says false), and
 * the turn waits until they are answered or dismissed. The host relays the request to devices
 * that may answer (`approve`), keeps it across reconnects and restarts, and times it out like a
 * permission request (host/rpc/questions.ts, host/policy/timeouts.ts).
 *
 * Events (inside `event`, numbered like the others; registered in runtime-events.ts):
 * `question.asked`, `question.replied`, `question.rejected` (dismissed, or timed out:
 * `by: "timeout"`) and `question.expired` (the runtime lost it). Requests: `question.reply` and
 * `question.reject` (requests.ts). See docs/protocol.md.
 * @module
 */
import type { ExpiryFields } from './errors.ts';
import { ProtocolError, bool, int, list, obj, str, strItem, type Obj } from './guard.ts';

/** Ids as the protocol bounds them (messages.ts). */
const ID = { min: 1, max: 128 };
/** Bounds for what one request may carry: generous for a person, finite for a phone. */
export const QUESTION_LIMITS = { questions: 100, options: 100, text: 4000, label: 500, answer: 4000 } as const;

export type QuestionOption = {
  label: string;
  description: string;
};

export type QuestionInfo = {
  /** The whole question. */
  question: string;
  /** A short label for it (OpenCode asks the model for at most 30 characters). */
  header: string;
  options: QuestionOption[];
  /** Several options may be chosen. */
  multiple?: boolean;
  /** Whether a typed answer is allowed; absent means allowed (OpenCode's default). */
  custom?: boolean;
};

/** One answer per question, in order: the chosen labels and any typed text. */
export type QuestionAnswers = string[][];

export type QuestionAskedEvent = {
  type: 'question.asked';
  requestId: string;
  sessionId: string;
  questions: QuestionInfo[];
  /** The tool call that asked (its card in the transcript). */
  tool?: { messageId: string; callId: string };
  /** When the host will dismiss it for want of an answer (epoch ms, the host's clock); set by the host. */
  deadline?: number;
};

export type QuestionRepliedEvent = {
  type: 'question.replied';
  requestId: string;
  sessionId: string;
  answers: QuestionAnswers;
};

export type QuestionRejectedEvent = {
  type: 'question.rejected';
  requestId: string;
  sessionId: string;
  /** "timeout": the host dismissed it because nobody answered in time (set by the host). */
  by?: 'timeout';
};

/**
 * A host event: the runtime no longer has the question (it restarted, or withdrew it); answers
 * are refused with `permission.expired`. Why and when, as codes, like `permission.expired`.
 */
export type QuestionExpiredEvent = { type: 'question.expired'; requestId: string; sessionId: string } & ExpiryFields;

function optBool(o: Obj, key: string, path: string): boolean | undefined {
  return o[key] === undefined ? undefined : bool(o, key, path);
}

function parseOption(v: unknown, path: string): QuestionOption {
  const o = obj(v, path);
  return { label: str(o, 'label', path, { max: QUESTION_LIMITS.label }), description: str(o, 'description', path, { max: QUESTION_LIMITS.text }) };
}

/** One question as the runtime or the host sends it; throws ProtocolError naming a bad field. */
export function parseQuestionInfo(v: unknown, path: string): QuestionInfo {
  const o = obj(v, path);
  const multiple = optBool(o, 'multiple', path);
  const custom = optBool(o, 'custom', path);
  return {
    question: str(o, 'question', path, { max: QUESTION_LIMITS.text }),
    header: str(o, 'header', path, { max: QUESTION_LIMITS.label }),
    options: list(o, 'options', path, parseOption, QUESTION_LIMITS.options),
    ...(multiple !== undefined ? { multiple } : {}),
    ...(custom !== undefined ? { custom } : {}),
  };
}

/** Answers as a device sends them or the runtime reports them: a list of label lists. */
export function parseAnswers(o: Obj, key: string, path: string): QuestionAnswers {
  return list(o, key, path, (a, p) => list({ a }, 'a', p, strItem({ max: QUESTION_LIMITS.answer }), QUESTION_LIMITS.options + 1), QUESTION_LIMITS.questions);
}

/** Each question event's fields (all but `type`), by type: part of the event registry (runtime-events.ts). */
export interface QuestionEventFields {
  'question.asked': Omit<QuestionAskedEvent, 'type'>;
  'question.replied': Omit<QuestionRepliedEvent, 'type'>;
  'question.rejected': Omit<QuestionRejectedEvent, 'type'>;
  'question.expired': Omit<QuestionExpiredEvent, 'type'>;
}

export const questionRef = (o: Obj, p: string) => ({ requestId: str(o, 'requestId', p, ID), sessionId: str(o, 'sessionId', p, ID) });

/**
 * One parser per question event: reads the fields (not `type`) and throws ProtocolError naming a
 * bad one. `question.expired` is parsed beside `permission.expired` (runtime-events.ts), whose
 * expiry fields it shares.
 */
export const QUESTION_EVENT_PARSERS: { [K in Exclude<keyof QuestionEventFields, 'question.expired'>]: (o: Obj, path: string) => QuestionEventFields[K] } = {
  'question.asked': (o, p) => {
    const tool = o.tool === undefined ? undefined : obj(o.tool, `${p}.tool`);
    const deadline = o.deadline === undefined ? undefined : int(o, 'deadline', p, { min: 0 });
    return {
      ...questionRef(o, p),
      questions: list(o, 'questions', p, parseQuestionInfo, QUESTION_LIMITS.questions),
      ...(tool ? { tool: { messageId: str(tool, 'messageId', `${p}.tool`, ID), callId: str(tool, 'callId', `${p}.tool`, { min: 1, max: 256 }) } } : {}),
      ...(deadline !== undefined ? { deadline } : {}),
    };
  },
  'question.replied': (o, p) => ({ ...questionRef(o, p), answers: parseAnswers(o, 'answers', p) }),
  'question.rejected': (o, p) => {
    if (o.by !== undefined && o.by !== 'timeout') throw new ProtocolError(`${p}.by`, 'expected "timeout" or nothing');
    return { ...questionRef(o, p), ...(o.by === 'timeout' ? { by: 'timeout' as const } : {}) };
  },
};

/** The parameters of `question.reply` (all but `t` and `id`); the request id is checked as a runtime id by the caller. */
export function parseQuestionReplyParams(o: Obj, path: string): { answers: QuestionAnswers } {
  return { answers: parseAnswers(o, 'answers', path) };
}

/** A pending question as `resync` lists it. */
export function parsePendingQuestion(v: unknown, path: string): QuestionAskedEvent {
  const o = obj(v, path);
  if (o.type !== 'question.asked') throw new ProtocolError(`${path}.type`, 'expected "question.asked"');
  return { type: 'question.asked', ...QUESTION_EVENT_PARSERS['question.asked'](o, path) };
}

/**
 * Checks a device's answers against the questions before they reach the runtime (which takes any
 * strings): one answer per question, at least one choice each, one only unless `multiple`, and
 * typed text only where `custom` is not false. Returns why not, for a person, or undefined.
 */
export function answersProblem(questions: readonly QuestionInfo[], answers: QuestionAnswers): string | undefined {
  if (answers.length !== questions.length) return `expected ${questions.length} answer${questions.length === 1 ? '' : 's'}, one per question, got ${answers.length}`;
  for (const [i, q] of questions.entries()) {
    const a = answers[i]!;
    const where = `answer ${i + 1} ("${q.header || q.question}")`;
    if (a.length === 0 || a.some((x) => x.trim() === '')) return `${where} is empty`;
    if (a.length > 1 && !q.multiple) return `${where} has ${a.length} choices, but this question takes one`;
    if (new Set(a).size !== a.length) return `${where} names a choice twice`;
    const typed = a.filter((x) => !q.options.some((opt) => opt.label === x));
    if (typed.length > 0 && q.custom === false) return `${where}: "${typed[0]}" is not one of its options, and this question takes no typed answer`;
    if (typed.length > 1) return `${where} has more than one typed answer`;
  }
  return undefined;
}
