import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deviceIdentity } from './device-name.ts';

test('names common phones by browser and system', () => {
  const pixel = 'Mozilla/5.0 (Linux; Android 14; Pixel 7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/125.0.0.0 Mobile Safari/537.36';
  const iphone = 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1';
  const edge = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/125.0 Safari/537.36 Edg/125.0';
  assert.deepEqual(deviceIdentity(pixel), { name: 'Chrome on Android', platform: 'Android' });
  assert.deepEqual(deviceIdentity(iphone), { name: 'Safari on iPhone', platform: 'iPhone' });
  assert.deepEqual(deviceIdentity(edge), { name: 'Edge on Windows', platform: 'Windows' });
});

test('an installed app says so; unknown agents still get a name', () => {
  assert.equal(deviceIdentity('Mozilla/5.0 (iPhone) Safari/604.1', true).name, 'Relay app on iPhone');
  assert.deepEqual(deviceIdentity(''), { name: 'Browser on Unknown system', platform: 'Unknown system' });
});
