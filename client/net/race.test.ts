import { test } from 'node:test';
import assert from 'node:assert/strict';
import { raceAddresses, type RaceAttempt } from './race.ts';

/** A fake socket per address: the test decides when (and whether) its handshake completes. */
interface FakeSocket {
  address: string;
  closed: boolean;
  complete(): void;
  fail(err: Error): void;
}

function fakeNetwork() {
  const sockets: FakeSocket[] = [];
  const start = (address: string): RaceAttempt<FakeSocket> => {
    let complete!: () => void;
    let fail!: (err: Error) => void;
    const socket: FakeSocket = { address, closed: false, complete: () => complete(), fail: (err) => fail(err) };
    const result = new Promise<FakeSocket>((resolve, reject) => {
      complete = () => resolve(socket);
      fail = reject;
    });
    sockets.push(socket);
    return { result, abandon: () => void (socket.closed = true) };
  };
  const at = (address: string) => sockets.find((s) => s.address === address);
  return { sockets, start, at };
}

const coded = (code: string) => Object.assign(new Error(code), { code });
const tick = () => new Promise((r) => setTimeout(r, 0));
const notFinal = () => false;

test('all addresses at once: the first to complete wins and the others are closed, also one that completes later', async () => {
  const net = fakeNetwork();
  const race = raceAddresses({ addresses: ['a', 'b', 'c'], start: net.start, headStartMs: 0, isFinal: notFinal });
  assert.deepEqual(
    net.sockets.map((s) => s.address),
    ['a', 'b', 'c'],
  );
  net.at('b')!.complete();
  const win = await race.result;
  assert.equal(win.address, 'b');
  assert.equal(win.value, net.at('b'));
  assert.deepEqual(
    net.sockets.map((s) => [s.address, s.closed]),
    [
      ['a', true],
      ['b', false],
      ['c', true],
    ],
  );
  net.at('a')!.complete(); // a late handshake: abandoned (closed) again, not adopted
  await tick();
  assert.equal(net.at('a')!.closed, true);
});

test('the preferred address runs alone for its head start; the others join once it fails', async () => {
  const net = fakeNetwork();
  const race = raceAddresses({ addresses: ['fav', 'x', 'y'], start: net.start, headStartMs: 60_000, isFinal: notFinal });
  assert.deepEqual(
    net.sockets.map((s) => s.address),
    ['fav'],
    'one socket while the favourite may still answer',
  );
  net.at('fav')!.fail(new Error('refused'));
  await tick();
  assert.deepEqual(
    net.sockets.map((s) => s.address),
    ['fav', 'x', 'y'],
  );
  net.at('y')!.complete();
  assert.equal((await race.result).address, 'y');
  assert.equal(net.at('x')!.closed, true);
});

test('the others also join when the head start runs out; the favourite can still win', async () => {
  const net = fakeNetwork();
  const race = raceAddresses({ addresses: ['fav', 'x'], start: net.start, headStartMs: 20, isFinal: notFinal });
  await new Promise((r) => setTimeout(r, 40));
  assert.deepEqual(
    net.sockets.map((s) => s.address),
    ['fav', 'x'],
  );
  net.at('fav')!.complete();
  assert.equal((await race.result).address, 'fav');
  assert.equal(net.at('x')!.closed, true);
});

test('when every address fails: the failure the host answered with a code, else the first address’s', async () => {
  const net = fakeNetwork();
  const race = raceAddresses({ addresses: ['a', 'b'], start: net.start, headStartMs: 0, isFinal: notFinal });
  net.at('a')!.fail(new Error('timeout'));
  net.at('b')!.fail(coded('host.shutting-down'));
  await assert.rejects(race.result, /host.shutting-down/);

  const net2 = fakeNetwork();
  const race2 = raceAddresses({ addresses: ['a', 'b'], start: net2.start, headStartMs: 0, isFinal: notFinal });
  net2.at('b')!.fail(new Error('b refused'));
  net2.at('a')!.fail(new Error('a timed out'));
  await assert.rejects(race2.result, /a timed out/);
});

test('a final failure (this device was removed) ends the race at once and closes the rest', async () => {
  const net = fakeNetwork();
  const race = raceAddresses({ addresses: ['a', 'b'], start: net.start, headStartMs: 0, isFinal: (e) => (e as { code?: string }).code === 'device.revoked' });
  net.at('b')!.fail(coded('device.revoked'));
  await assert.rejects(race.result, /device.revoked/);
  assert.equal(net.at('a')!.closed, true);
});

test('cancel abandons every attempt; no address at all fails at once', async () => {
  const net = fakeNetwork();
  const race = raceAddresses({ addresses: ['a', 'b'], start: net.start, headStartMs: 0, isFinal: notFinal });
  race.cancel(new Error('closed by the app'));
  await assert.rejects(race.result, /closed by the app/);
  assert.ok(net.sockets.every((s) => s.closed));
  await assert.rejects(raceAddresses({ addresses: [], start: net.start, headStartMs: 0, isFinal: notFinal }).result, /no address/);
});
