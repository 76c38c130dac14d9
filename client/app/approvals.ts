/**
 * When to show an approval request: the sheet opens by itself for a request of the session on
 * screen; a request from elsewhere shows as a badge and a banner until the person opens it.
 * "Later" closes the sheet without answering; the request stays in the badge. A request that
 * expired (its runtime restarted) stays in view, marked expired with the reason and no way to
 * answer it, until the person dismisses it: it must not just vanish.
 * @module
 */
import { createEffect, createSignal, on, type Accessor } from 'solid-js';
import type { PermissionAskedEvent } from '../../shared/protocol/runtime-events.ts';
import type { AppServices } from './context.ts';

export interface ApprovalItem {
  request: PermissionAskedEvent;
  /** Why it can no longer be answered; absent while it waits for an answer. */
  expired?: string;
}

export interface ApprovalsUi {
  /** Everything to show: expired requests first (to be acknowledged), then the waiting ones, oldest first. */
  readonly pending: Accessor<readonly ApprovalItem[]>;
  /** How many wait for an answer (expired ones do not). */
  readonly waiting: Accessor<number>;
  /** The item the sheet shows: the first of `pending`. */
  readonly current: Accessor<ApprovalItem | undefined>;
  readonly open: Accessor<boolean>;
  review(): void;
  later(): void;
  /** Acknowledges the current item when it expired. */
  dismiss(): void;
}

export function createApprovalsUi(services: Pick<AppServices, 'relay' | 'router'>): ApprovalsUi {
  const { relay } = services;
  const [open, setOpen] = createSignal(false);
  const deferred = new Set<string>();
  const pending = (): readonly ApprovalItem[] => [
    ...relay.expiredPermissions().map((e) => ({ request: e.request, expired: e.reason })),
    ...relay.permissions().map((request) => ({ request })),
  ];
  const current = () => pending()[0];

  createEffect(
    on([() => current()?.request, () => services.router.route()], ([req, route]) => {
      if (!req) return setOpen(false);
      const onItsSession = route?.name === 'session' && route.param === req.sessionId;
      if (onItsSession && !deferred.has(req.requestId)) setOpen(true);
    }),
  );

  return {
    pending,
    waiting: () => relay.permissions().length,
    current,
    open,
    review: () => setOpen(true),
    later() {
      const item = current();
      if (item) deferred.add(item.request.requestId);
      setOpen(false);
    },
    dismiss() {
      const item = current();
      if (item?.expired !== undefined) relay.dismissExpired(item.request.requestId);
    },
  };
}

/** One line on what a request is about, for the banner and the sheet's title. */
export function describeRequest(req: PermissionAskedEvent): { title: string; summary: string } {
  const command = req.subject?.command ?? req.patterns[0];
  const path = req.subject?.path ?? req.patterns[0];
  switch (req.permission) {
    case 'bash':
      return { title: 'Allow this command?', summary: `run ${command ?? 'a command'}` };
    case 'edit':
      return { title: 'Allow this file change?', summary: `change ${path ?? 'a file'}` };
    case 'webfetch':
      return { title: 'Allow fetching this page?', summary: `fetch ${req.subject?.url ?? req.patterns[0] ?? 'a web page'}` };
    case 'external_directory':
      return { title: 'Allow access outside the workspace?', summary: `use ${req.patterns[0] ?? 'a folder outside the workspace'}` };
    default:
      return { title: `Allow ${req.permission}?`, summary: `use ${req.permission}${req.patterns.length ? ` on ${req.patterns.join(', ')}` : ''}` };
  }
}
