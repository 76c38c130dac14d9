import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compatRefusal } from './exposure.ts';

test('plain HTTP on a network address refuses the layer, saying how to serve it', () => {
  for (const bind of ['0.0.0.0', '::', '192.168.1.20', 'my-laptop.local']) {
    const refusal = compatRefusal({ bind, tls: false });
    assert.ok(refusal, bind);
    assert.match(refusal, /plain HTTP .*unencrypted.*tls setup.*--bind 127\.0\.0\.1/);
  }
});

test('HTTPS anywhere, or plain HTTP on loopback only, serves it', () => {
  for (const bind of ['0.0.0.0', '::', '192.168.1.20']) assert.equal(compatRefusal({ bind, tls: true }), undefined, bind);
  for (const bind of ['127.0.0.1', '127.0.0.2', '::1', '[::1]', 'localhost']) assert.equal(compatRefusal({ bind, tls: false }), undefined, bind);
});
