/**
 * The routes: one screen per route, addressed by the URL fragment (`#/session/<id>`), so every
 * navigation stays on index.html and the service worker's shell serves them all offline. The
 * screens themselves are in the table of app/screens.ts: screens link to routes, so this module
 * must not import them.
 * @module
 */

export type RouteName = 'pair' | 'sessions' | 'session' | 'settings';

export interface Route {
  readonly name: RouteName;
  /** The one path parameter a screen takes: the session id, or a pairing code from a scanned QR link. */
  readonly param?: string;
}

/** What a screen is given by its route. */
export interface ScreenProps {
  readonly param?: string;
}

/** Whether each route needs its parameter; routes without one reject it. */
const PARAMS: Record<RouteName, 'required' | 'optional' | 'none'> = {
  pair: 'optional',
  sessions: 'none',
  session: 'required',
  settings: 'none',
};

function isRouteName(s: string): s is RouteName {
  return Object.hasOwn(PARAMS, s);
}

/** `#/session/abc` → `{ name: 'session', param: 'abc' }`; null for an empty or unknown fragment. */
export function parseRoute(hash: string): Route | null {
  const parts = hash.replace(/^#\/?/, '').split('/');
  const [name = '', raw, ...extra] = parts;
  if (!isRouteName(name) || extra.length > 0) return null;
  let param: string | undefined;
  try {
    param = raw ? decodeURIComponent(raw) : undefined;
  } catch {
    return null; // malformed %-escape
  }
  const rule = PARAMS[name];
  if ((rule === 'required' && !param) || (rule === 'none' && param)) return null;
  return param ? { name, param } : { name };
}

export function formatRoute(route: Route): string {
  return route.param ? `#/${route.name}/${encodeURIComponent(route.param)}` : `#/${route.name}`;
}
