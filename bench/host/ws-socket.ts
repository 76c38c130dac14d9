/**
 * The `ws` package dressed as the part of a uWebSockets.js app that host/server/socket.ts uses
 * (`app.ws(pattern, behavior)`), so `npm run bench` can run the relay exactly as the host does
 * (createRelay → attachRelaySocket → send queue → connection) over a different socket layer and
 * compare the two. The host itself does not use it.
 *
 * uWS's rules that the relay relies on are kept: `send` reports 1 (sent), 0 (buffered; `drain`
 * follows) or 2 (dropped over `maxBackpressure`, closing when `closeOnBackpressureLimit`), `end`
 * runs the close handler at once, `idleTimeout` with automatic pings, `maxPayloadLength`, and
 * message buffers are fresh copies. Other TemplatedApp methods do not exist here.
 * @module
 */
import type { IncomingMessage, Server } from 'node:http';
import type { Socket } from 'node:net';
import type { HttpRequest, HttpResponse, TemplatedApp, WebSocket as UwsWebSocket, WebSocketBehavior } from '@trufflesuite/uws-js-unofficial';
import { createRequire } from 'node:module';
import type { WebSocketServer as WebSocketServerClass, WebSocket } from 'ws';

const SENT = 1;
const BUFFERED = 0;
const DROPPED = 2;

export interface WsApp {
  /** Hand this to code that mounts routes on a uWS app; only `ws()` is implemented. */
  app: TemplatedApp;
  /** Drops every connection and stops the timers; the HTTP server is the caller's to close. */
  close(): void;
}

interface Route {
  behavior: WebSocketBehavior<unknown>;
  wss: WebSocketServerClass;
}

const bytesOf = (text: string): ArrayBuffer => new TextEncoder().encode(text).buffer as ArrayBuffer;

export function createWsApp(server: Server): WsApp {
  const routes = new Map<string, Route>();
  const timers = new Set<NodeJS.Timeout>();
  const open = new Set<WebSocket>();

  server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => {
    const route = routes.get(new URL(req.url ?? '/', 'http://x').pathname);
    if (!route) return void socket.destroy();
    socket.on('error', () => socket.destroy());
    const res = {
      getRemoteAddressAsText: () => bytesOf((socket.remoteAddress ?? '').replace(/^::ffff:/, '')),
      upgrade: (userData: unknown) => route.wss.handleUpgrade(req, socket, head, (ws) => accept(route, ws, socket, userData)),
    };
    const request = { getHeader: (name: string) => String(req.headers[name.toLowerCase()] ?? '') };
    if (!route.behavior.upgrade) return res.upgrade({});
    void route.behavior.upgrade(res as unknown as HttpResponse, request as unknown as HttpRequest, undefined as never);
  });

  function accept(route: Route, ws: WebSocket, socket: Socket, userData: unknown): void {
    const b = route.behavior;
    const maxBackpressure = b.maxBackpressure ?? 64 * 1024;
    let closed = false;
    let alive = true;
    open.add(ws);
    const closeOnce = (code: number, reason: ArrayBuffer) => {
      if (closed) return;
      closed = true;
      open.delete(ws);
      b.close?.(uwsSocket, code, reason);
    };
    const shim = {
      getUserData: () => userData,
      getBufferedAmount: () => ws.bufferedAmount,
      cork(cb: () => void) {
        socket.cork();
        try {
          cb();
        } finally {
          socket.uncork();
        }
        return shim;
      },
      send(message: Uint8Array | ArrayBuffer, isBinary = false): number {
        if (closed) return DROPPED;
        const size = message.byteLength;
        if (ws.bufferedAmount + size > maxBackpressure) {
          if (b.closeOnBackpressureLimit) {
            ws.terminate();
            closeOnce(1006, new ArrayBuffer(0));
          }
          return DROPPED;
        }
        ws.send(message, { binary: isBinary });
        return ws.bufferedAmount > 0 ? BUFFERED : SENT;
      },
      end(code = 1000, reason = '') {
        if (closed) return;
        ws.close(code, reason);
        closeOnce(code, bytesOf(reason));
      },
      close() {
        if (closed) return;
        ws.terminate();
        closeOnce(1006, new ArrayBuffer(0));
      },
    };
    // Implements the members of uWS's WebSocket that socket.ts and send-queue.ts call.
    const uwsSocket = shim as unknown as UwsWebSocket<unknown>;
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      alive = true;
      if (closed) return;
      void b.message?.(uwsSocket, data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength) as ArrayBuffer, isBinary);
    });
    ws.on('pong', () => (alive = true));
    ws.on('error', () => ws.terminate());
    ws.on('close', (code: number, reason: Buffer) => closeOnce(code, bytesOf(reason.toString())));
    socket.on('drain', () => {
      if (!closed) b.drain?.(uwsSocket);
    });
    if (b.idleTimeout) {
      // uWS pings after idleTimeout/2 of silence and drops the socket when the next half passes too.
      const timer = setInterval(
        () => {
          if (closed) {
            clearInterval(timer);
            timers.delete(timer);
            return;
          }
          if (!alive) return shim.close();
          alive = false;
          if (b.sendPingsAutomatically !== false) ws.ping();
        },
        (b.idleTimeout * 1000) / 2,
      );
      timer.unref();
      timers.add(timer);
    }
    void b.open?.(uwsSocket);
  }

  const app = {
    ws(pattern: string, behavior: WebSocketBehavior<unknown>) {
      // Loaded on use: the benchmarks' host process also measures the uWS host's idle memory.
      const { WebSocketServer } = createRequire(import.meta.url)('ws') as { WebSocketServer: typeof WebSocketServerClass };
      const wss = new WebSocketServer({ noServer: true, maxPayload: behavior.maxPayloadLength ?? 16 * 1024, perMessageDeflate: false });
      routes.set(pattern, { behavior, wss });
      return app;
    },
  };
  return {
    app: app as unknown as TemplatedApp,
    close() {
      for (const t of timers) clearInterval(t);
      timers.clear();
      for (const ws of open) ws.terminate();
      for (const { wss } of routes.values()) wss.close();
    },
  };
}
