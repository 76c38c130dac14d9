/**
 * The host's HTTP server on uWebSockets.js: /healthz, the built PWA, and security headers on every
 * response. Other routes (the phone's WebSocket) are added with `mount(fn)`, which runs `fn` on
 * every uWS app the server makes: the current one, and each one that takes over when the TLS
 * certificate changes.
 * @module
 */
import type { HttpRequest, HttpResponse, TemplatedApp, us_listen_socket } from '@trufflesuite/uws-js-unofficial';
import type { Logger } from '../log.ts';
import type { Uws } from '../uws/load.ts';
import { sendResponse, track, type Reply } from '../uws/respond.ts';
import { SECURITY_HEADERS } from './headers.ts';
import { createStaticSite, type StaticSite } from './static.ts';

export interface TlsFiles {
  cert: string;
  key: string;
}

export interface HttpServerOptions {
  uws: Uws;
  /** An app to mount on; by default a new `App()`, or `SSLApp()` when `tls` is given. */
  app?: TemplatedApp;
  staticDir: string;
  getHealth: () => object;
  log: Logger;
  tls?: TlsFiles;
}

export interface HttpServer {
  /** The app that currently listens (a new one after `setTls`). */
  readonly app: TemplatedApp;
  site: StaticSite;
  /**
   * Adds routes (e.g. `app.ws(...)`): `fn` runs now on the current app and again on each app a
   * later `setTls` makes, so the routes survive a certificate change.
   */
  mount(fn: (app: TemplatedApp) => void): void;
  listen(host: string, port: number): Promise<{ port: number }>;
  /**
   * Serves a new certificate. uWS loads certificates only when an app is made, so a new SSLApp with
   * the same routes takes over the port: connections tried in that instant are refused (browsers
   * retry), open ones — WebSockets too — stay on the old app until they end. Rejects, and keeps
   * serving the old certificate, when the new files cannot be loaded.
   */
  setTls(tls: TlsFiles): Promise<void>;
  /** Stops accepting connections and drops open ones, so the port is free and the process can exit. */
  close(): void;
}

const ALLOW = 'GET, HEAD';
const METHOD_NOT_ALLOWED: Reply = {
  status: 405,
  headers: [
    ['Allow', ALLOW],
    ['Content-Type', 'text/plain; charset=utf-8'],
  ],
  body: 'method not allowed',
};

/** uSockets' listen option that leaves out SO_REUSEPORT. */
const LIBUS_LISTEN_EXCLUSIVE_PORT = 1;
// What uWS accepts but its typings leave out: `listen` with host and option flags, and the local
// port of a listen socket (see uWS docs/index.d.ts).
declare module '@trufflesuite/uws-js-unofficial' {
  interface TemplatedApp {
    listen(host: RecognizedString, port: number, options: number, cb: (listenSocket: us_listen_socket | false) => void | Promise<void>): TemplatedApp;
  }
  function us_socket_local_port(socket: us_listen_socket): number;
}

/**
 * A uWS handler for GET and HEAD: abort handler first, security headers on every answer, a 500
 * instead of a crash, and `otherMethods` (405 by default) for any other method.
 */
export function guardedRoute(log: Logger, handle: (req: HttpRequest, method: 'get' | 'head') => Reply, otherMethods: Reply = METHOD_NOT_ALLOWED) {
  return (res: HttpResponse, req: HttpRequest) => {
    const state = track(res);
    const method = req.getMethod();
    let reply: Reply;
    try {
      reply = method === 'get' || method === 'head' ? handle(req, method) : otherMethods;
    } catch (err) {
      log.error('request failed', { url: req.getUrl(), err });
      reply = { status: 500, headers: [['Content-Type', 'text/plain; charset=utf-8']], body: 'internal error' };
    }
    sendResponse(res, state, { ...reply, headers: [...SECURITY_HEADERS, ...(reply.headers ?? [])] });
  };
}

/**
 * Listens with SO_REUSEADDR (a restart binds at once despite TIME_WAIT) but without SO_REUSEPORT,
 * so a second host on the same port fails instead of sharing it. Undefined when the port is taken
 * or the address is not on this machine.
 */
export function listenExclusive(uws: Uws, app: TemplatedApp, host: string, port: number): Promise<{ socket: us_listen_socket; port: number } | undefined> {
  return new Promise((resolve) => {
    app.listen(host, port, LIBUS_LISTEN_EXCLUSIVE_PORT, (socket) => {
      // us_socket_local_port accepts a listen socket too (see uWS docs/index.d.ts).
      resolve(socket ? { socket, port: uws.us_socket_local_port(socket) } : undefined);
    });
  });
}

