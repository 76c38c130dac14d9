/**
 * The agent's questions (OpenCode's `question` tool) and devices' answers to them. The runtime
 * waits for an answer or a dismissal; the host keeps its own record of waiting questions, like
 * permission requests (permissions.ts): OpenCode forgets them when it restarts, so a question the
 * runtime lost is shown to devices as expired, with the reason, and an answer to it is refused
 * instead of being reported as delivered. A question whose workspace did not answer the runtime's
 * list is not lost: it stays waiting (host/runtime/permissions-list.ts).
 *
 * OpenCode 1.18 keeps a question listed after its turn was stopped (an answer is then taken and
 * goes nowhere): when a session goes idle, the host dismisses the questions it still has open, so
 * devices stop offering them and the runtime's list is clean.
 * @module
 */
import type { Logger } from '../log.ts';
import { RelayError } from '../../shared/protocol/errors.ts';
import { answersProblem, type QuestionAnswers, type QuestionAskedEvent, type QuestionExpiredEvent } from '../../shared/protocol/questions.ts';
import type { ExpiryReason, PermissionExpiry, RelayRuntimeEvent } from '../../shared/protocol/runtime-events.ts';
import { trimOldest } from '../../shared/bounded.ts';
import { requestIn, unseenError, type PermissionsList } from '../runtime/permissions-list.ts';
import type { ListedQuestion, RuntimePort } from '../runtime/port.ts';
import { toQuestionAsked } from '../runtime/to-relay.ts';

/** What this module needs of the runtime. */
export type QuestionRuntime = Pick<RuntimePort, 'listQuestions' | 'replyQuestion' | 'rejectQuestion'>;

/** Events this module makes for devices: questions found in the runtime's list, and expired ones. */
export type QuestionNotice = QuestionAskedEvent | QuestionExpiredEvent;

export interface QuestionDesk {
  /** Sees every runtime event, to keep the record of waiting questions. */
  observe(event: RelayRuntimeEvent): void;
  /**
   * A device's answers. Resolves once the runtime took them; answers that do not fit the
   * questions are refused (`protocol.invalid`); a question the runtime no longer has is refused
   * with `permission.expired` (or `request.unknown` when the host never saw it or it was answered);
   * one in a workspace that did not answer with `runtime.error`, and it keeps waiting.
   */
  reply(requestId: string, answers: QuestionAnswers): Promise<void>;
  /** A device dismisses the question (the runtime ends the turn); refused like `reply`. */
  reject(requestId: string): Promise<void>;
  /** Questions waiting for an answer, oldest first, as devices were shown them. */
  pending(): QuestionAskedEvent[];
  /**
   * Compares the host's record with the runtime's list (after the runtime (re)started or the
   * event stream came back): questions the runtime lost expire with `reason` (and `detail`, what
   * happened to the runtime, for a person), questions it has that the host never saw are
   * announced. Both go to `publish`.
   */
  sync(reason: ExpiryReason, detail?: string): Promise<void>;
}

interface Asked {
  event: QuestionAskedEvent;
  /** Observation order: sync only expires what was asked before it looked. */
  order: number;
}

/** Bounds for the host's records, so a runtime that never answers cannot grow them without end. */
const MAX_OPEN = 1000;
const MAX_CLOSED_REMEMBERED = 1000;

