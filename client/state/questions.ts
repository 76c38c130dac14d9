/**
 * The agent's questions the computer in use waits on an answer to, and those that ended without
 * one from this phone in a way the person should see (timed out, or lost with the runtime): shown,
 * with why, until the person dismisses them. Kept like approval requests (approvals.ts).
 * @module
 */
import { batch, createSignal, type Accessor } from 'solid-js';
import { RequestError } from '../../shared/channel/errors.ts';
import type { QuestionAnswers, QuestionAskedEvent } from '../../shared/protocol/questions.ts';
import type { PermissionExpiry } from '../../shared/protocol/runtime-events.ts';
import { errorCode } from '../net/explain.ts';
import type { HostLink } from '../net/host-link.ts';
import { describeExpiry } from './approvals.ts';

/** A question that can no longer be answered, and why. */
export interface EndedQuestion {
  request: QuestionAskedEvent;
  /** Why, for a person (from the host's code, `describeExpiry`). */
  reason: string;
  /** The host dismissed it because nobody answered in time (not: the runtime lost it). */
  timedOut?: boolean;
}

export interface Questions {
  /** Questions waiting for an answer, oldest first. */
  readonly waitingList: Accessor<readonly QuestionAskedEvent[]>;
  readonly ended: Accessor<readonly EndedQuestion[]>;
  /** Whether a question of `sessionId` waits for an answer. */
  waiting(sessionId: string): boolean;
  asked(request: QuestionAskedEvent): void;
  /** Answered or dismissed (here or elsewhere). */
  drop(requestId: string): void;
  /** The turn ended: its questions cannot be answered any more. */
  sessionEnded(sessionId: string): void;
  /**
   * Moves a waiting question to the ended ones, with why; one this phone never showed is ignored.
   * `timeout`: the host's timeout dismissed it, as nobody answered in time.
   */
  end(requestId: string, expiry: PermissionExpiry | 'timeout' | undefined): void;
  /** Takes the host's list of waiting questions (in a resync) as the truth. */
  resync(questions: readonly QuestionAskedEvent[]): void;
  /** Sends the answers; rejects with the host's refusal (an expired question moves to the ended ones). */
  reply(request: QuestionAskedEvent, answers: QuestionAnswers): Promise<void>;
  /** Dismisses the question: the agent's turn ends. */
  reject(request: QuestionAskedEvent): Promise<void>;
  dismissEnded(requestId: string): void;
  /** Whether the tool call `callId` asked a question the host dismissed for want of an answer (seen live by this phone). */
  timedOut(callId: string): boolean;
  reset(): void;
}

export function createQuestions(deps: { request: HostLink['request'] }): Questions {
  const [list, setList] = createSignal<readonly QuestionAskedEvent[]>([]);
  const [ended, setEnded] = createSignal<readonly EndedQuestion[]>([]);
  /** Tool calls whose question timed out: the transcript's card says so even once the notice is dismissed (the runtime's own words say "dismissed"). */
  const [timedOutCalls, setTimedOutCalls] = createSignal<ReadonlySet<string>>(new Set());

  const drop = (requestId: string) => setList(list().filter((q) => q.requestId !== requestId));
  const end = (requestId: string, expiry: PermissionExpiry | 'timeout' | undefined) => {
    const request = list().find((q) => q.requestId === requestId);
    const timedOut = expiry === 'timeout';
    const reason = timedOut ? 'nobody answered in time, so your computer dismissed it and the agent stopped' : describeExpiry(expiry, 'question');
    batch(() => {
      drop(requestId);
      const callId = request?.tool?.callId;
      if (timedOut && callId) setTimedOutCalls(new Set([...timedOutCalls(), callId]));
      if (request && !ended().some((e) => e.request.requestId === requestId)) setEnded([...ended(), { request, reason, ...(timedOut ? { timedOut } : {}) }]);
    });
  };

  /** Sends `body`; what the host's refusal means for the question shown. */
  const send = async (request: QuestionAskedEvent, body: Parameters<HostLink['request']>[0]) => {
    if (ended().some((e) => e.request.requestId === request.requestId)) throw new QuestionEnded();
    try {
      await deps.request(body);
      drop(request.requestId);
    } catch (err) {
      const code = errorCode(err);
      // Answered elsewhere, or its turn ended: nothing left to decide.
      if (code === 'request.unknown') drop(request.requestId);
      // Gone with the runtime: the person must see that their answer did not count.
      if (code === 'permission.expired') end(request.requestId, err instanceof RequestError ? err.expiry : undefined);
      throw err;
    }
  };

  return {
    waitingList: list,
    ended,
    waiting: (sessionId) => list().some((q) => q.sessionId === sessionId),
    asked(request) {
      if (!list().some((q) => q.requestId === request.requestId)) setList([...list(), request]);
    },
    drop,
    sessionEnded: (sessionId) => setList(list().filter((q) => q.sessionId !== sessionId)),
    end,
    resync: (questions) => setList([...questions]),
    reply: (request, answers) => send(request, { t: 'question.reply', requestId: request.requestId, answers }),
    reject: (request) => send(request, { t: 'question.reject', requestId: request.requestId }),
    dismissEnded: (requestId) => setEnded(ended().filter((e) => e.request.requestId !== requestId)),
    timedOut: (callId) => timedOutCalls().has(callId),
    reset() {
      setList([]);
      setEnded([]);
      setTimedOutCalls(new Set<string>());
    },
  };
}

/** Refusing to send an answer to a question known to have ended (explain.ts words the code). */
class QuestionEnded extends Error {
  readonly code = 'permission.expired';
  constructor() {
    super('this question can no longer be answered; the answer was not sent');
    this.name = 'QuestionEnded';
  }
}
