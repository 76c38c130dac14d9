/**
 * Entry point: wires the app's singletons, renders the shell at once and fetches the first
 * screen in parallel (its import starts before the shell renders), then the other screens.
 * Paired computers and cached sessions are read from IndexedDB before any connection is made,
 * so the app shows the last known state instantly, offline included.
 */
import './styles.css';
import { createSignal } from 'solid-js';
import { render } from 'solid-js/web';
import { App } from './app/App.tsx';
import { takePairLink } from './app/pair-link.ts';
import { reportVisibility } from './app/visibility.ts';
import { createHashRouter } from './app/router.ts';
import { SCREENS } from './app/screens.ts';
import { currentDeviceIdentity } from './net/device-name.ts';
import { parseRoute, type RouteName } from './routes.ts';
import { createConnectionStore } from './state/connection.ts';
import { afterNextPaint } from './state/frame.ts';
import { createRelayApp } from './state/relay.ts';
import { relayDb } from './storage/db.ts';
import { createUpdateBridge } from './sw/bridge.ts';

const opened = takePairLink();
const first: RouteName[] = opened ? ['pair'] : [parseRoute(location.hash)?.name ?? 'sessions'];
if (!parseRoute(location.hash) && !opened) first.push('pair'); // home is one of these two
const firstLoads = first.map((name) => SCREENS[name].component.preload());

const connection = createConnectionStore();
const [pairLink, setPairLink] = createSignal(opened);
const relay = createRelayApp({
  connection,
  db: relayDb,
  loadNet: () => import('./net/host-link.ts'),
  device: () => currentDeviceIdentity(),
  origin: location.origin,
  fetchHealth: () => fetch('/healthz', { cache: 'no-store' }).then((r) => r.json() as Promise<unknown>),
});
reportVisibility(connection, relay);
const services = { connection, updates: createUpdateBridge(), router: createHashRouter(), relay, pairLink, setPairLink };

render(() => <App services={services} />, document.getElementById('app')!);

// A pairing link opened while the app is already showing (same tab): pair with it too.
window.addEventListener('hashchange', () => {
  const link = takePairLink();
  if (!link) return;
  setPairLink(link);
  services.router.navigate({ name: 'pair' }, { replace: true });
});

// People with a paired computer start at their sessions; everyone else at pairing.
void relay.start().then(() => services.router.setHome({ name: relay.hosts().length ? 'sessions' : 'pair' }));
services.updates.register().catch((err: unknown) => console.warn('Service worker registration failed', err));
// Once the first screen is painted, fetch the others so they open at once: not before, or they
// compete with it for the network and the CPU. A failed load is shown by the shell's error
// boundary when that screen renders.
Promise.all(firstLoads).then(
  () => afterNextPaint(() => Object.values(SCREENS).forEach((screen) => void screen.component.preload().catch(() => {}))),
  () => {},
);
