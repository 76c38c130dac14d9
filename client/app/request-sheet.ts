/**
 * When to show a request that waits for the person (an approval, a question): its sheet opens by
 * itself for a request of the session on screen; a request from elsewhere shows as a badge and a
 * banner until the person opens it. "Later" closes the sheet without answering; the request stays
 * in the badge. A request that ended without an answer (its runtime restarted, the host's timeout
 * answered it) stays in view with why, and no way to answer it, until the person dismisses it: it
 * must not just vanish.
 * @module
 */
import { createEffect, createSignal, on, type Accessor } from 'solid-js';
import type { AppServices } from './context.ts';

/** What both kinds of request have: the host's id and the session it is about. */
export interface WaitingRequest {
  requestId: string;
  sessionId: string;
}

export interface SheetItem<R extends WaitingRequest> {
  request: R;
  /** Why it can no longer be answered; absent while it waits for an answer. */
  ended?: string;
  /** It was the host's timeout that answered it, as nobody answered in time. */
  timedOut?: boolean;
}

/** One request that ended unanswered, as the relay's state keeps it. */
export interface EndedRequest<R> {
  request: R;
  reason: string;
  timedOut?: boolean;
}

export interface RequestSheetUi<R extends WaitingRequest> {
  /** Everything to show: ended requests first (to be acknowledged), then the waiting ones, oldest first. */
  readonly pending: Accessor<readonly SheetItem<R>[]>;
  /** How many wait for an answer (ended ones do not). */
  readonly waiting: Accessor<number>;
  /** The item the sheet shows: the first of `pending`. */
  readonly current: Accessor<SheetItem<R> | undefined>;
  readonly open: Accessor<boolean>;
  review(): void;
  later(): void;
  /** Acknowledges the current item when it ended. */
  dismiss(): void;
}

/** What the host's timeout does to a request: denies a permission, dismisses a question. */
export interface AutoVerb {
  does: string;
  doing: string;
}

/** How the banner speaks of one kind of request. */
export interface BannerWords<R> {
  /** The request as a subject, e.g. "The request to change a.ts". */
  subject(request: R): string;
  /** The request as it waits, e.g. "The agent asks to change a.ts". */
  asking(request: R): string;
  /** What the host does when nobody answers in time (default: denies). */
  verb?: AutoVerb;
  /** The button that opens the sheet. */
  open: string;
}

export interface RequestSheetSource<R> {
  waiting: Accessor<readonly R[]>;
  ended: Accessor<readonly EndedRequest<R>[]>;
  dismissEnded(requestId: string): void;
  /** Another sheet is open: this one waits for it to close. */
  blocked?: Accessor<boolean>;
}

export function createRequestSheet<R extends WaitingRequest>(router: AppServices['router'], source: RequestSheetSource<R>): RequestSheetUi<R> {
  const [open, setOpen] = createSignal(false);
  const blocked = source.blocked ?? (() => false);
  const deferred = new Set<string>();
  const pending = (): readonly SheetItem<R>[] => [
    ...source.ended().map((e) => ({ request: e.request, ended: e.reason, ...(e.timedOut ? { timedOut: true } : {}) })),
    ...source.waiting().map((request) => ({ request })),
  ];
  const current = () => pending()[0];

  createEffect(
    on([() => current()?.request, () => router.route(), blocked], ([req, route, busy]) => {
      if (!req) return setOpen(false);
      const onItsSession = route?.name === 'session' && route.param === req.sessionId;
      if (onItsSession && !busy && !deferred.has(req.requestId)) setOpen(true);
    }),
  );

  return {
    pending,
    waiting: () => source.waiting().length,
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
      if (item?.ended !== undefined) source.dismissEnded(item.request.requestId);
    },
  };
}
