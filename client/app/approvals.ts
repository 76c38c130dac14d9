/**
 * When to show an approval request: the sheet opens by itself for a request of the session on
 * screen; a request from elsewhere shows as a badge and a banner until the person opens it.
 * "Later" closes the sheet without answering; the request stays in the badge. A request that
 * expired (its runtime restarted) stays in view, marked expired with the reason and no way to
 * answer it, until the person dismisses it: it must not just vanish.
 * @module
 */
import { createEffect, createSignal, on, onCleanup, type Accessor } from 'solid-js';
import type { PermissionAskedEvent } from '../../shared/protocol/runtime-events.ts';
import type { AppServices } from './context.ts';

export interface ApprovalItem {
  request: PermissionAskedEvent;
  /** Why it can no longer be answered; absent while it waits for an answer. */
  expired?: string;
  /** It was the host's timeout that answered it (denied, as nobody answered in time). */
  timedOut?: boolean;
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
    ...relay.expiredPermissions().map((e) => ({ request: e.request, expired: e.reason, ...(e.timedOut ? { timedOut: true } : {}) })),
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

/**
 * What happens to a waiting request if nobody answers: the host denies it at its `deadline`
 * (host/policy/timeouts.ts). "4:05" left, "now" once it is due; undefined when the host sent no
 * deadline (an older host, or no timeout). The deadline is the host's clock: a phone whose clock
 * is off by seconds counts down a little early or late, which a countdown of minutes tolerates.
 */
export function autoAnswer(deadline: number | undefined, host: string, now: number, verb: AutoVerb = DENY): string | undefined {
  if (deadline === undefined) return undefined;
  const s = Math.ceil((deadline - now) / 1000);
  if (s <= 0) return `Nobody answered in time: ${host} is ${verb.doing} it now.`;
  const pad = (n: number) => String(n).padStart(2, '0');
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const left = h ? `${h}:${pad(m)}:${pad(s % 60)}` : `${m}:${pad(s % 60)}`;
  return `If nobody answers, ${host} ${verb.does} it in ${left}.`;
}

/** What the host's timeout does to a request: denies a permission, dismisses a question. */
export interface AutoVerb {
  does: string;
  doing: string;
}
const DENY: AutoVerb = { does: 'denies', doing: 'denying' };
export const DISMISS: AutoVerb = { does: 'dismisses', doing: 'dismissing' };

/** The time now, every second while a component that reads it is shown. */
export function useSecondClock(): Accessor<number> {
  const [now, setNow] = createSignal(Date.now());
  const timer = setInterval(() => setNow(Date.now()), 1000);
  onCleanup(() => clearInterval(timer));
  return now;
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

/** What a grant of every request of a kind covers, in words. */
const EVERY: Record<string, string> = {
  edit: 'every file edit',
  bash: 'every command',
  read: 'every file read',
  glob: 'every file search',
  grep: 'every text search',
  list: 'every folder listing',
  webfetch: 'every web page fetch',
  external_directory: 'every use of folders outside the workspace',
};

/**
 * What "Always allow for this session" allows, in words: "every file edit in this session" for a
 * grant of everything of its kind (`*`), else the patterns it covers.
 */
export function sessionGrantWords(req: Pick<PermissionAskedEvent, 'permission' | 'always' | 'patterns'>, directory?: string): string {
  const patterns = req.always.length ? req.always : req.patterns;
  if (!patterns.length || patterns.includes('*')) return `${EVERY[req.permission] ?? `every “${req.permission}” request`} in this session`;
  const shown = patterns.map((p) => `“${relativePath(p, directory)}”`).join(', ');
  return `${req.permission === 'bash' ? 'commands matching' : req.permission === 'edit' ? 'edits of' : `“${req.permission}” on`} ${shown} in this session`;
}

/** A path as the person knows it: relative to the session's workspace when inside it. */
export function relativePath(path: string, directory: string | undefined): string {
  if (!directory) return path;
  const root = directory.endsWith('/') ? directory : `${directory}/`;
  return path.startsWith(root) ? path.slice(root.length) || '.' : path;
}
