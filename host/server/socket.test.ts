import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { us_listen_socket, us_socket } from '@trufflesuite/uws-js-unofficial';
import { silentLogger } from '../log.ts';
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
  assert.deepEqual(received, [[[9, 9, 9], true], [[116, 101, 120], false], [[8], true]]);

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
