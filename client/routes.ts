/**
 * The route table: one lazy screen per route, addressed by the URL fragment (`#/session/<id>`),
 * so every navigation stays on index.html and the service worker's shell serves them all offline.
 * @module
 */
import { lazy, type Component } from 'solid-js';

export type RouteName = 'pair' | 'sessions' | 'session' | 'settings';

export interface Route {
  readonly name: RouteName;
  /** The one path parameter a screen takes: the session id, or a pairing code from a scanned QR link. */
  readonly param?: string;
}

export interface ScreenProps {
  readonly param?: string;
}

type LazyScreen = Component<ScreenProps> & { preload: () => Promise<{ default: Component<ScreenProps> }> };

interface ScreenDef {
  readonly title: string;
  readonly component: LazyScreen;
  /** Whether the route needs its parameter; routes without one reject it. */
  readonly param: 'required' | 'optional' | 'none';
}

export const SCREENS: Record<RouteName, ScreenDef> = {
  pair: { title: 'Pair', param: 'optional', component: lazy(() => import('./screens/pair/PairScreen.tsx')) },
  sessions: { title: 'Sessions', param: 'none', component: lazy(() => import('./screens/sessions/SessionsScreen.tsx')) },
  session: { title: 'Session', param: 'required', component: lazy(() => import('./screens/session/SessionScreen.tsx')) },
  settings: { title: 'Settings', param: 'none', component: lazy(() => import('./screens/settings/SettingsScreen.tsx')) },
};

function isRouteName(s: string): s is RouteName {
  return Object.hasOwn(SCREENS, s);
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
  const rule = SCREENS[name].param;
  if ((rule === 'required' && !param) || (rule === 'none' && param)) return null;
  return param ? { name, param } : { name };
}

export function formatRoute(route: Route): string {
  return route.param ? `#/${route.name}/${encodeURIComponent(route.param)}` : `#/${route.name}`;
}
