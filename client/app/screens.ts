/**
 * The screen table: one lazy screen per route (routes.ts), loaded on first visit or preloaded by
 * main.tsx.
 * @module
 */
import { lazy, type Component } from 'solid-js';
import type { RouteName, ScreenProps } from '../routes.ts';

type LazyScreen = Component<ScreenProps> & { preload: () => Promise<{ default: Component<ScreenProps> }> };

interface ScreenDef {
  readonly title: string;
  readonly component: LazyScreen;
}

export const SCREENS: Record<RouteName, ScreenDef> = {
  pair: { title: 'Pair', component: lazy(() => import('../screens/pair/PairScreen.tsx')) },
  sessions: { title: 'Sessions', component: lazy(() => import('../screens/sessions/SessionsScreen.tsx')) },
  session: { title: 'Session', component: lazy(() => import('../screens/session/SessionScreen.tsx')) },
  settings: { title: 'Settings', component: lazy(() => import('../screens/settings/SettingsScreen.tsx')) },
};
