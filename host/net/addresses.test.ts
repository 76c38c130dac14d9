import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { NetworkInterfaceInfo } from 'node:os';
import { hostUrls, lanAddresses, localName } from './addresses.ts';

const iface = (address: string, family: 'IPv4' | 'IPv6', internal = false) =>
  ({ address, family, internal, netmask: '', mac: '', cidr: null, ...(family === 'IPv6' ? { scopeid: 0 } : {}) }) as NetworkInterfaceInfo;

const interfaces = {
  lo: [iface('127.0.0.1', 'IPv4', true), iface('::1', 'IPv6', true)],
  eth0: [iface('192.168.1.20', 'IPv4'), iface('fe80::1', 'IPv6'), iface('2001:db8::5', 'IPv6')],
  wlan0: [iface('10.0.0.7', 'IPv4')],
};

test('localName makes an mDNS name from the host name', () => {
  assert.equal(localName('Alices-MacBook.lan'), 'alices-macbook.local');
  assert.equal(localName('box_1'), 'box-1.local');
  assert.equal(localName('..'), 'openwork-relay.local');
});

test('lanAddresses keeps IPv4 first and drops loopback and link-local', () => {
  assert.deepEqual(lanAddresses(interfaces), ['192.168.1.20', '10.0.0.7', '2001:db8::5']);
});

test('a wildcard bind offers the .local name first, then every LAN address', () => {
  assert.deepEqual(hostUrls({ bind: '0.0.0.0', port: 8787, tls: false, interfaces, hostName: 'desk' }), [
    'http://desk.local:8787',
    'http://192.168.1.20:8787',
    'http://10.0.0.7:8787',
    'http://[2001:db8::5]:8787',
  ]);
});

test('a public URL comes first; TLS switches the scheme', () => {
  const urls = hostUrls({ bind: '0.0.0.0', port: 8443, tls: true, publicUrl: 'https://desk.tailnet.ts.net/', interfaces, hostName: 'desk' });
  assert.equal(urls[0], 'https://desk.tailnet.ts.net');
  assert.equal(urls[1], 'https://desk.local:8443');
});

test('a loopback bind offers only loopback', () => {
  assert.deepEqual(hostUrls({ bind: '127.0.0.1', port: 9000, tls: false, interfaces, hostName: 'desk' }), ['http://127.0.0.1:9000']);
});

test('a wildcard bind with no LAN falls back to loopback after the .local name', () => {
  assert.deepEqual(hostUrls({ bind: '0.0.0.0', port: 1, tls: false, interfaces: { lo: interfaces.lo }, hostName: 'x' }), ['http://x.local:1', 'http://127.0.0.1:1']);
});
