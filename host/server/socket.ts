/**
 * The `/relay` WebSocket route on uWebSockets.js. It hands each connection to the protocol as a
 * narrow Peer (`send`, `close`, `remoteAddress`) and keeps uWS's rules here: buffers are copied
 * before the callback returns, every send is corked and flow-controlled (send-queue.ts), and a
 * socket is never used after its close event.
 * @module
 */
import type { TemplatedApp, WebSocket } from '@trufflesuite/uws-js-unofficial';
import type { Logger } from '../log.ts';
import { MAX_FRAME } from '../../shared/noise/transport.ts';
import { MAX_CLOSE_REASON, closeFor, truncateUtf8, type CloseInfo } from '../../shared/channel/close.ts';
import type { Connection, Peer } from '../channel/connection.ts';
import { createSendQueue, type SendQueue } from './send-queue.ts';

export interface RelaySocketOptions {
  path?: string;
  /** Creates the protocol side of a new connection. */
  connect: (peer: Peer) => Connection;
  log: Logger;
  /** Seconds without traffic before uWS pings, then closes (default 60). */
  idleTimeoutSec?: number;
  /** uWS buffer level above which frames wait in our queue (default 256 KiB). */
  highWater?: number;
  /** Bytes a socket may have waiting before it is closed as too slow (default 8 MiB). */
  maxQueued?: number;
  /**
   * Milliseconds a socket may take to complete its handshake (and, when pairing, send its first
   * frame) before it is closed (default HANDSHAKE_TIMEOUT_MS). Answering pings does not extend it,
   * so idle sockets cannot pile up; a pairing device waiting for the person at the host is past it.
   */
  handshakeTimeoutMs?: number;
}

export const HANDSHAKE_TIMEOUT_MS = 10_000;

export interface RelaySocket {
  /** Closes every connection (e.g. 1001 when the host stops). */
  closeAll(info: CloseInfo): void;
  count(): number;
}

interface SocketData {
  remoteAddress: string;
  peer?: Peer;
  queue?: SendQueue;
  conn?: Connection;
  handshakeTimer?: ReturnType<typeof setTimeout>;
}

/** The first message is the mode byte plus Noise message 1; frames are at most MAX_FRAME. */
const MAX_PAYLOAD = MAX_FRAME + 1;
const ABNORMAL_CLOSURE = 1006;
/** The close message uWS gives a socket it dropped for exceeding maxPayloadLength. */
const TOO_BIG = 'Received too big message';

export function attachRelaySocket(app: TemplatedApp, opts: RelaySocketOptions): RelaySocket {
  const { log } = opts;
  const highWater = opts.highWater ?? 256 * 1024;
  const handshakeTimeoutMs = opts.handshakeTimeoutMs ?? HANDSHAKE_TIMEOUT_MS;
  const sockets = new Set<WebSocket<SocketData>>();

  app.ws<SocketData>(opts.path ?? '/relay', {
    maxPayloadLength: MAX_PAYLOAD,
    idleTimeout: opts.idleTimeoutSec ?? 60,
    sendPingsAutomatically: true,
    // Room for a whole burst of full frames above highWater, so uWS itself never drops one.
    maxBackpressure: highWater + 4 * MAX_FRAME,
    closeOnBackpressureLimit: 1,
    upgrade(res, req, context) {
      // Synchronous: req is valid only here, and upgrading right away needs no onAborted.
      res.upgrade<SocketData>(
        { remoteAddress: addressText(Buffer.from(res.getRemoteAddressAsText()).toString()) },
        req.getHeader('sec-websocket-key'),
        req.getHeader('sec-websocket-protocol'),
        req.getHeader('sec-websocket-extensions'),
        context,
      );
    },
    open(ws) {
      const data = ws.getUserData();
      sockets.add(ws);
      const queue = createSendQueue(ws, {
        highWater,
        maxQueued: opts.maxQueued ?? 8 * 1024 * 1024,
        onOverflow: () => {
          log.warn('closing a connection that does not keep up', { remoteAddress: data.remoteAddress });
          data.conn?.close({ code: 4008, reason: 'connection.slow: the device did not keep up; reconnect to resume' });
        },
      });
      data.queue = queue;
      data.peer = {
        remoteAddress: data.remoteAddress,
        send: (bytes) => queue.send(bytes),
        close(code, reason) {
          if (!sockets.has(ws)) return;
          queue.close();
          // end() runs the close handler at once, which forgets the socket.
          ws.cork(() => ws.end(code, truncateUtf8(reason, MAX_CLOSE_REASON)));
        },
      };
      data.conn = opts.connect(data.peer);
      data.handshakeTimer = setTimeout(() => {
        const conn = data.conn;
        if (conn?.phase !== 'hello' && conn?.phase !== 'confirm') return;
        log.info('closing a connection that did not complete its handshake in time', { remoteAddress: data.remoteAddress, phase: conn.phase });
        conn.close(closeFor('handshake.failed', `no handshake within ${handshakeTimeoutMs / 1000} s`));
      }, handshakeTimeoutMs);
      data.handshakeTimer.unref();
    },
    message(ws, message, isBinary) {
      const data = ws.getUserData();
      // uWS neuters `message` when this callback returns: copy it.
      const bytes = new Uint8Array(message.slice(0));
      try {
        data.conn?.receive(bytes, isBinary);
      } catch (err) {
        log.error('connection failed', { remoteAddress: data.remoteAddress, err });
        data.conn?.close({ code: 1011, reason: 'internal error; see the host log' });
      }
    },
    drain(ws) {
      ws.getUserData().queue?.drain();
    },
    close(ws, code, message) {
      const data = ws.getUserData();
      sockets.delete(ws);
      clearTimeout(data.handshakeTimer);
      // uWS drops a socket whose message is over maxPayloadLength without a close frame (1006):
      // it would have to buffer the whole message to answer it. Say here what the device cannot see.
      if (code === ABNORMAL_CLOSURE && Buffer.from(message).toString() === TOO_BIG) {
        log.warn(`dropped a connection that sent a WebSocket message over ${MAX_PAYLOAD} bytes`, { remoteAddress: data.remoteAddress });
      }
      data.queue?.close();
      // 1006 when the socket ended without a close frame: the device vanished or timed out.
      data.conn?.closed(code);
    },
  });

  return {
    closeAll(info) {
      for (const ws of [...sockets]) ws.getUserData().conn?.close(info);
    },
    count: () => sockets.size,
  };
}

/** uWS writes IPv4 peers of a dual-stack socket as IPv4-mapped IPv6; show them as IPv4. */
export function addressText(text: string): string {
  const mapped = /^(?:0000:){5}ffff:([0-9a-f]{2})([0-9a-f]{2}):([0-9a-f]{2})([0-9a-f]{2})$/i.exec(text);
  return mapped
    ? mapped
        .slice(1)
        .map((h) => parseInt(h, 16))
        .join('.')
    : text;
}
