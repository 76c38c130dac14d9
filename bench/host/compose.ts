/**
 * The relay exactly as the host builds it (createRelay: host key, devices, offers, approvals,
 * event hub, router, attachRelaySocket with its send queue) mounted on one of two socket layers:
 * a uWebSockets.js app (what the host runs) or the `ws` package behind the same app interface
 * (bench/host/ws-socket.ts, the baseline). Only `/relay` is served and the runtime is the e2e
 * stand-in: the fan-out measurement publishes synthetic events through the relay's hub.
 * @module
 */
import { createServer } from 'node:http';
import { hostname } from 'node:os';
import type { TemplatedApp } from '@trufflesuite/uws-js-unofficial';
import type { Logger } from '../../host/log.ts';
import { createRelay, type Relay } from '../../host/relay.ts';
import { createWsApp } from './ws-socket.ts';
import { closeApp, listenExclusive } from '../../host/server/http.ts';
import { loadUws } from '../../host/uws/load.ts';
import { HOST_VERSION } from '../../host/version.ts';
import { createMetrics } from '../../host/metrics/metrics.ts';
import { nodeBackend } from '../../host/crypto/node-backend.ts';
import { useNoiseBackend } from '../../shared/noise/backend.ts';
import { recordingRuntime } from '../../e2e/fixtures/relay-host.ts';

export type SocketLayer = 'uws' | 'ws';

export interface BenchRelay {
  port: number;
  relay: Relay;
  close(): Promise<void>;
}

interface Listening {
  port: number;
  close(): Promise<void>;
}

/** A uWS app on 127.0.0.1, as the host's HTTP server makes it (without the static site). */
async function uwsLayer(): Promise<{ app: TemplatedApp; listen(): Promise<Listening> }> {
  const { uws } = loadUws();
  const app = uws.App();
  return {
    app,
    async listen() {
      const bound = await listenExclusive(uws, app, '127.0.0.1', 0);
      if (!bound) throw new Error('the uWS bench relay could not listen on 127.0.0.1');
      return {
        port: bound.port,
        close: async () => {
          uws.us_listen_socket_close(bound.socket);
          closeApp(app);
        },
      };
    },
  };
}

/** A Node HTTP server on 127.0.0.1 with `ws` behind uWS's app interface. */
async function wsLayer(): Promise<{ app: TemplatedApp; listen(): Promise<Listening> }> {
  const server = createServer((_req, res) => res.writeHead(404).end());
  const ws = createWsApp(server);
  return {
    app: ws.app,
    async listen() {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(0, '127.0.0.1', resolve);
      });
      return {
        port: (server.address() as { port: number }).port,
        close: () =>
          new Promise<void>((resolve) => {
            ws.close();
            server.close(() => resolve());
            server.closeAllConnections();
          }),
      };
    },
  };
}

export async function startBenchRelay(opts: { socket: SocketLayer; dataDir: string; log: Logger }): Promise<BenchRelay> {
  useNoiseBackend(nodeBackend); // as startHost does
  const layer = opts.socket === 'uws' ? await uwsLayer() : await wsLayer();
  let port = 0;
  const relay = createRelay({
    mount: (fn) => fn(layer.app),
    dataDir: opts.dataDir,
    hostName: hostname(),
    version: HOST_VERSION,
    addresses: () => [`http://127.0.0.1:${port}`],
    workspaces: ['/workspace'],
    runtime: recordingRuntime(),
    runtimeStatus: () => ({ state: 'ready' }),
    metrics: createMetrics({ dataDir: opts.dataDir, enabled: false, log: opts.log }),
    log: opts.log,
  });
  let listening: Listening;
  try {
    listening = await layer.listen();
  } catch (err) {
    relay.close();
    throw err;
  }
  port = listening.port;
  return {
    port,
    relay,
    async close() {
      relay.close();
      await listening.close();
    },
  };
}
