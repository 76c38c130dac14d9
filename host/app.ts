/**
 * The composition root: the HTTP/WebSocket server, the OpenCode runtime (started or attached)
 * and the relay that pairs devices and carries their traffic. `main.ts` adds the terminal;
 * end-to-end tests start exactly this, in-process.
 * @module
 */
import { hostname } from 'node:os';
import { fileURLToPath } from 'node:url';
import type { Config } from './config.ts';
import type { Logger } from './log.ts';
import { hostUrls } from './net/addresses.ts';
import { createRelay, type Relay } from './channel/relay.ts';
import { startRuntime, type Runtime } from './runtime/start.ts';
import type { RuntimeState } from './runtime/supervisor.ts';
import { createHttpServer } from './server/http.ts';
import { loadUws } from './uws/load.ts';
import { HOST_VERSION } from './version.ts';
import type { RuntimeStatus } from '../shared/protocol/messages.ts';

export const DEFAULT_STATIC_DIR = fileURLToPath(new URL('../dist', import.meta.url));

export interface HostOptions {
  config: Config;
  log: Logger;
  /** Extra environment for the runtime (tests give it its own HOME and XDG directories). */
  runtimeEnv?: Record<string, string | undefined>;
  /** The built app (default: dist/ beside the host). */
  staticDir?: string;
  /** How long pairing offers last (default 5 minutes). */
  offerTtlMs?: number;
}

export interface Host {
  /** The port actually listened on (differs from the configured one when that was 0). */
  port: number;
  /** Base URLs a phone may use, best first. */
  urls(): string[];
  runtime: Runtime;
  relay: Relay;
  /** Milliseconds from start to listening. */
  listeningAfterMs: number;
  close(): Promise<void>;
}

/** The runtime's state as devices see it (the supervisor's `stopped` only exists while closing). */
export function runtimeStatus(s: RuntimeState): RuntimeStatus {
  const state = s.status === 'stopped' ? 'failed' : s.status;
  return { state, ...(s.version ? { version: s.version } : {}), ...(s.lastError && state !== 'ready' ? { error: s.lastError.slice(0, 4000) } : {}) };
}

export async function startHost(opts: HostOptions): Promise<Host> {
  const started = performance.now();
  const { config, log } = opts;
  const { uws, build } = loadUws();
  log.debug('uWebSockets.js loaded', { build });

  const runtime = startRuntime({
    log,
    workspaces: config.workspaces,
    directory: config.workspaces[0],
    ...(config.opencodeUrl ? { attachUrl: config.opencodeUrl } : {}),
    env: {
      // Nothing leaves the machine unless the person asks: no sharing, no self-update.
      OPENCODE_DISABLE_AUTOUPDATE: '1',
      OPENCODE_DISABLE_SHARE: '1',
      ...opts.runtimeEnv,
    },
  });

  const startedAt = Date.now();
  let port = config.port;
  const urls = () => hostUrls({ bind: config.bind, port, tls: Boolean(config.tls), publicUrl: config.publicUrl });
  const status = () => runtimeStatus(runtime.supervisor.state);

  const server = createHttpServer({
    uws,
    staticDir: opts.staticDir ?? DEFAULT_STATIC_DIR,
    log: log.child('http'),
    ...(config.tls ? { tls: config.tls } : {}),
    getHealth: () => ({
      ok: true,
      version: HOST_VERSION,
      uptimeSeconds: Math.round((Date.now() - startedAt) / 1000),
      runtime: status(),
    }),
  });

  let relay: Relay | undefined;
  let stopFollowing: (() => void) | undefined;
  try {
    relay = createRelay({
      uwsApp: server.app,
      dataDir: config.dataDir,
      hostName: hostname(),
      version: HOST_VERSION,
      addresses: urls,
      workspaces: config.workspaces,
      runtime: runtime.bridge,
      runtimeStatus: status,
      log: log.child('relay'),
      ...(opts.offerTtlMs ? { offerTtlMs: opts.offerTtlMs } : {}),
    });
    const r = relay;
    stopFollowing = runtime.supervisor.onState((s) => r.runtimeChanged(runtimeStatus(s)));
    ({ port } = await server.listen(config.bind, config.port));
  } catch (err) {
    stopFollowing?.();
    relay?.close();
    server.close();
    await runtime.stop();
    throw err;
  }
  const listeningAfterMs = performance.now() - started;

  let closing: Promise<void> | undefined;
  return {
    get port() {
      return port;
    },
    urls,
    runtime,
    relay,
    listeningAfterMs,
    close() {
      closing ??= (async () => {
        stopFollowing?.();
        relay!.close();
        server.close();
        await runtime.stop();
      })();
      return closing;
    },
  };
}
