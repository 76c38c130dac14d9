/**
 * A permission question nobody answers must not hold a task forever (and the runtime's process
 * with it): after the configured time the host answers "reject" with a message saying why. The
 * runtime hands that message to the model as the tool's error, so the task tells the person that
 * nobody answered instead of hanging.
 *
 * Questions asked while the host was not listening (before it started, or while the event stream
 * was reconnecting) are found by listing the runtime's open requests; their wait starts then.
 * A question whose workspace did not answer that list is still timed: missing from it is not
 * answered (host/runtime/permissions-list.ts), and a denial that could not be delivered while the
 * question may still wait is tried again after another full wait.
 *
 * The agent's own questions (the `question` tool) are timed the same way, with the same time; the
 * runtime takes no message with a dismissal, so the host dismisses them, which ends the turn, and
 * devices learn from `question.rejected` with `by: "timeout"` that nobody answered.
 * @module
 */
import type { Logger } from '../log.ts';
import type { RelayRuntimeEvent, RelayRuntimeEventType } from '../../shared/protocol/runtime-events.ts';
import { trimOldest } from '../../shared/bounded.ts';
import { requestIn, type PermissionsList } from '../runtime/permissions-list.ts';

/** What this needs of the runtime bridge (host/runtime/bridge.ts fits). */
export interface TimeoutRuntime {
  onEvent(listener: (event: RelayRuntimeEvent) => void): () => void;
  listPermissions(): Promise<PermissionsList>;
  replyPermission(requestId: string, reply: 'once' | 'reject', message?: string): Promise<void>;
  /** Resolves once the event stream is connected. */
  subscribed?(): Promise<void>;
}

/** What question timeouts need of the runtime bridge (host/runtime/bridge.ts fits). */
export interface QuestionTimeoutRuntime extends Pick<TimeoutRuntime, 'onEvent' | 'subscribed'> {
  listQuestions(): Promise<PermissionsList>;
  rejectQuestion(requestId: string): Promise<void>;
}

export interface PermissionTimeoutOptions<R = TimeoutRuntime> {
  runtime: R;
  timeoutSeconds: number;
  log: Logger;
  /** A question was denied because nobody answered it (the host's metrics count these). */
  onTimeout?(requestId: string): void;
}

export interface PermissionTimeouts {
  /** Whether the host is answering, or answered, `requestId` because its time ran out. */
  answeredByTimeout(requestId: string): boolean;
  /**
   * When the host will answer `requestId` for want of an answer (epoch ms), for devices to count
   * down to; undefined when it is not being timed (answered, or not seen by this module yet).
   */
  deadlineOf(requestId: string): number | undefined;
  /** Questions waiting now. */
  waiting(): number;
  stop(): void;
}

/** Ids of timed-out requests remembered so their `permission.replied` (`question.rejected`) can be recognised. */
const REMEMBERED = 1000;

/**
 * The words the host's timeout answers with: the runtime hands them to the model and shows them
 * as the tool's error after its own "The user rejected permission …" preamble.
 */
export function timeoutMessage(seconds: number): string {
  const minutes = seconds / 60;
  const span = Number.isInteger(minutes) ? `${minutes} minute${minutes === 1 ? '' : 's'}` : `${seconds} second${seconds === 1 ? '' : 's'}`;
  return `No one answered within ${span}, so the host denied it`;
}

/**
 * The host's own timeout message inside a tool's error text, when it is there: the host wrote
 * those words, so it may read them back (to mark the tool part `denied: "timeout"` for devices,
 * also in a transcript reloaded long after the event that said so).
 */
export function timeoutDenial(text: string): string | undefined {
  return /No one answered within \d+ (?:minutes?|seconds?), so the host denied it/.exec(text)?.[0];
}

