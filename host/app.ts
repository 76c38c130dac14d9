/**
 * The composition root: the HTTP/WebSocket server, the OpenCode runtime (started or attached)
 * and the relay that pairs devices and carries their traffic. `main.ts` adds the terminal;
 * end-to-end tests start exactly this, in-process.
 * @module
 */
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { Config } from './config.ts';
import { ensurePrivateDataDir } from './data-dir.ts';
import type { Logger } from './log.ts';
import { hostUrls } from './net/addresses.ts';
import { projectPath } from './paths.ts';
import { createAdminApi } from './admin/api.ts';
import { mountControlRoutes, newControlToken, writeControlFile, type AdminLinkReply } from './admin/control.ts';
import { ADMIN_PATH, mountAdminRoutes } from './admin/routes.ts';
import { createAdminSessions, sessionCookieName } from './admin/session.ts';
import { createRelay, type Relay, type RelayOptions } from './relay.ts';
import { openCompatHost } from './compat/open.ts';
import { createAdvertiser, discoveryTxt, serviceName } from './discovery/advertiser.ts';
import { createMetrics, type Metrics } from './metrics/metrics.ts';
import { mountMetricsRoute } from './metrics/routes.ts';
import { isLoopbackHost } from './metrics/loopback.ts';
import { countRuntimeEvents } from './metrics/runtime-counters.ts';
import { readHostPolicy } from './policy/config-file.ts';
import { deviceRuntime } from './policy/device-runtime.ts';
import { runtimeConfigContent, sessionRules } from './policy/rules.ts';
import { startPermissionTimeouts, startQuestionTimeouts } from './policy/timeouts.ts';
import { startRuntime, type Runtime } from './runtime/start.ts';
import { createRedactor, runtimeSecrets } from './runtime/redact.ts';
import type { RuntimeState } from './runtime/supervisor.ts';
import { nodeBackend } from './crypto/node-backend.ts';
import { useNoiseBackend } from '../shared/noise/backend.ts';
import { createHttpServer } from './server/http.ts';
import { certificateNames } from './tls/names.ts';
import { openTlsSource } from './tls/source.ts';
import { createTrustServer, defaultTrustPort } from './tls/trust-server.ts';
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
  /** Tests only: notifications to the test's own push receiver on 127.0.0.1 (host/push/endpoint.ts). */
  push?: RelayOptions['push'];
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
  ensurePrivateDataDir(config.dataDir, log);
  // <data-dir>/config.json: what the runtime asks before doing, per workspace. A broken file stops the start.
  const policy = readHostPolicy(config.dataDir);
  for (const w of policy.workspaces.filter((w) => !config.workspaces.includes(w))) {
    log.warn('config.json names a workspace this host does not serve; its settings apply to directories inside it only', { workspace: w, path: policy.path });
  }
  const rulesFor = (directory: string) => sessionRules(policy.permissionFor(directory));

  // The one stop sequence: each piece adds its stop as it starts, and they run in reverse order,
  // both when the host closes and when starting fails half-way.
  const stops: Array<() => unknown> = [];
  const stopAll = async () => {
    for (const stop of stops.splice(0).reverse()) {
      try {
        await stop();
      } catch (err) {
        log.error('a part of the host did not stop cleanly', { err });
      }
    }
  };

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
  stops.push(() => runtime.stop());

  const startedAt = Date.now();
  let port = config.port;
  // Which model providers work, asked each time the runtime is ready, so a phone can say so.
  let providers: string[] | undefined;
  const status = (): RuntimeStatus => ({ ...runtimeStatus(runtime.supervisor.state), ...(providers ? { providers } : {}) });
  let tlsOn = false;
  const urls = () => hostUrls({ bind: config.bind, port, tls: tlsOn, publicUrl: config.publicUrl });
  let trustUrl: string | undefined;
  const controlToken = newControlToken();
  // Held in memory only: a restart signs everyone out of the admin page.
  const adminSessions = createAdminSessions();
  let adminUrl: string | undefined;
  const newAdminLink = (): AdminLinkReply | undefined => {
    if (!adminUrl) return undefined;
    const { secret, expiresAt } = adminSessions.newLoginSecret();
    return { url: `${adminUrl}#login=${secret}`, expiresAt };
  };

  let relay: Relay;
  let metrics: Metrics;
  try {
    // HTTPS with the person's own certificate, or with the local CA from `tls setup`.
    const tls = await openTlsSource({
      dataDir: config.dataDir,
      ...(config.tls ? { own: config.tls } : {}),
      names: () => certificateNames({ bind: config.bind, publicUrl: config.publicUrl }),
      log: log.child('tls'),
    });
    tlsOn = Boolean(tls);

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
    stops.push(() => server.close());

    const m = createMetrics({ dataDir: config.dataDir, enabled: config.metrics, log: log.child('metrics') });
    metrics = m;
    stops.push(() => m.close());
    server.mount((app) => mountMetricsRoute(app, m, log.child('metrics')));
    const timeouts = startPermissionTimeouts({
      runtime: runtime.bridge,
      timeoutSeconds: policy.permissionTimeoutSeconds,
      log: log.child('policy'),
      onTimeout: () => m.inc('permission_answers_total', { answer: 'timeout' }),
    });
    stops.push(() => timeouts.stop());
    // The agent's questions wait no longer than permission requests: nobody answering dismisses them.
    const questionTimeouts = startQuestionTimeouts({ runtime: runtime.bridge, timeoutSeconds: policy.permissionTimeoutSeconds, log: log.child('policy') });
    stops.push(() => questionTimeouts.stop());
    const count = countRuntimeEvents(m);
    // A denial for want of an answer is counted as "timeout" (above), not again as the "reject" it is.
    stops.push(
      runtime.bridge.onEvent((event) => {
        if (event.type !== 'permission.replied' || !timeouts.answeredByTimeout(event.requestId)) count(event);
      }),
    );

    const r = createRelay({
      mount: server.mount,
      dataDir: config.dataDir,
      hostName: hostname(),
      version: HOST_VERSION,
      addresses: urls,
      workspaces: config.workspaces,
      runtime: deviceRuntime({ runtime: runtime.bridge, rulesFor, defaultDirectory: config.workspaces[0]!, log: log.child('policy') }),
      runtimeStatus: status,
      metrics: m,
      log: log.child('relay'),
      permissionDeadline: (id) => timeouts.deadlineOf(id),
      answeredByTimeout: (id) => timeouts.answeredByTimeout(id),
      // Second line behind the runtime's scrubbed environment: its password never reaches a device.
      redact: createRedactor(runtimeSecrets(runtime.supervisor.password)),
      questionDeadline: (id) => questionTimeouts.deadlineOf(id),
      dismissedByTimeout: (id) => questionTimeouts.answeredByTimeout(id),
      ...(opts.offerTtlMs ? { offerTtlMs: opts.offerTtlMs } : {}),
      ...(opts.push ? { push: opts.push } : {}),
    });
    relay = r;
    stops.push(() => r.close());
    m.gauge('open_connections', () => r.connectionCount());
    // OpenCode's own clients, at /opencode, with computers' credentials (host/compat/).
    const c = openCompatHost({
      bind: config.bind,
      tls: Boolean(tls),
      devices: r.devices,
      permissions: r.permissions,
      gate: r.gate,
      runtime: runtime.bridge,
      workspaces: config.workspaces,
      rulesFor,
      urls,
      metrics: m,
      log: log.child('compat'),
    });
    stops.push(() => c.close());
    server.mount(c.mount);
    server.mount((app) => mountControlRoutes(app, { token: controlToken, log, newOffer: r.newOffer, newAdminLink, newComputer: c.newComputer }));
    const adminApi = createAdminApi({
      hostName: hostname(),
      version: HOST_VERSION,
      urls,
      workspaces: config.workspaces,
      approvals: r.approvals,
      devices: r.devices,
      offers: r.offers,
      newOffer: r.newOffer,
      runtimeStatus: status,
      listSessions: () => runtime.bridge.listSessions(),
      metrics: m,
      permissionTimeoutSeconds: policy.permissionTimeoutSeconds,
      newComputer: c.newComputer,
      log: log.child('admin'),
    });
    server.mount((app) => mountAdminRoutes(app, { api: adminApi, sessions: adminSessions, cookieName: () => sessionCookieName(port), log: log.child('admin') }));
    stops.push(
      runtime.supervisor.onState((s) => {
        r.runtimeChanged(status());
        if (s.status !== 'ready') return;
        // The first task would otherwise wait for each workspace's instance to boot its services.
        for (const w of config.workspaces) {
          runtime.bridge.warmUp(w).catch((err: unknown) => log.debug('warming up a workspace failed; its first task boots it', { workspace: w, err }));
        }
        // Told to devices in a second message: the first must not wait (it starts the relay's resync).
        runtime.bridge.connectedProviders().then(
          (list) => {
            providers = list;
            r.runtimeChanged(status());
          },
          (err: unknown) => log.warn('could not ask the runtime which model providers work', { err }),
        );
      }),
    );

    ({ port } = await server.listen(config.bind, config.port));
    const local = localUrl(config, port, tlsOn);
    if (isLoopbackHost(new URL(local).host)) adminUrl = `${local}${ADMIN_PATH}`;
    const control = writeControlFile(config.dataDir, { pid: process.pid, url: local, token: controlToken });
    stops.push(() => control.remove());
    if (tls) {
      stops.push(tls.watch((files) => void server.setTls(files).catch((err: unknown) => log.error('could not load the new certificate', { err }))));
      if (tls.ca) {
        const trust = createTrustServer({ uws, log: log.child('trust'), ca: tls.ca, httpsUrls: urls });
        stops.push(() => trust.close());
        const trustPort = (await trust.listen(config.bind, defaultTrustPort(port))).port;
        trustUrl = hostUrls({ bind: config.bind, port: trustPort, tls: false })[0];
      }
    }
    const advertiser = createAdvertiser({
      name: serviceName(hostname()),
      port,
      bind: config.bind,
      log: log.child('discovery'),
      txt: discoveryTxt({ hostId: r.identity.hostId, version: HOST_VERSION, protocol: PROTOCOL_VERSION, tls: tlsOn }),
    });
    stops.push(() => advertiser.stop());
  } catch (err) {
    await stopAll();
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
      closing ??= stopAll();
      return closing;
    },
  };
}

/** The URL a command on this machine uses to reach the host. */
function localUrl(config: Config, port: number, tls: boolean): string {
  const host = config.bind === '0.0.0.0' ? '127.0.0.1' : config.bind === '::' ? '[::1]' : config.bind.includes(':') ? `[${config.bind}]` : config.bind;
  return `${tls ? 'https' : 'http'}://${host}:${port}`;
}
