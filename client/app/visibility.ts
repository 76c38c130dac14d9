/**
 * Tells the computer in use whether the app is on screen (`app.visibility`), on every new
 * connection and whenever that changes, so the host does not send notifications the person is
 * looking at anyway. Once the app is on screen its notifications have done their job and are closed.
 * @module
 */
import { createEffect, createRoot } from 'solid-js';
import type { ConnectionStore } from '../state/connection.ts';
import type { RelayApp } from '../state/relay.ts';

export function reportVisibility(connection: ConnectionStore, relay: Pick<RelayApp, 'request'>): void {
  const tell = () => {
    const visible = document.visibilityState === 'visible';
    // A failure is harmless: at worst a notification arrives while the app is open.
    relay.request({ t: 'app.visibility', visible }).catch(() => {});
    if (visible && 'serviceWorker' in navigator) {
      void navigator.serviceWorker.getRegistration().then(
        async (r) => {
          for (const n of (await r?.getNotifications()) ?? []) n.close();
        },
        () => {},
      );
    }
  };
  // Each connection starts as "not visible" on the host.
  createRoot(() => createEffect(() => connection.state.status === 'connected' && tell()));
  document.addEventListener('visibilitychange', () => {
    if (connection.state.status === 'connected') tell();
  });
}
