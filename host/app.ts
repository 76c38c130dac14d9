/**
 * The composition root: the HTTP/WebSocket server, the OpenCode runtime (started or attached)
 * and the relay that pairs devices and carries their traffic. `main.ts` adds the terminal;
 * end-to-end tests start exactly this, in-process.
 * @module
 */
import { mkdirSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { Config } from './config.ts';
import type { Logger } from './log.ts';
import { hostUrls } from './net/addresses.ts';
import { projectPath } from './paths.ts';
import { createAdminApi } from './admin/api.ts';
import { mountControlRoutes, newControlToken, writeControlFile, type AdminLinkReply, type OfferReply } from './admin/control.ts';
import { ADMIN_PATH, mountAdminRoutes } from './admin/routes.ts';
import { createAdminSessions, sessionCookieName } from './admin/session.ts';
import { createRelay, type Relay } from './channel/relay.ts';
import { createAdvertiser, discoveryTxt, serviceName, type Advertiser } from './discovery/advertiser.ts';
import { createMetrics, type Metrics } from './metrics/metrics.ts';
import { mountMetricsRoute } from './metrics/routes.ts';
import { isLoopbackHost } from './metrics/loopback.ts';
import { countRuntimeEvents } from './metrics/runtime-counters.ts';
import { readHostPolicy } from './policy/config-file.ts';
import { deviceRuntime } from './policy/device-runtime.ts';
import { runtimeConfigContent, sessionRules } from './policy/rules.ts';
import { startPermissionTimeouts, startQuestionTimeouts } from './policy/timeouts.ts';
import { startRuntime, type Runtime } from './runtime/start.ts';
import type { RuntimeState } from './runtime/supervisor.ts';
import { nodeBackend } from './crypto/node-backend.ts';
import { useNoiseBackend } from '../shared/noise/backend.ts';
import { createHttpServer } from './server/http.ts';
import { certificateNames } from './tls/names.ts';
import { openTlsSource } from './tls/source.ts';
import { createTrustServer, defaultTrustPort, type TrustServer } from './tls/trust-server.ts';
import { loadUws } from './uws/load.ts';
import { HOST_VERSION } from './version.ts';
import { PROTOCOL_VERSION, type RuntimeStatus } from '../shared/protocol/messages.ts';

export const DEFAULT_STATIC_DIR = projectPath('dist');

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
  metrics: Metrics;
  /** The plain-HTTP "trust this host" page, when the host serves HTTPS with its own CA. */
  trustUrl?: string;
  /** The admin page, on this computer; undefined when the host does not listen on loopback (the page answers only there). */
  adminUrl?: string;
  /**
   * The admin page with a fresh single-use login secret (what the banner and `npm start -- admin`
   * show); undefined without `adminUrl`.
   */
  newAdminLink(): AdminLinkReply | undefined;
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
  useNoiseBackend(nodeBackend);
  const { uws, build } = loadUws();
  log.debug('uWebSockets.js loaded', { build });
  // Keys, devices and the runtime's pid live here; only this user may read them.
  mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  // <data-dir>/config.json: what the runtime asks before doing, per workspace. A broken file stops the start.
  const policy = readHostPolicy(config.dataDir);
  for (const w of policy.workspaces.filter((w) => !config.workspaces.includes(w))) {
    log.warn('config.json names a workspace this host does not serve; its settings apply to directories inside it only', { workspace: w, path: policy.path });
  }
  const rulesFor = (directory: string) => sessionRules(policy.permissionFor(directory));

  const runtime = startRuntime({
    log,
    workspaces: config.workspaces,
    ...(config.opencodeUrl ? { attachUrl: config.opencodeUrl } : { pidFile: join(config.dataDir, 'runtime.pid') }),
    env: {
      // Nothing leaves the machine unless the person asks: no sharing, no self-update.
      OPENCODE_DISABLE_AUTOUPDATE: '1',
      OPENCODE_DISABLE_SHARE: '1',
      ...opts.runtimeEnv,
      // The floor for every session of this runtime, subagents included; sessions devices use also carry rules of their own.
      OPENCODE_CONFIG_CONTENT: runtimeConfigContent(
        config.workspaces.map((w) => policy.permissionFor(w)),
        opts.runtimeEnv?.OPENCODE_CONFIG_CONTENT ?? process.env.OPENCODE_CONFIG_CONTENT,
      ),
    },
  });

  // HTTPS with the person's own certificate, or with the local CA from `tls setup`.
  const tls = await openTlsSource({
    dataDir: config.dataDir,
    ...(config.tls ? { own: config.tls } : {}),
    names: () => certificateNames({ bind: config.bind, publicUrl: config.publicUrl }),
    log: log.child('tls'),
  });
  const startedAt = Date.now();
  let port = config.port;
  const urls = () => hostUrls({ bind: config.bind, port, tls: Boolean(tls), publicUrl: config.publicUrl });
  // Which model providers work, asked each time the runtime is ready, so a phone can say so.
  let providers: string[] | undefined;
  const status = (): RuntimeStatus => ({ ...runtimeStatus(runtime.supervisor.state), ...(providers ? { providers } : {}) });

  const server = createHttpServer({
    uws,
    staticDir: opts.staticDir ?? DEFAULT_STATIC_DIR,
    log: log.child('http'),
    ...(tls ? { tls: tls.files } : {}),
    getHealth: () => ({
      ok: true,
      version: HOST_VERSION,
      uptimeSeconds: Math.round((Date.now() - startedAt) / 1000),
      runtime: status(),
    }),
  });

  const metrics = createMetrics({ dataDir: config.dataDir, enabled: config.metrics, log: log.child('metrics') });
  server.mount((app) => mountMetricsRoute(app, metrics, log.child('metrics')));
  const timeouts = startPermissionTimeouts({
    runtime: runtime.bridge,
    timeoutSeconds: policy.permissionTimeoutSeconds,
    log: log.child('policy'),
    onTimeout: () => metrics.inc('permission_answers_total', { answer: 'timeout' }),
  });
  // The agent's questions wait no longer than permission requests: nobody answering dismisses them.
  const questionTimeouts = startQuestionTimeouts({ runtime: runtime.bridge, timeoutSeconds: policy.permissionTimeoutSeconds, log: log.child('policy') });
  const count = countRuntimeEvents(metrics);
  // A denial for want of an answer is counted as "timeout" (above), not again as the "reject" it is.
  const stopCounting = runtime.bridge.onEvent((event) => {
    if (event.type !== 'permission.replied' || !timeouts.answeredByTimeout(event.requestId)) count(event);
  });

  let relay: Relay | undefined;
  let stopFollowing: (() => void) | undefined;
  let advertiser: Advertiser | undefined;
  let trust: TrustServer | undefined;
  let trustUrl: string | undefined;
  let stopWatchingTls: (() => void) | undefined;
  let control: ReturnType<typeof writeControlFile> | undefined;
  const controlToken = newControlToken();
  // Held in memory only: a restart signs everyone out of the admin page.
  const adminSessions = createAdminSessions();
  let adminUrl: string | undefined;
  const newAdminLink = (): AdminLinkReply | undefined => {
    if (!adminUrl) return undefined;
    const { secret, expiresAt } = adminSessions.newLoginSecret();
    return { url: `${adminUrl}#login=${secret}`, expiresAt };
  };
  try {
    relay = createRelay({
      mount: server.mount,
      dataDir: config.dataDir,
      hostName: hostname(),
      version: HOST_VERSION,
      addresses: urls,
      workspaces: config.workspaces,
      runtime: deviceRuntime({ runtime: runtime.bridge, rulesFor, defaultDirectory: config.workspaces[0]!, log: log.child('policy') }),
      runtimeStatus: status,
      metrics,
      log: log.child('relay'),
      permissionDeadline: (id) => timeouts.deadlineOf(id),
      answeredByTimeout: (id) => timeouts.answeredByTimeout(id),
      questionDeadline: (id) => questionTimeouts.deadlineOf(id),
      dismissedByTimeout: (id) => questionTimeouts.answeredByTimeout(id),
      ...(opts.offerTtlMs ? { offerTtlMs: opts.offerTtlMs } : {}),
    });
    const r = relay;
    metrics.gauge('open_connections', () => r.connectionCount());
    server.mount((app) => mountControlRoutes(app, { token: controlToken, log, newOffer: () => offerReply(r), newAdminLink }));
    const adminApi = createAdminApi({
      hostName: hostname(), version: HOST_VERSION, urls, workspaces: config.workspaces,
      approvals: r.approvals, devices: r.devices, offers: r.offers, newOffer: r.newOffer,
      runtimeStatus: status, listSessions: () => runtime.bridge.listSessions(), metrics,
      permissionTimeoutSeconds: policy.permissionTimeoutSeconds, log: log.child('admin'),
    });
    server.mount((app) => mountAdminRoutes(app, { api: adminApi, sessions: adminSessions, cookieName: () => sessionCookieName(port), log: log.child('admin') }));
    stopFollowing = runtime.supervisor.onState((s) => {
      r.runtimeChanged(status());
      if (s.status !== 'ready') return;
      // Told to devices in a second message: the first must not wait (it starts the relay's resync).
      runtime.bridge.connectedProviders().then(
        (list) => {
          providers = list;
          r.runtimeChanged(status());
        },
        (err: unknown) => log.warn('could not ask the runtime which model providers work', { err }),
      );
    });
    ({ port } = await server.listen(config.bind, config.port));
    const local = localUrl(config, port, Boolean(tls));
    if (isLoopbackHost(new URL(local).host)) adminUrl = `${local}${ADMIN_PATH}`;
    control = writeControlFile(config.dataDir, { pid: process.pid, url: local, token: controlToken });
    if (tls) {
      stopWatchingTls = tls.watch((files) => void server.setTls(files).catch((err: unknown) => log.error('could not load the new certificate', { err })));
      if (tls.ca) {
        const ca = tls.ca;
        trust = createTrustServer({ uws, log: log.child('trust'), ca, httpsUrls: urls });
        const trustPort = (await trust.listen(config.bind, defaultTrustPort(port))).port;
        trustUrl = hostUrls({ bind: config.bind, port: trustPort, tls: false })[0];
      }
    }
    advertiser = createAdvertiser({
      name: serviceName(hostname()),
      port,
      bind: config.bind,
      log: log.child('discovery'),
      txt: discoveryTxt({ hostId: r.identity.hostId, version: HOST_VERSION, protocol: PROTOCOL_VERSION, tls: Boolean(tls) }),
    });
  } catch (err) {
    stopFollowing?.();
    stopCounting();
    timeouts.stop();
    questionTimeouts.stop();
    stopWatchingTls?.();
    trust?.close();
    control?.remove();
    relay?.close();
    server.close();
    metrics.close();
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
    metrics,
    ...(trustUrl ? { trustUrl } : {}),
    ...(adminUrl ? { adminUrl } : {}),
    newAdminLink,
    listeningAfterMs,
    close() {
      closing ??= (async () => {
        stopFollowing?.();
        stopCounting();
        timeouts.stop();
        questionTimeouts.stop();
        await advertiser?.stop();
        stopWatchingTls?.();
        trust?.close();
        control?.remove();
        relay!.close();
        server.close();
        metrics.close();
        await runtime.stop();
      })();
      return closing;
    },
  };
}

/** The URL a command on this machine uses to reach the host. */
function localUrl(config: Config, port: number, tls: boolean): string {
  const host = config.bind === '0.0.0.0' ? '127.0.0.1' : config.bind === '::' ? '[::1]' : config.bind.includes(':') ? `[${config.bind}]` : config.bind;
  return `${tls ? 'https' : 'http'}://${host}:${port}`;
}

function offerReply(relay: Relay): OfferReply {
  const view = relay.newOffer();
  return { link: view.link, code: view.code, origin: view.origin, expiresAt: view.offer.expiresAt };
}
