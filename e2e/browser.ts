/**
 * Shared helpers for browser tests: Debian's Chromium through Playwright, phone profiles,
 * screenshots, an up-to-date build of the app, and the host's own static server to serve it.
 * See /work/shared/browser-testing.md for what Chromium here does and does not do.
 * @module
 */
import { mkdir } from 'node:fs/promises';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, devices, type Browser, type BrowserContext, type BrowserContextOptions, type Page } from 'playwright';
import { silentLogger } from '../host/log.ts';
import { createHttpServer, type HttpServer } from '../host/server/http.ts';
import type { StaticSite } from '../host/server/static.ts';
import { loadUws } from '../host/uws/load.ts';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));
export const DIST = join(ROOT, 'dist');
export const SCREENSHOTS = join(ROOT, 'test-results', 'screenshots');

export const CHROMIUM_PATH = '/usr/bin/chromium';
/** Headless, sandbox off (we run as root in a container), and no traffic of Chromium's own beyond loopback. */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export interface LaunchOptions {
  /** Extra command-line switches, e.g. a fake camera or `--host-resolver-rules`. */
  args?: string[];
}

export function launchChromium(opts: LaunchOptions = {}): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: [...CHROMIUM_ARGS, ...(opts.args ?? [])] });
}

/**
 * A browser whose profile lives in `profileDir`, so IndexedDB, caches and the service worker
 * survive a browser restart: close the context and launch again with the same folder.
 */
export function launchPersistentChromium(profileDir: string, opts: LaunchOptions & BrowserContextOptions = {}): Promise<BrowserContext> {
  const { args = [], ...context } = opts;
  return chromium.launchPersistentContext(profileDir, {
    executablePath: CHROMIUM_PATH,
    args: [...CHROMIUM_ARGS, ...args],
    ...context,
  });
}

function phone(name: string): BrowserContextOptions {
  const descriptor = devices[name];
  if (!descriptor) throw new RangeError(`playwright has no device descriptor named ${JSON.stringify(name)}`);
  // defaultBrowserType names webkit for iPhones; only Chromium exists here, so leave it out.
  const { defaultBrowserType: _unused, ...options } = descriptor;
  return options;
}

/** Context options for phone emulation. Only Chromium runs here: the iPhone entry gives Safari's size, not Safari. */
export const PHONES = {
  pixel7: phone('Pixel 7'),
  iphone: phone('iPhone 15'),
} as const;

/** Saves a screenshot to test-results/screenshots/<name>.png (gitignored) and returns its path. */
export async function screenshot(page: Page, name: string): Promise<string> {
  await mkdir(SCREENSHOTS, { recursive: true });
  const path = join(SCREENSHOTS, `${name}.png`);
  await page.screenshot({ path });
  return path;
}

/** scripts/build-app.mjs, the staleness check `npm start` uses too (plain JS, so typed here). */
interface BuildApp {
  buildAppIfStale(opts?: { quiet?: boolean }): boolean;
}

/** Builds dist/ when it is missing or older than the app's sources; returns whether a build ran. */
export async function ensureBuilt(): Promise<boolean> {
  // A non-literal specifier: TypeScript cannot type a .mjs file, the interface above does.
  const specifier: string = new URL('../scripts/build-app.mjs', import.meta.url).href;
  const buildApp = (await import(specifier)) as BuildApp;
  return buildApp.buildAppIfStale({ quiet: true });
}

export interface ServedApp {
  /** http://127.0.0.1:<port>/ */
  url: string;
  port: number;
  /** The host's in-memory copy of `dir`: call `site.reload()` after changing files there. */
  site: StaticSite;
  close(): void;
}

/** Serves `dir` (a built app) exactly as the host does, headers and CSP included, on 127.0.0.1. */
export async function serveApp(dir: string = DIST): Promise<ServedApp> {
  const server: HttpServer = createHttpServer({
    uws: loadUws().uws,
    staticDir: dir,
    getHealth: () => ({ ok: true }),
    log: silentLogger,
  });
  const { port } = await server.listen('127.0.0.1', 0);
  return { url: `http://127.0.0.1:${port}/`, port, site: server.site, close: () => server.close() };
}

export interface CuttableProxy {
  /** http://127.0.0.1:<port>/ of the proxy: point the browser here. */
  url: string;
  port: number;
  /** Drops every connection and refuses new ones, as if the host had gone away. */
  cut(): Promise<void>;
  /** Accepts connections again, on the same port (same origin, same service worker). */
  restore(): Promise<void>;
  close(): Promise<void>;
}

/**
 * A TCP proxy on 127.0.0.1 in front of `targetPort`. Cutting it is a real outage: unlike
 * `context.setOffline(true)`, it leaves open WebSockets no illusion, and it does not wedge
 * Chromium's service worker update jobs (an update check made under setOffline never settled
 * here, and later update/unregister calls queued behind it).
 */
export async function cuttableProxy(targetPort: number): Promise<CuttableProxy> {
  const sockets = new Set<Socket>();
  const track = (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  };
  let server: Server | undefined;
  const listen = (port: number) =>
    new Promise<number>((resolve, reject) => {
      const srv = createServer((client) => {
        const upstream = createConnection({ host: '127.0.0.1', port: targetPort });
        track(client);
        track(upstream);
        client.on('error', () => upstream.destroy());
        upstream.on('error', () => client.destroy());
        client.pipe(upstream).pipe(client);
      });
      srv.once('error', reject);
      srv.listen(port, '127.0.0.1', () => {
        server = srv;
        resolve((srv.address() as { port: number }).port);
      });
    });
  const stop = () =>
    new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      if (!server) return resolve();
      server.close(() => resolve());
      server = undefined;
    });
  const port = await listen(0);
  return {
    url: `http://127.0.0.1:${port}/`,
    port,
    cut: stop,
    restore: async () => {
      if (!server) await listen(port);
    },
    close: stop,
  };
}

export interface Installability {
  manifestUrl: string;
  /** The manifest as Chromium parsed it. */
  manifest: Record<string, unknown>;
  manifestErrors: unknown[];
  /** Empty when Chromium would offer to install the app. */
  installabilityErrors: unknown[];
}

/** What Chromium's DevTools protocol says about installing the app in `page`, once its service worker controls the page. */
export async function installability(page: Page, timeoutMs = 60_000): Promise<Installability> {
  await page.waitForFunction(() => navigator.serviceWorker.controller !== null, undefined, { timeout: timeoutMs });
  const cdp = await page.context().newCDPSession(page);
  try {
    const manifest = (await cdp.send('Page.getAppManifest')) as { url: string; errors: unknown[]; data?: string };
    const { installabilityErrors } = (await cdp.send('Page.getInstallabilityErrors')) as { installabilityErrors: unknown[] };
    return {
      manifestUrl: manifest.url,
      manifest: manifest.data ? (JSON.parse(manifest.data) as Record<string, unknown>) : {},
      manifestErrors: manifest.errors,
      installabilityErrors,
    };
  } finally {
    await cdp.detach();
  }
}
