import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { NetworkInterfaceInfo } from 'node:os';
import { certificateNames } from './names.ts';

const nic = (address: string, family: 'IPv4' | 'IPv6', internal = false) =>
  ({ address, family, internal, netmask: '', mac: '', cidr: null, ...(family === 'IPv6' ? { scopeid: 0 } : {}) }) as NetworkInterfaceInfo;
const interfaces = {
  lo: [nic('127.0.0.1', 'IPv4', true), nic('::1', 'IPv6', true)],
  en0: [nic('192.168.1.20', 'IPv4'), nic('fe80::1', 'IPv6'), nic('2001:db8::20', 'IPv6')],
  utun3: [nic('100.101.102.103', 'IPv4')],
};

test('the certificate covers the .local name, localhost, every LAN address and loopback', () => {
  assert.deepEqual(certificateNames({ bind: '0.0.0.0', interfaces, hostName: 'Alices-MacBook.lan' }), {
    dns: ['alices-macbook.local', 'localhost'],
    ips: ['192.168.1.20', '100.101.102.103', '2001:db8::20', '127.0.0.1', '::1'],
  });
});

test('a public URL and a specific bind address are covered too', () => {
  const named = certificateNames({ bind: '192.168.1.99', publicUrl: 'https://Relay.Home.Arpa:8787/', interfaces: {}, hostName: 'box' });
  assert.deepEqual(named.dns, ['box.local', 'localhost', 'relay.home.arpa']);
  assert.deepEqual(named.ips, ['127.0.0.1', '::1', '192.168.1.99']);
  const v6 = certificateNames({ bind: '::', publicUrl: 'https://[fd00::5]:8787', interfaces: {}, hostName: 'box' });
  assert.deepEqual(v6.ips, ['127.0.0.1', '::1', 'fd00::5']);
});