export function createQuestionDesk(runtime: QuestionRuntime, log: Logger, publish: (event: QuestionNotice) => void = () => {}): QuestionDesk {
  const open = new Map<string, Asked>();
  /** requestId → why and when it expired. */
  const expired = new Map<string, PermissionExpiry>();
  /** Questions answered or dismissed (through this host or elsewhere). */
  const closed = new Set<string>();
  let order = 0;

  const close = (requestId: string) => {
    open.delete(requestId);
    closed.add(requestId);
    trimOldest(closed, MAX_CLOSED_REMEMBERED);
  };

  const expire = (requestId: string, asked: QuestionAskedEvent, reason: ExpiryReason, detail?: string): PermissionExpiry => {
    const expiry: PermissionExpiry = { reason, at: Date.now(), ...(detail ? { detail } : {}) };
    open.delete(requestId);
    expired.set(requestId, expiry);
    trimOldest(expired, MAX_CLOSED_REMEMBERED);
    log.info('a question expired', { requestId, sessionId: asked.sessionId, reason, detail });
    publish({ type: 'question.expired', requestId, sessionId: asked.sessionId, ...expiry });
    return expiry;
  };

  // Refused with the same code as an expired permission request: the device acts on it the same way.
  const expiredError = (requestId: string, expiry: PermissionExpiry) =>
    new RelayError('permission.expired', `question ${requestId} expired (${expiry.reason}); the answer was not delivered`, expiry);

  /** The runtime does not have `requestId` (any more): the error to answer with. */
  const gone = (requestId: string): RelayError => {
    const asked = open.get(requestId);
    if (asked) return expiredError(requestId, expire(requestId, asked.event, 'withdrawn'));
    const why = expired.get(requestId);
    if (why !== undefined) return expiredError(requestId, why);
    if (closed.has(requestId)) return new RelayError('request.unknown', `question ${requestId} was answered or dismissed already`);
    return new RelayError('request.unknown', `no question ${requestId} is waiting`);
  };

  /** Asks the runtime whether `requestId` still waits, then runs `act` on it; refusals as documented on `reply`. */
  const answer = async (requestId: string, act: (listed: ListedQuestion) => Promise<void>) => {
    const why = expired.get(requestId);
    if (why !== undefined) throw expiredError(requestId, why);
    // OpenCode takes an answer to a question it lost in a restart only to say it does not know it; ask first, to say why.
    const list = await runtime.listQuestions();
    const listed = requestIn(list, requestId);
    if (listed === 'unseen') throw unseenError(requestId, list, 'question');
    if (!listed || closed.has(requestId)) throw gone(requestId);
    try {
      await act(listed);
    } catch (err) {
      if (err instanceof RelayError) throw err;
      const still = await runtime.listQuestions().then(
        (l) => requestIn(l, requestId) !== undefined,
        () => true,
      );
      throw still ? err : gone(requestId);
    }
    close(requestId);
  };

  const observe = (event: RelayRuntimeEvent) => {
    if (event.type === 'question.asked') {
      if (closed.has(event.requestId) || expired.has(event.requestId)) return;
      open.set(event.requestId, { event, order: ++order });
      trimOldest(open, MAX_OPEN);
    } else if (event.type === 'question.replied' || event.type === 'question.rejected') {
      close(event.requestId);
    } else if (event.type === 'session.idle') {
      for (const [id, asked] of open) {
        if (asked.event.sessionId !== event.sessionId) continue;
        log.info('dismissing a question whose turn ended', { requestId: id, sessionId: event.sessionId });
        runtime.rejectQuestion(id).catch((err: unknown) => log.debug('could not dismiss a question whose turn ended', { requestId: id, err }));
      }
    }
  };

  return {
    observe,
    reply: (requestId, answers) =>
      answer(requestId, async (listed) => {
        const problem = answersProblem(toQuestionAsked(listed).questions, answers);
        if (problem) throw new RelayError('protocol.invalid', `the answers to question ${requestId} do not fit it: ${problem}`);
        await runtime.replyQuestion(requestId, answers);
      }),
    reject: (requestId) => answer(requestId, () => runtime.rejectQuestion(requestId)),
    pending: () => [...open.values()].map((a) => a.event),
    async sync(reason, detail) {
      const before = order;
      let list: PermissionsList<ListedQuestion>;
      try {
        list = await runtime.listQuestions();
      } catch (err) {
        log.warn('could not compare waiting questions with the runtime', { err });
        return;
      }
      // Unseen questions may still wait: only a workspace that answered can show one is gone.
      const present = new Set([...list.requests.map((q) => q.id), ...list.unseen]);
      for (const [id, asked] of [...open]) if (asked.order <= before && !present.has(id)) expire(id, asked.event, reason, detail);
      for (const q of list.requests) {
        if (open.has(q.id) || expired.has(q.id) || closed.has(q.id)) continue;
        let asked: QuestionAskedEvent;
        try {
          asked = toQuestionAsked(q, `questions[${q.id}]`);
        } catch (err) {
          log.warn('a waiting question the runtime listed could not be read; it is not shown', { requestId: q.id, err });
          continue;
        }
        observe(asked);
        publish(asked);
      }
    },
  };
}
