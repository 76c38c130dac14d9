import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { us_listen_socket, us_socket } from '@trufflesuite/uws-js-unofficial';
import { createLogger, silentLogger } from '../log.ts';
import { loadUws } from '../uws/load.ts';
import { openSocket, record } from '../../test-support/relay-client.ts';
import type { Connection, Peer } from '../channel/connection.ts';
import { addressText, attachRelaySocket } from './socket.ts';

test('addressText shows IPv4-mapped addresses as IPv4', () => {
  assert.equal(addressText('0000:0000:0000:0000:0000:ffff:7f00:0001'), '127.0.0.1');
  assert.equal(addressText('0000:0000:0000:0000:0000:ffff:c0a8:0102'), '192.168.1.2');
  assert.equal(addressText('fe80:0000:0000:0000:0000:0000:0000:0001'), 'fe80:0000:0000:0000:0000:0000:0000:0001');
});

test('uWS: messages reach the connection as copies, sends and closes reach the device, oversize is refused', async (t) => {
  const { uws } = loadUws();
  const app = uws.App();
  const received: Array<[number[], boolean]> = [];
  const peers: Peer[] = [];
  const closed: number[] = [];
  const relay = attachRelaySocket(app, {
    log: silentLogger,
    connect(peer): Connection {
      peers.push(peer);
      return {
        phase: 'hello',
        receive: (data, isBinary) => {
          received.push([[...data.subarray(0, 3)], isBinary]);
          if (data[0] === 9) peer.send(Uint8Array.of(1, 2, 3));
          if (data[0] === 8) peer.close(4403, 'device.revoked: gone');
        },
        closed: () => closed.push(peers.indexOf(peer)),
        close: (info) => peer.close(info.code, info.reason),
      };
    },
  });
  const listen = await new Promise<us_listen_socket>((resolve, reject) => app.listen('127.0.0.1', 0, (s) => (s ? resolve(s) : reject(new Error('listen failed')))));
  t.after(() => uws.us_listen_socket_close(listen));
  const url = `ws://127.0.0.1:${uws.us_socket_local_port(listen as unknown as us_socket)}/relay`;

  const a = await openSocket(url);
  const rec = record(a);
  a.send(Uint8Array.of(9, 9, 9));
  assert.deepEqual([...(await rec.next())], [1, 2, 3]);
  assert.equal(peers[0]!.remoteAddress, '127.0.0.1');
  a.send('text');
  a.send(Uint8Array.of(8));
  assert.deepEqual(await rec.closed, { code: 4403, reason: 'device.revoked: gone' });
  assert.deepEqual(received, [
    [[9, 9, 9], true],
    [[116, 101, 120], false],
    [[8], true],
  ]);

  const b = await openSocket(url);
  const recB = record(b);
  b.send(new Uint8Array(65_537)); // larger than mode byte + the largest Noise message
  assert.notEqual((await recB.closed).code, 1000);

  const c = await openSocket(url);
  const recC = record(c);
  await new Promise((r) => setTimeout(r, 50));
  relay.closeAll({ code: 1001, reason: 'host.shutting-down: bye' });
  assert.deepEqual(await recC.closed, { code: 1001, reason: 'host.shutting-down: bye' });
  assert.equal(relay.count(), 0);
  assert.deepEqual(closed, [0, 1, 2]);
});

test('uWS: a socket that has not completed its handshake in time is closed even while it answers pings; one waiting for approval is not', { timeout: 15_000 }, async (t) => {
  const { uws } = loadUws();
  const app = uws.App();
  const lines: string[] = [];
  let nextPhase: Connection['phase'] = 'hello';
  attachRelaySocket(app, {
    log: createLogger({ write: (l) => lines.push(l) }),
    handshakeTimeoutMs: 300,
    connect(peer): Connection {
      const phase = nextPhase;
      return { phase, receive: () => {}, closed: () => {}, close: (info) => peer.close(info.code, info.reason) };
    },
  });
  const listen = await new Promise<us_listen_socket>((resolve, reject) => app.listen('127.0.0.1', 0, (s) => (s ? resolve(s) : reject(new Error('listen failed')))));
  t.after(() => uws.us_listen_socket_close(listen));
  const url = `ws://127.0.0.1:${uws.us_socket_local_port(listen as unknown as us_socket)}/relay`;

  for (const phase of ['hello', 'confirm'] as const) {
    nextPhase = phase;
    const ws = await openSocket(url);
    const silent = record(ws);
    // Traffic that keeps a socket from the idle timeout does not extend the handshake limit.
    const pings = setInterval(() => ws.ping(), 50);
    const closed = await silent.closed;
    clearInterval(pings);
    assert.deepEqual(closed, { code: 4400, reason: 'handshake.failed: no handshake within 0.3 s' }, phase);
  }
  assert.match(lines.join('\n'), /did not complete its handshake in time/);

  nextPhase = 'pending';
  const waiting = await openSocket(url);
  const rec = record(waiting);
  let closedEarly = false;
  void rec.closed.then(() => (closedEarly = true));
  await new Promise((r) => setTimeout(r, 600));
  assert.equal(closedEarly, false, 'a device waiting for the person at the host stays');
  waiting.close();

  // uWS ends an oversize message without a close frame; the log says why.
  nextPhase = 'hello';
  const big = await openSocket(url);
  const recBig = record(big);
  big.send(new Uint8Array(16 * 1024 * 1024));
  assert.equal((await recBig.closed).code, 1006);
  await new Promise((r) => setTimeout(r, 50));
  assert.match(lines.join('\n'), /dropped a connection that sent a WebSocket message over 65536 bytes/);
});
