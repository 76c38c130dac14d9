import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createLogger } from '../log.ts';
import { SERVICE_TYPE, advertiseScope, createAdvertiser, discoveryTxt, serviceName, type Responder, type ResponderFactory } from './advertiser.ts';

/** A stand-in for bonjour-service that records what it was asked to do and never opens a socket. */
function fakeFactory() {
  const calls: string[] = [];
  const made: Array<{ opts: { interface?: string }; published: Parameters<Responder['publish']>[0][]; onError: (err: Error) => void }> = [];
  const factory: ResponderFactory = (opts, onError) => {
    const entry = { opts, published: [] as Parameters<Responder['publish']>[0][], onError };
    made.push(entry);
    return {
      publish: (config) => {
        calls.push('publish');
        entry.published.push(config);
      },
      unpublishAll: (cb) => {
        calls.push('unpublishAll');
        setImmediate(() => cb?.());
      },
      destroy: (cb) => {
        calls.push('destroy');
        setImmediate(() => cb?.());
      },
    };
  };
  return { factory, made, calls };
}

function capture() {
  const lines: string[] = [];
  return { lines, log: createLogger({ format: 'json', write: (l) => lines.push(l) }) };
}

const TXT = discoveryTxt({ hostId: 'HOSTID0123456789', version: '1.2.3', protocol: 1, tls: true });

test('a host bound to loopback does not advertise at all: the library is never called', async () => {
  for (const bind of ['127.0.0.1', '127.3.2.1', '::1', 'localhost', 'LOCALHOST', '::ffff:127.0.0.1', '0:0:0:0:0:0:0:1']) {
    const { factory, made } = fakeFactory();
    const { lines, log } = capture();
    const adv = createAdvertiser({ name: 'x', port: 8787, txt: TXT, bind, log, factory });
    assert.equal(adv.advertising, false, bind);
    assert.equal(made.length, 0, `${bind}: no responder (and so no socket) was created`);
    assert.match(lines.join('\n'), /not announcing on the LAN.*this computer only/, bind);
    await adv.stop();
  }
});

test('a host bound to all interfaces announces on all of them', async () => {
  for (const bind of ['0.0.0.0', '::']) {
    const { factory, made, calls } = fakeFactory();
    const adv = createAdvertiser({ name: 'OpenWork Relay on box', port: 8787, txt: TXT, bind, log: capture().log, host: 'box.local', factory });
    assert.equal(adv.advertising, true);
    assert.deepEqual(made[0]?.opts, {}, 'no interface restriction');
    assert.deepEqual(made[0]?.published, [{ name: 'OpenWork Relay on box', type: SERVICE_TYPE, port: 8787, host: 'box.local', txt: TXT }]);
    await Promise.all([adv.stop(), adv.stop()]);
    assert.deepEqual(calls, ['publish', 'unpublishAll', 'destroy'], 'goodbye first, then the socket closes, once');
  }
});

test('a host bound to one IPv4 address announces only on that interface', () => {
  const { factory, made } = fakeFactory();
  createAdvertiser({ name: 'x', port: 1, txt: TXT, bind: '192.168.1.20', log: capture().log, factory });
  assert.deepEqual(made[0]?.opts, { interface: '192.168.1.20' });
});

test('binds it cannot confine (a specific IPv6 address, a host name) are not announced, with the reason', () => {
  for (const bind of ['2001:db8::5', 'fe80::1', 'mybox.lan']) {
    const { factory, made } = fakeFactory();
    const { lines, log } = capture();
    assert.equal(createAdvertiser({ name: 'x', port: 1, txt: TXT, bind, log, factory }).advertising, false);
    assert.equal(made.length, 0);
    assert.match(lines.join('\n'), /needs --bind to be 0\.0\.0\.0/);
  }
  assert.deepEqual(advertiseScope('10.0.0.2'), { advertise: true, interface: '10.0.0.2' });
});

test('a failure of the library is logged, not thrown', () => {
  const { factory, made } = fakeFactory();
  const { lines, log } = capture();
  createAdvertiser({ name: 'x', port: 1, txt: TXT, bind: '0.0.0.0', log, factory });
  made[0]!.onError(Object.assign(new Error('bind EACCES 0.0.0.0:5353'), { code: 'EACCES' }));
  assert.match(lines.join('\n'), /"level":"warn".*announcement \(DNS-SD\) failed.*EACCES/);
});

test('TXT record and instance name', () => {
  assert.deepEqual(TXT, { hostId: 'HOSTID0123456789', version: '1.2.3', protocol: '1', tls: '1', path: '/' });
  assert.equal(discoveryTxt({ hostId: 'h', version: 'v', protocol: 2, tls: false }).tls, '0');
  assert.equal(serviceName('alices-laptop.lan'), 'OpenWork Relay on alices-laptop');
  const long = serviceName('ü'.repeat(80));
  assert.ok(Buffer.byteLength(long) <= 63, long);
  assert.ok(long.startsWith('OpenWork Relay on ü'));
  const emoji = serviceName('😀'.repeat(30));
  assert.ok(Buffer.byteLength(emoji) <= 63);
  assert.equal(Buffer.from(emoji).toString(), emoji, 'no emoji was cut in half');
});
