import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isLoopbackAddress, isLoopbackHost, whyNotLocal } from './loopback.ts';

test('IPv4 loopback is all of 127.0.0.0/8', () => {
  for (const a of ['127.0.0.1', '127.1.2.3', '127.255.255.255']) assert.equal(isLoopbackAddress(a), true, a);
  for (const a of ['128.0.0.1', '10.0.0.1', '192.168.1.20', '0.0.0.0', '1.127.0.0', '255.255.255.255']) assert.equal(isLoopbackAddress(a), false, a);
});

test('IPv6 loopback is ::1 in any spelling, as uWS prints it too', () => {
  for (const a of ['::1', '0:0:0:0:0:0:0:1', '0000:0000:0000:0000:0000:0000:0000:0001', '[::1]', '::1%lo']) assert.equal(isLoopbackAddress(a), true, a);
  for (const a of ['::', '::2', 'fe80::1', '2001:db8::1', '1::', '0000:0000:0000:0000:0000:0000:0000:0000', '::1:0']) {
    assert.equal(isLoopbackAddress(a), false, a);
  }
});

test('IPv4-mapped IPv6 addresses are loopback when the IPv4 part is', () => {
  for (const a of ['::ffff:127.0.0.1', '::FFFF:127.9.9.9', '::ffff:7f00:1', '0000:0000:0000:0000:0000:ffff:7f00:0001']) {
    assert.equal(isLoopbackAddress(a), true, a);
  }
  for (const a of ['::ffff:192.168.0.1', '0000:0000:0000:0000:0000:ffff:c0a8:0001', '::fffe:127.0.0.1', '64:ff9b::127.0.0.1', '::127.0.0.1']) {
    assert.equal(isLoopbackAddress(a), false, a);
  }
});

test('names and garbage are not loopback addresses', () => {
  for (const a of ['localhost', '', ' ', 'example.com', '127.0.0.1.evil.com', '127.0.0.256', ':::1', '[::1', 'gggg::1']) {
    assert.equal(isLoopbackAddress(a), false, JSON.stringify(a));
  }
});

test('Host header: loopback names and addresses, with or without a port', () => {
  for (const h of ['localhost', 'localhost:8787', 'LOCALHOST:1', '127.0.0.1:8787', '127.0.0.1', '[::1]:8787', '[::1]', 'app.localhost:80']) {
    assert.equal(isLoopbackHost(h), true, h);
  }
  for (const h of ['', 'example.com', 'evil.com:8787', 'mybox.local:8787', '192.168.1.2:8787', '127.0.0.1.nip.io', 'localhost.evil.com', '[2001:db8::1]:80']) {
    assert.equal(isLoopbackHost(h), false, h);
  }
});

test('a local request comes from loopback, names loopback and was not forwarded', () => {
  const ok = { remoteAddress: '127.0.0.1', host: '127.0.0.1:8787', forwarded: false };
  assert.equal(whyNotLocal(ok), undefined);
  assert.match(whyNotLocal({ ...ok, remoteAddress: '192.168.1.9' }) ?? '', /does not come from this machine/);
  assert.match(whyNotLocal({ ...ok, forwarded: true }) ?? '', /forwarded/);
  assert.match(whyNotLocal({ ...ok, host: 'rebound.example.com' }) ?? '', /does not name this machine/);
});