export function startPermissionTimeouts(opts: PermissionTimeoutOptions): PermissionTimeouts {
  const message = timeoutMessage(opts.timeoutSeconds);
  return startTimeouts(opts, {
    noun: 'permission request',
    verb: 'denied',
    asked: 'permission.asked',
    answered: ['permission.replied'],
    list: () => opts.runtime.listPermissions(),
    answer: (id) => opts.runtime.replyPermission(id, 'reject', message),
  });
}

/** The same policy for the agent's questions: dismissed when nobody answered in time. */
export function startQuestionTimeouts(opts: PermissionTimeoutOptions<QuestionTimeoutRuntime>): PermissionTimeouts {
  return startTimeouts(opts, {
    noun: 'question',
    verb: 'dismissed',
    asked: 'question.asked',
    answered: ['question.replied', 'question.rejected'],
    list: () => opts.runtime.listQuestions(),
    answer: (id) => opts.runtime.rejectQuestion(id),
  });
}

/** What is timed: which events ask and close a request, and how the host answers one in the runtime. */
interface TimedKind {
  noun: string;
  verb: string;
  asked: RelayRuntimeEventType;
  answered: RelayRuntimeEventType[];
  list(): Promise<PermissionsList>;
  answer(requestId: string): Promise<void>;
}

function startTimeouts(opts: PermissionTimeoutOptions<Pick<TimeoutRuntime, 'onEvent' | 'subscribed'>>, kind: TimedKind): PermissionTimeouts {
  const { runtime, log } = opts;
  const ms = opts.timeoutSeconds * 1000;
  const timers = new Map<string, NodeJS.Timeout>();
  /** requestId → when its timer fires (Date.now() ms), for as long as the timer is set. */
  const deadlines = new Map<string, number>();
  const timedOut = new Set<string>();
  let stopped = false;

  const clear = (id: string) => {
    clearTimeout(timers.get(id));
    timers.delete(id);
    deadlines.delete(id);
  };

  const expire = (id: string) => {
    timers.delete(id);
    deadlines.delete(id);
    timedOut.add(id);
    trimOldest(timedOut, REMEMBERED);
    kind.answer(id).then(
      () => {
        log.info(`${kind.verb} a ${kind.noun} nobody answered in time`, { requestId: id, timeoutSeconds: opts.timeoutSeconds });
        opts.onTimeout?.(id);
      },
      (err: unknown) => {
        timedOut.delete(id);
        log.debug(`could not answer a ${kind.noun} that timed out`, { requestId: id, err });
        // Usually answered at the last moment, or lost with a restarted runtime; but a workspace
        // that is not answering refuses the denial while its question may wait still: try again later.
        kind.list().then(
          (list) => {
            if (requestIn(list, id) !== undefined) arm(id);
          },
          () => {},
        );
      },
    );
  };

  const arm = (id: string) => {
    if (stopped || timers.has(id) || timedOut.has(id)) return;
    const timer = setTimeout(() => expire(id), ms);
    timer.unref();
    timers.set(id, timer);
    deadlines.set(id, Date.now() + ms);
  };

  /** Adopts the runtime's list of waiting questions as the truth. */
  const resync = async () => {
    let list: PermissionsList;
    try {
      list = await kind.list();
    } catch (err) {
      log.debug(`could not list the waiting ${kind.noun}s`, { err });
      return;
    }
    for (const id of [...timers.keys()]) if (requestIn(list, id) === undefined) clear(id);
    for (const p of list.requests) arm(p.id);
  };

  const unsubscribe = runtime.onEvent((event) => {
    if (event.type === kind.asked && 'requestId' in event) arm(event.requestId);
    else if (kind.answered.includes(event.type) && 'requestId' in event) clear(event.requestId);
    else if (event.type === 'runtime.reconnected') void resync();
  });
  runtime.subscribed?.().then(resync, () => {});

  return {
    answeredByTimeout: (id) => timedOut.has(id),
    deadlineOf: (id) => deadlines.get(id),
    waiting: () => timers.size,
    stop() {
      stopped = true;
      unsubscribe();
      for (const id of [...timers.keys()]) clear(id);
    },
  };
}
