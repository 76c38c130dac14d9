/**
 * The `ws` baseline runs host/server/socket.ts unchanged: binary messages both ways, closes with
 * the protocol's code, and the send queue's flow control (a device that stops reading is closed
 * with 4008 once its backlog overflows).
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import WebSocket from 'ws';
import { silentLogger } from '../../host/log.ts';
import type { Connection, Peer } from '../../host/channel/connection.ts';
import { attachRelaySocket, type RelaySocket, type RelaySocketOptions } from '../../host/server/socket.ts';
import { createWsApp } from './ws-socket.ts';

const servers: Array<() => Promise<void>> = [];
after(async () => {
  for (const stop of servers) await stop();
});

/** A connection that echoes, floods on request and closes on "bye"; records how it ended. */
function stubConnection(peer: Peer, ended: (how: string) => void): Connection {
  let phase: Connection['phase'] = 'open';
  const text = (b: Uint8Array) => new TextDecoder().decode(b);
  return {
    receive(data) {
      if (text(data) === 'bye') return this.close({ code: 4000, reason: 'done' });
      if (text(data) === 'flood')
        for (let i = 0; i < 4000; i++) peer.send(new Uint8Array(8192).fill(i & 255)); // 32 MiB: more than the kernel buffers
      else peer.send(data);
    },
    closed() {
      if (phase !== 'closed') ended('socket closed');
      phase = 'closed';
    },
    close(info) {
      phase = 'closed';
      ended(`closed ${info.code}`);
      peer.close(info.code, info.reason);
    },
    get phase() {
      return phase;
    },
  };
}

async function start(opts: Partial<RelaySocketOptions> = {}): Promise<{ url: string; socket: RelaySocket; endings: string[] }> {
  const server: Server = createServer();
  const ws = createWsApp(server);
  const endings: string[] = [];
  const socket = attachRelaySocket(ws.app, { log: silentLogger, connect: (peer) => stubConnection(peer, (how) => endings.push(how)), ...opts });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  servers.push(
    () =>
      new Promise<void>((resolve) => {
        ws.close();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  );
  return { url: `ws://127.0.0.1:${(server.address() as { port: number }).port}/relay`, socket, endings };
}

function open(url: string): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const client = new WebSocket(url);
    client.binaryType = 'nodebuffer';
    client.once('open', () => resolve(client));
    client.once('error', reject);
  });
}

const closeOf = (client: WebSocket) =>
  new Promise<{ code: number; reason: string }>((resolve) => client.once('close', (code, reason) => resolve({ code, reason: reason.toString() })));

test('carries binary messages both ways and closes with the code the protocol chose', async () => {
  const { url, socket, endings } = await start();
  const client = await open(url);
  const echoed = new Promise<Buffer>((resolve) => client.once('message', (data: Buffer) => resolve(data)));
  client.send(Uint8Array.of(1, 2, 3));
  assert.deepEqual([...(await echoed)], [1, 2, 3]);
  assert.equal(socket.count(), 1);

  const closed = closeOf(client);
  client.send(new TextEncoder().encode('bye'));
  assert.deepEqual(await closed, { code: 4000, reason: 'done' });
  assert.equal(socket.count(), 0);
  assert.deepEqual(endings, ['closed 4000']);
});

test('a device that stops reading is closed as too slow once its backlog overflows', async () => {
  const { url, socket, endings } = await start({ highWater: 16 * 1024, maxQueued: 64 * 1024 });
  const client = await open(url);
  client.pause();
  client.send(new TextEncoder().encode('flood'));
  const deadline = Date.now() + 10_000;
  while (socket.count() > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  assert.equal(socket.count(), 0, 'the host let go of the socket');
  assert.deepEqual(endings, ['closed 4008']);
  const closed = closeOf(client);
  client.resume();
  assert.equal((await closed).code, 4008);
});
