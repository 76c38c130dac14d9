/**
 * What OpenCode's own clients may ask the runtime through the host: an allow-list of routes
 * (method and path), each with the scope it needs and how the layer treats it. Anything not listed
 * is refused with 403 before it reaches the runtime — the shell and terminals (`/session/{id}/shell`,
 * `/pty*`), configuration writes, `/auth/*`, `/global/dispose`, `/instance/dispose`,
 * `/experimental/*` and every route a later OpenCode adds — so a new route is closed until
 * someone decides it is safe.
 * @module
 */
import type { Scope } from '../../shared/protocol/messages.ts';
import { isRuntimeId } from '../policy/runtime-ids.ts';

/**
 * - `plain`: forwarded as it is;
 * - `events`: a server-sent event stream, filtered per event (scopes, workspaces);
 * - `config`: read, with anything that looks like a credential blanked out;
 * - `session-list`, `session-status`: OpenCode lists every session of a project, which may span
 *   several workspaces: only those of the credential's workspaces are kept;
 * - `create-session`: the host's permission rules are appended to the session's;
 * - `prompt`: the session gets the host's rules first (it may come from elsewhere);
 * - `sync-prompt`: the same, and the answer waits until the client's event stream has the turn's end;
 * - `permission-reply`, `legacy-permission-reply`: answered through the host's permission record
 *   (an `always` becomes a grant for that session only, as on phones).
 */
export type RouteKind =
  | 'plain'
  | 'session-list'
  | 'session-status'
  | 'events'
  | 'config'
  | 'create-session'
  | 'prompt'
  | 'sync-prompt'
  | 'permission-reply'
  | 'legacy-permission-reply'
  | 'file';

export interface CompatRoute {
  method: 'GET' | 'POST';
  /** Segments; `:name` matches one runtime id. */
  path: string;
  /** `null`: any valid credential. */
  scope: Scope | null;
  kind: RouteKind;
}

export const COMPAT_ROUTES: readonly CompatRoute[] = [
  { method: 'GET', path: '/global/health', scope: null, kind: 'plain' },
  { method: 'GET', path: '/event', scope: 'read', kind: 'events' },
  { method: 'GET', path: '/global/event', scope: 'read', kind: 'events' },
  { method: 'GET', path: '/path', scope: 'read', kind: 'plain' },
  { method: 'GET', path: '/project/current', scope: 'read', kind: 'plain' },
  { method: 'GET', path: '/vcs', scope: 'read', kind: 'plain' },
  { method: 'GET', path: '/config', scope: 'read', kind: 'config' },
  { method: 'GET', path: '/config/providers', scope: 'read', kind: 'config' },
  { method: 'GET', path: '/provider', scope: 'read', kind: 'config' },
  { method: 'GET', path: '/provider/auth', scope: 'read', kind: 'config' },
  { method: 'GET', path: '/agent', scope: 'read', kind: 'plain' },
  { method: 'GET', path: '/command', scope: 'read', kind: 'plain' },
  // What the terminal UI reads at start: status lists of language servers, MCP servers, formatters.
  { method: 'GET', path: '/lsp', scope: 'read', kind: 'plain' },
  { method: 'GET', path: '/mcp', scope: 'read', kind: 'config' },
  { method: 'GET', path: '/formatter', scope: 'read', kind: 'plain' },
  // The same lists on OpenCode's newer /api routes, which the terminal UI of 1.18 also reads.
  { method: 'GET', path: '/api/agent', scope: 'read', kind: 'plain' },
  { method: 'GET', path: '/api/command', scope: 'read', kind: 'plain' },
  { method: 'GET', path: '/api/skill', scope: 'read', kind: 'plain' },
  { method: 'GET', path: '/api/model', scope: 'read', kind: 'config' },
  { method: 'GET', path: '/api/provider', scope: 'read', kind: 'config' },
  { method: 'GET', path: '/session', scope: 'read', kind: 'session-list' },
  { method: 'GET', path: '/session/status', scope: 'read', kind: 'session-status' },
  { method: 'POST', path: '/session', scope: 'run', kind: 'create-session' },
  { method: 'GET', path: '/session/:sessionID', scope: 'read', kind: 'plain' },
  { method: 'GET', path: '/session/:sessionID/message', scope: 'read', kind: 'plain' },
  { method: 'GET', path: '/session/:sessionID/message/:messageID', scope: 'read', kind: 'plain' },
  { method: 'GET', path: '/session/:sessionID/children', scope: 'read', kind: 'plain' },
  { method: 'GET', path: '/session/:sessionID/todo', scope: 'read', kind: 'plain' },
  { method: 'GET', path: '/session/:sessionID/diff', scope: 'read', kind: 'plain' },
  { method: 'POST', path: '/session/:sessionID/message', scope: 'run', kind: 'sync-prompt' },
  { method: 'POST', path: '/session/:sessionID/prompt_async', scope: 'run', kind: 'prompt' },
  { method: 'POST', path: '/session/:sessionID/abort', scope: 'run', kind: 'plain' },
  { method: 'GET', path: '/permission', scope: 'approve', kind: 'plain' },
  { method: 'POST', path: '/permission/:requestID/reply', scope: 'approve', kind: 'permission-reply' },
  { method: 'POST', path: '/session/:sessionID/permissions/:requestID', scope: 'approve', kind: 'legacy-permission-reply' },
  { method: 'GET', path: '/question', scope: 'approve', kind: 'plain' },
  { method: 'POST', path: '/question/:questionID/reply', scope: 'approve', kind: 'plain' },
  { method: 'POST', path: '/question/:questionID/reject', scope: 'approve', kind: 'plain' },
  { method: 'GET', path: '/file', scope: 'read', kind: 'file' },
  { method: 'GET', path: '/file/content', scope: 'read', kind: 'file' },
  { method: 'GET', path: '/find/file', scope: 'read', kind: 'plain' },
];

export interface MatchedRoute {
  route: CompatRoute;
  params: Record<string, string>;
}

const SPLIT = COMPAT_ROUTES.map((route) => ({ route, segments: route.path.split('/').slice(1) }));

/** The listed route `method path` is, with its ids; undefined when it is not listed (or an id is not an id). */
export function matchRoute(method: string, path: string): MatchedRoute | undefined {
  const upper = method.toUpperCase();
  const segments = path.split('/').slice(1);
  for (const { route, segments: pattern } of SPLIT) {
    if (route.method !== upper || pattern.length !== segments.length) continue;
    const params: Record<string, string> = {};
    const fits = pattern.every((p, i) => {
      const s = segments[i]!;
      if (!p.startsWith(':')) return p === s;
      // Ids only: `..` or an encoded slash must never turn into another runtime route.
      if (!isRuntimeId(s)) return false;
      params[p.slice(1)] = s;
      return true;
    });
    if (fits) return { route, params };
  }
  return undefined;
}

/** The refusal for a route that is not listed, naming what the layer is for. */
export function unlistedMessage(method: string, path: string): string {
  return (
    `${method.toUpperCase()} ${path} is not available through OpenWork Relay: its OpenCode layer forwards only sessions, ` +
    'messages, prompts, abort, events, permissions and questions, agents, commands, providers and file reads in your workspaces. ' +
    'The shell, terminals (pty), configuration changes, /auth, dispose and experimental routes stay on the host.'
  );
}