/** A port that is free on `host` right now, found by binding port 0 once. */
async function freePort(uws: Uws, host: string): Promise<number | undefined> {
  const probe = uws.App();
  const bound = await listenExclusive(uws, probe, host, 0);
  if (bound) uws.us_listen_socket_close(bound.socket);
  closeApp(probe);
  return bound?.port;
}

/** App.close() (uWS ≥ 20.30, missing from its typings) also ends keep-alive and WebSocket connections. */
export function closeApp(app: TemplatedApp): void {
  (app as TemplatedApp & { close?: () => void }).close?.();
}

export function createHttpServer(opts: HttpServerOptions): HttpServer {
  const { uws, log } = opts;
  const site = createStaticSite({ dir: opts.staticDir, log });
  let tls = opts.tls;
  let listening: { socket: us_listen_socket; host: string; port: number } | undefined;
  /** Apps replaced by `setTls`, still carrying the connections they accepted. */
  const retired: TemplatedApp[] = [];
  const mounts: ((app: TemplatedApp) => void)[] = [];

  const build = (app: TemplatedApp) => {
    app.any(
      '/healthz',
      guardedRoute(log, (_req, method) => ({
        status: 200,
        headers: [
          ['Content-Type', 'application/json; charset=utf-8'],
          ['Cache-Control', 'no-cache'],
        ],
        body: JSON.stringify(opts.getHealth()),
        omitBody: method === 'head',
      })),
    );
    app.any(
      '/*',
      guardedRoute(log, (req, method) =>
        site.respond({
          method,
          url: req.getUrl(),
          accept: req.getHeader('accept'),
          acceptEncoding: req.getHeader('accept-encoding'),
          ifNoneMatch: req.getHeader('if-none-match'),
        }),
      ),
    );
    for (const fn of mounts) fn(app);
    return app;
  };
  const sslApp = (files: TlsFiles) => uws.SSLApp({ cert_file_name: files.cert, key_file_name: files.key });
  let app = build(opts.app ?? (tls ? sslApp(tls) : uws.App()));

  const cannotListen = (host: string, port: number) =>
    new Error(
      `cannot listen on ${host}:${port}: the port is in use (is another OpenWork Relay or another ` +
        'program running?) or the address is not on this machine: stop it, or pick another with ' +
        '--port (env OPENWORK_PORT) or --bind (env OPENWORK_BIND)',
    );

  return {
    get app() {
      return app;
    },
    site,
    mount(fn) {
      mounts.push(fn);
      fn(app);
    },
    async listen(host, port) {
      if (listening) throw new Error('the HTTP server is already listening');
      // `setTls` re-binds the port while connections accepted on it stay open. Linux allows that
      // only when the port was bound with SO_REUSEADDR, which uSockets sets for an explicit port
      // but not for port 0: so pick the free port first and bind it by number.
      if (tls && port === 0) port = (await freePort(uws, host)) ?? port;
      const bound = await listenExclusive(uws, app, host, port);
      if (!bound) throw cannotListen(host, port);
      listening = { socket: bound.socket, host, port: bound.port };
      log.info('listening', { host, port: bound.port, tls: Boolean(tls) });
      return { port: bound.port };
    },
    async setTls(files) {
      if (!tls) throw new Error('this server was started without TLS; it cannot switch to it');
      let next: TemplatedApp;
      try {
        next = build(sslApp(files));
      } catch (err) {
        throw new Error(`cannot load the TLS certificate ${files.cert} with key ${files.key} (${(err as Error).message}); still serving the previous one`);
      }
      const previous = app;
      app = next;
      retired.push(previous);
      if (!listening) {
        tls = files;
        return;
      }
      const { host, port } = listening;
      uws.us_listen_socket_close(listening.socket);
      listening = undefined;
      let bound = await listenExclusive(uws, next, host, port);
      if (!bound) {
        // Someone took the port in that instant: go back to the old app rather than serve nothing.
        app = previous;
        retired.pop();
        bound = await listenExclusive(uws, previous, host, port);
        if (bound) listening = { socket: bound.socket, host, port };
        throw cannotListen(host, port);
      }
      listening = { socket: bound.socket, host, port };
      tls = files;
      log.info('serving a new TLS certificate', { cert: files.cert });
    },
    close() {
      if (listening) uws.us_listen_socket_close(listening.socket);
      listening = undefined;
      for (const a of [...retired, app]) closeApp(a);
      retired.length = 0;
    },
  };
}
