/**
 * The host's HTTP server on uWebSockets.js: /healthz, the built PWA, and security headers on every
 * response. The uWS app is returned so the WebSocket route can be added (`app.ws(...)`) before `listen`.
 * @module
 */
import type { HttpRequest, HttpResponse, TemplatedApp, us_listen_socket, us_socket } from '@trufflesuite/uws-js-unofficial';
import type { Logger } from '../log.ts';
import type { Uws } from '../uws/load.ts';
import { sendResponse, track, type Reply, type RequestState } from '../uws/respond.ts';
import { SECURITY_HEADERS } from './headers.ts';
import { createStaticSite, type StaticSite } from './static.ts';

export interface HttpServerOptions {
  uws: Uws;
  /** An app to mount on; by default a new `App()`, or `SSLApp()` when `tls` is given. */
  app?: TemplatedApp;
  staticDir: string;
  getHealth: () => object;
  log: Logger;
  tls?: { cert: string; key: string };
}

export interface HttpServer {
  app: TemplatedApp;
  site: StaticSite;
  listen(host: string, port: number): Promise<{ port: number }>;
  /** Stops accepting connections and drops open ones, so the port is free and the process can exit. */
  close(): void;
}

const ALLOW = 'GET, HEAD';

/** uSockets' listen option that leaves out SO_REUSEPORT. */
const LIBUS_LISTEN_EXCLUSIVE_PORT = 1;
/** The binary takes (host, port, options, cb); its typings only declare (port, options, cb). */
type ListenWithOptions = (host: string, port: number, options: number, cb: (socket: us_listen_socket | false) => void) => TemplatedApp;

export function createHttpServer(opts: HttpServerOptions): HttpServer {
  const { uws, log } = opts;
  const app =
    opts.app ?? (opts.tls ? uws.SSLApp({ cert_file_name: opts.tls.cert, key_file_name: opts.tls.key }) : uws.App());
  const site = createStaticSite({ dir: opts.staticDir, log });
  let listenSocket: us_listen_socket | undefined;

  const send = (res: HttpResponse, state: RequestState, reply: Reply) =>
    sendResponse(res, state, { ...reply, headers: [...SECURITY_HEADERS, ...(reply.headers ?? [])] });

  /** Every route goes through here: abort handler first, GET/HEAD only, a 500 instead of a crash. */
  const route = (handle: (req: HttpRequest, method: 'get' | 'head') => Reply) => (res: HttpResponse, req: HttpRequest) => {
    const state = track(res);
    const method = req.getMethod();
    let reply: Reply;
    try {
      reply =
        method === 'get' || method === 'head'
          ? handle(req, method)
          : { status: 405, headers: [['Allow', ALLOW], ['Content-Type', 'text/plain; charset=utf-8']], body: 'method not allowed' };
    } catch (err) {
      log.error('request failed', { url: req.getUrl(), err });
      reply = { status: 500, headers: [['Content-Type', 'text/plain; charset=utf-8']], body: 'internal error' };
    }
    send(res, state, reply);
  };

  app.any(
    '/healthz',
    route((_req, method) => ({
      status: 200,
      headers: [['Content-Type', 'application/json; charset=utf-8'], ['Cache-Control', 'no-cache']],
      body: JSON.stringify(opts.getHealth()),
      omitBody: method === 'head',
    })),
  );
  app.any(
    '/*',
    route((req, method) =>
      site.respond({
        method,
        url: req.getUrl(),
        accept: req.getHeader('accept'),
        acceptEncoding: req.getHeader('accept-encoding'),
        ifNoneMatch: req.getHeader('if-none-match'),
      }),
    ),
  );

  return {
    app,
    site,
    listen(host, port) {
      if (listenSocket) return Promise.reject(new Error('the HTTP server is already listening'));
      return new Promise((resolve, reject) => {
        // LIBUS_LISTEN_EXCLUSIVE_PORT: keep SO_REUSEADDR (a restart binds at once despite TIME_WAIT)
        // but drop SO_REUSEPORT, so a second host on the same port fails instead of sharing it.
        (app.listen as unknown as ListenWithOptions).call(app, host, port, LIBUS_LISTEN_EXCLUSIVE_PORT, (socket) => {
          if (!socket) {
            reject(
              new Error(
                `cannot listen on ${host}:${port}: the port is in use (is another OpenWork Relay or another ` +
                  'program running?) or the address is not on this machine: stop it, or pick another with ' +
                  '--port (env OPENWORK_PORT) or --bind (env OPENWORK_BIND)',
              ),
            );
            return;
          }
          listenSocket = socket;
          // us_socket_local_port accepts a listen socket too (see uWS docs/index.d.ts).
          const actual = uws.us_socket_local_port(socket as unknown as us_socket);
          log.info('listening', { host, port: actual, tls: Boolean(opts.tls) });
          resolve({ port: actual });
        });
      });
    },
    close() {
      if (listenSocket) uws.us_listen_socket_close(listenSocket);
      listenSocket = undefined;
      // App.close() (uWS ≥ 20.30, missing from its typings) also ends keep-alive and WebSocket connections.
      (app as TemplatedApp & { close?: () => void }).close?.();
    },
  };
}
