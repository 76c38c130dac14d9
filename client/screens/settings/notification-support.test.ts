import { test } from 'node:test';
import assert from 'node:assert/strict';
import { notificationSupport, type PageFacts } from './notification-support.ts';

const ANDROID = 'Mozilla/5.0 (Linux; Android 14; Pixel 7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Mobile Safari/537.36';
const IPHONE = 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1';
const IPAD = 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15';
const base: PageFacts = { secure: true, userAgent: ANDROID, maxTouchPoints: 5, standalone: false, hasPush: true, permission: 'default' };

test('each reason notifications cannot work, in the order a person must fix them', () => {
  assert.deepEqual(notificationSupport(base), { ok: true });
  assert.deepEqual(notificationSupport({ ...base, secure: false }), { ok: false, reason: 'insecure' });
  assert.deepEqual(notificationSupport({ ...base, userAgent: IPHONE, hasPush: false }), { ok: false, reason: 'ios-not-installed' });
  assert.deepEqual(notificationSupport({ ...base, userAgent: IPAD, hasPush: false }), { ok: false, reason: 'ios-not-installed' }, 'iPadOS says Macintosh');
  assert.deepEqual(notificationSupport({ ...base, userAgent: IPHONE, standalone: true }), { ok: true });
  assert.deepEqual(notificationSupport({ ...base, userAgent: IPAD, maxTouchPoints: 0 }), { ok: true }, 'a real Mac');
  assert.deepEqual(notificationSupport({ ...base, hasPush: false }), { ok: false, reason: 'unsupported' });
  assert.deepEqual(notificationSupport({ ...base, permission: 'denied' }), { ok: false, reason: 'denied' });
});
