/**
 * When to show an approval request: the sheet opens by itself for a request of the session on
 * screen; a request from elsewhere shows as a badge and a banner until the person opens it.
 * "Later" closes the sheet without answering; the request stays in the badge.
 * @module
 */
import { createEffect, createSignal, on, type Accessor } from 'solid-js';
import type { PermissionAskedEvent } from '../../shared/protocol/runtime-events.ts';
import type { AppServices } from './context.ts';

export interface ApprovalsUi {
  readonly pending: Accessor<readonly PermissionAskedEvent[]>;
  /** The request the sheet shows: the oldest. */
  readonly current: Accessor<PermissionAskedEvent | undefined>;
  readonly open: Accessor<boolean>;
  review(): void;
  later(): void;
}

export function createApprovalsUi(services: Pick<AppServices, 'relay' | 'router'>): ApprovalsUi {
  const [open, setOpen] = createSignal(false);
  const deferred = new Set<string>();
  const pending = services.relay.permissions;
  const current = () => pending()[0];

  createEffect(
    on([current, () => services.router.route()], ([req, route]) => {
      if (!req) return setOpen(false);
      const onItsSession = route?.name === 'session' && route.param === req.sessionId;
      if (onItsSession && !deferred.has(req.requestId)) setOpen(true);
    }),
  );

  return {
    pending,
    current,
    open,
    review: () => setOpen(true),
    later() {
      const req = current();
      if (req) deferred.add(req.requestId);
      setOpen(false);
    },
  };
}

/** One line on what a request is about, for the banner and the sheet's title. */
export function describeRequest(req: PermissionAskedEvent): { title: string; summary: string } {
  const command = typeof req.metadata.command === 'string' ? req.metadata.command : req.patterns[0];
  const path = typeof req.metadata.filepath === 'string' ? req.metadata.filepath : req.patterns[0];
  switch (req.permission) {
    case 'bash':
      return { title: 'Allow this command?', summary: `run ${command ?? 'a command'}` };
    case 'edit':
      return { title: 'Allow this file change?', summary: `change ${path ?? 'a file'}` };
    case 'webfetch':
      return { title: 'Allow fetching this page?', summary: `fetch ${typeof req.metadata.url === 'string' ? req.metadata.url : req.patterns[0] ?? 'a web page'}` };
    case 'external_directory':
      return { title: 'Allow access outside the workspace?', summary: `use ${req.patterns[0] ?? 'a folder outside the workspace'}` };
    default:
      return { title: `Allow ${req.permission}?`, summary: `use ${req.permission}${req.patterns.length ? ` on ${req.patterns.join(', ')}` : ''}` };
  }
}
