/**
 * Entry point: wires the app's singletons, renders the shell at once and fetches the first
 * screen in parallel (its import starts before the shell renders), then the other screens.
 */
import './styles.css';
import { render } from 'solid-js/web';
import { App } from './app/App.tsx';
import { createHashRouter } from './app/router.ts';
import { parseRoute, SCREENS, type Route } from './routes.ts';
import { createConnectionStore } from './state/connection.ts';
import { hasPairedHost, openRelayDb } from './storage/db.ts';
import { createUpdateBridge } from './sw/bridge.ts';

const firstScreen = parseRoute(location.hash)?.name ?? 'pair';
const firstLoad = SCREENS[firstScreen].component.preload();

const services = {
  connection: createConnectionStore(),
  updates: createUpdateBridge(),
  router: createHashRouter(),
};

render(() => <App services={services} />, document.getElementById('app')!);

void homeRoute().then((route) => services.router.setHome(route));
services.updates.register().catch((err: unknown) => console.warn('Service worker registration failed', err));
// Once the first screen is in, fetch the others so they open at once. A failed load is shown by
// the shell's error boundary when that screen renders.
firstLoad.then(
  () => Object.values(SCREENS).forEach((screen) => screen.component.preload().catch(() => {})),
  () => {},
);

/** People with a paired computer start at their sessions; everyone else at pairing. */
async function homeRoute(): Promise<Route> {
  try {
    const db = await openRelayDb();
    try {
      return { name: (await hasPairedHost(db)) ? 'sessions' : 'pair' };
    } finally {
      db.close();
    }
  } catch {
    return { name: 'pair' }; // storage unavailable (private mode, quota): pairing still works
  }
}
