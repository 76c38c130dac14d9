/**
 * The connection to the computer in use: one HostLink at a time, from the network layer loaded
 * on first use (it carries the crypto, so the first screen does not wait for it). Every switch of
 * computer starts a new generation; answers and link callbacks of an older one are ignored.
 * @module
 */
import type { DeviceIdentity } from '../net/device-name.ts';
import type { HostLink, LinkHandlers } from '../net/host-link.ts';
import type { HostRecord } from '../storage/db.ts';
import type { ConnectionStore } from './connection.ts';

export const NO_HOST = 'Not paired with a computer yet';

export interface LinkDeps {
  connection: ConnectionStore;
  /** The network layer, imported on first use so the first screen does not wait for the crypto. */
  loadNet: () => Promise<typeof import('../net/host-link.ts')>;
  device: () => DeviceIdentity;
}

export interface Link {
  /** Bumped on every switch, so answers for the previous computer are ignored. */
  generation(): number;
  /** Starts a new generation: from now on, the current link's callbacks are ignored. */
  nextGeneration(): void;
  /** Whether a link is open and connected. */
  connected(): boolean;
  /** One request to the computer in use; rejects when there is no link. */
  request: HostLink['request'];
  /** Closes the current link and opens one to `host`, whose callbacks reach `handlers` while this generation lasts. */
  open(host: HostRecord, handlers: LinkHandlers): Promise<void>;
  close(): void;
  /** Whether there is a link to reconnect now (false: open one). */
  reconnectNow(): boolean;
}

export function createLink(deps: LinkDeps): Link {
  let link: HostLink | undefined;
  let generation = 0;
  const close = () => {
    link?.close();
    link = undefined;
  };

  return {
    generation: () => generation,
    nextGeneration: () => void generation++,
    connected: () => link?.state().phase === 'connected',
    request: (body) => (link ? link.request(body) : Promise.reject(new Error(NO_HOST))),

    close,

    async open(host, handlers) {
      close();
      const gen = generation;
      deps.connection.connecting(`Reaching ${host.label}`);
      let net: Awaited<ReturnType<LinkDeps['loadNet']>>;
      try {
        net = await deps.loadNet();
      } catch {
        deps.connection.offline('Part of the app could not be loaded; reload it while your computer is reachable');
        return;
      }
      if (gen !== generation) return;
      link = net.createHostLink({
        host,
        device: deps.device(),
        handlers: {
          onState: (s) => gen === generation && handlers.onState(s),
          onWelcome: (w) => gen === generation && handlers.onWelcome(w),
          onResync: (r) => (gen === generation ? handlers.onResync(r) : Promise.reject(new Error('another computer is in use'))),
          onEvent: (seq, e) => gen === generation && handlers.onEvent(seq, e),
          onRuntime: (runtime) => gen === generation && handlers.onRuntime(runtime),
          onRtt: (ms) => gen === generation && handlers.onRtt(ms),
        },
      });
    },

    reconnectNow() {
      link?.reconnectNow();
      return link !== undefined;
    },
  };
}
