/**
 * Approval requests as the person sees them (request-sheet.ts says when the sheet opens), and the
 * words for what each asks and what a grant covers.
 * @module
 */
import { createSignal, onCleanup, type Accessor } from 'solid-js';
import type { PermissionAskedEvent } from '../../shared/protocol/runtime-events.ts';
import type { AppServices } from './context.ts';
import { createRequestSheet, type AutoVerb, type BannerWords, type RequestSheetUi, type SheetItem } from './request-sheet.ts';

export type ApprovalItem = SheetItem<PermissionAskedEvent>;
export type ApprovalsUi = RequestSheetUi<PermissionAskedEvent>;

export function createApprovalsUi(services: Pick<AppServices, 'relay' | 'router'>): ApprovalsUi {
  const { relay } = services;
  return createRequestSheet(services.router, {
    waiting: relay.permissions,
    ended: relay.expiredPermissions,
    dismissEnded: (id) => relay.dismissExpired(id),
  });
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

const DENY: AutoVerb = { does: 'denies', doing: 'denying' };
export const DISMISS: AutoVerb = { does: 'dismisses', doing: 'dismissing' };

/** The time now, every second while a component that reads it is shown. */
export function useSecondClock(): Accessor<number> {
  const [now, setNow] = createSignal(Date.now());
  const timer = setInterval(() => setNow(Date.now()), 1000);
  onCleanup(() => clearInterval(timer));
  return now;
}

/** How the banner speaks of a permission request. */
export const APPROVAL_WORDS: BannerWords<PermissionAskedEvent> = {
  subject: (req) => `The request to ${describeRequest(req).summary}`,
  asking: (req) => `The agent asks to ${describeRequest(req).summary}`,
  open: 'Review',
};

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
