import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatBanner, pairingReminder, phonesCanReach, type BannerInfo } from './banner.ts';

const base: BannerInfo = {
  version: '1.2.3',
  bind: '0.0.0.0',
  port: 8787,
  urls: ['http://box.local:8787', 'http://192.168.1.20:8787'],
  listeningAfterMs: 42,
  adminLines: [],
  workspaces: ['/w'],
  dataDir: '/d',
  lanAddress: '192.168.1.20',
};

test('on every network: the banner says where phones open the host', () => {
  const text = formatBanner(base);
  assert.match(text, /Open on your phone: http:\/\/box\.local:8787 {2}\(also http:\/\/192\.168\.1\.20:8787\)/);
  assert.doesNotMatch(text, /cannot reach/);
});

test('on loopback: no "open on your phone" with an address phones cannot open, but how to let them in', () => {
  for (const bind of ['127.0.0.1', '::1', 'localhost']) {
    const text = formatBanner({ ...base, bind, urls: ['http://127.0.0.1:8787'] });
    assert.doesNotMatch(text, /Open on your phone/, bind);
    assert.match(text, new RegExp(`Phones cannot reach this host: it listens on ${bind.replace(/[.:]/g, '\\$&')}`));
    assert.match(text, /--bind 0\.0\.0\.0 \(every network of this computer\) or --bind 192\.168\.1\.20 \(this LAN address only\)/);
  }
  assert.match(formatBanner({ ...base, bind: '127.0.0.1', lanAddress: undefined }), /or --bind <this computer's LAN address>/);
  // Behind a tunnel (--public-url) loopback is the right bind, and phones open the public URL.
  assert.match(
    formatBanner({ ...base, bind: '127.0.0.1', publicUrl: 'https://relay.example', urls: ['https://relay.example', 'http://127.0.0.1:8787'] }),
    /Open on your phone: https:\/\/relay\.example/,
  );
  assert.equal(phonesCanReach('127.0.0.1', undefined), false);
  assert.equal(phonesCanReach('192.168.1.20', undefined), true);
});

test('the reminder said instead of the QR code', () => {
  assert.equal(pairingReminder(2, true, true), '2 devices are paired. To pair another phone, press p for a pairing QR code, or run `npm start -- pair`.\n');
  assert.equal(pairingReminder(1, true, false), '1 device is paired. To pair another phone, run `npm start -- pair` for a pairing code.\n');
  assert.match(pairingReminder(0, false, true), /^No phone can pair while the host listens on loopback only/);
});
