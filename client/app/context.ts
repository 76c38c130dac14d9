import { createContext, useContext, type Accessor, type Setter } from 'solid-js';
import type { ConnectionStore } from '../state/connection.ts';
import type { RelayApp } from '../state/relay.ts';
import type { UpdateBridge } from '../sw/bridge.ts';
import type { Router } from './router.ts';

/** What main.tsx wires once and every screen may use. */
export interface AppServices {
  readonly connection: ConnectionStore;
  readonly updates: UpdateBridge;
  readonly router: Router;
  readonly relay: RelayApp;
  /** A `#pair=` link the app was opened with, until the pairing screen takes it. */
  readonly pairLink: Accessor<string | undefined>;
  readonly setPairLink: Setter<string | undefined>;
}

export const AppContext = createContext<AppServices>();

export function useApp(): AppServices {
  const services = useContext(AppContext);
  if (!services) throw new Error('useApp() must be called inside <App>');
  return services;
}
