import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { devicesPath, matchDevice, readDevicesFile, revokeInFile, setAccessInFile, updateDevicesFile, writeDevicesFile, type Device } from './store.ts';

const dev = (id: string, name: string): Device => ({
  id,
  name,
  platform: 'test',
  publicKey: Buffer.alloc(32, id.charCodeAt(0)).toString('base64url'),
  pairedAt: '2025-01-01T00:00:00.000Z',
  scopes: ['read'],
});

function tmp(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'owr-devices-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test('a missing file is an empty list; writes are 0600 and leave no temp files', (t) => {
  const dir = tmp(t);
  assert.deepEqual(readDevicesFile(dir), { version: 1, devices: [], revoked: [] });
  updateDevicesFile(dir, (f) => f.devices.push(dev('a1', 'Phone')));
  assert.equal(statSync(join(dir, 'devices.json')).mode & 0o777, 0o600);
  assert.deepEqual(readdirSync(dir), ['devices.json']);
  assert.equal(readDevicesFile(dir).devices[0]!.name, 'Phone');
});

test('a corrupt file is refused with its path and what to do', (t) => {
  const dir = tmp(t);
  writeFileSync(join(dir, 'devices.json'), '{"version":1,"devices":[{"id":1}],"revoked":[]}');
  assert.throws(() => readDevicesFile(dir), /devices\.json is corrupt \(devices\.json\.devices\[0\]\.id: expected a string.*pair again/);
  writeFileSync(join(dir, 'devices.json'), 'not json');
  assert.throws(() => readDevicesFile(dir), /is corrupt/);
});

test('matchDevice: exact id, exact name, unique prefix; never guesses', () => {
  const list = [dev('ab12', 'Pixel'), dev('ab34', 'Pixel tablet'), dev('cd56', 'iPhone')];
  assert.equal((matchDevice(list, 'ab12') as { device: Device }).device.id, 'ab12');
  assert.equal((matchDevice(list, 'PIXEL') as { device: Device }).device.id, 'ab12', 'exact name beats prefix');
  assert.equal((matchDevice(list, 'ip') as { device: Device }).device.id, 'cd56');
  const several = matchDevice(list, 'ab');
  assert.equal(several.ok, false);
  assert.equal(!several.ok && several.reason, 'several');
  assert.equal(!several.ok && several.candidates.length, 2);
  const none = matchDevice(list, 'zz');
  assert.equal(!none.ok && none.reason, 'none');
  assert.equal(matchDevice(list, '  ').ok, false);
});

test('revokeInFile moves the device to the tombstones', (t) => {
  const dir = tmp(t);
  updateDevicesFile(dir, (f) => f.devices.push(dev('a1', 'Phone'), dev('b2', 'Tablet')));
  const m = revokeInFile(dir, 'phone', new Date('2025-02-02T00:00:00Z'));
  assert.equal(m.ok, true);
  const file = readDevicesFile(dir);
  assert.deepEqual(
    file.devices.map((d) => d.id),
    ['b2'],
  );
  assert.deepEqual(file.revoked, [{ id: 'a1', name: 'Phone', publicKey: dev('a1', '').publicKey, revokedAt: '2025-02-02T00:00:00.000Z' }]);
  assert.equal(revokeInFile(dir, 'phone').ok, false);
});

test('setAccessInFile changes scopes (in canonical order) and workspaces, and lifts the workspace limit with null', (t) => {
  const dir = tmp(t);
  updateDevicesFile(dir, (f) => f.devices.push(dev('a1', 'Pixel'), dev('b2', 'iPad')));
  const m = setAccessInFile(dir, 'pixel', { scopes: ['approve', 'read', 'read'], workspaces: ['/w/b', '/w/a', '/w/b'] });
  assert.equal(m.ok && m.device.id, 'a1');
  assert.deepEqual(readDevicesFile(dir).devices[0], { ...dev('a1', 'Pixel'), scopes: ['read', 'approve'], workspaces: ['/w/b', '/w/a'] });
  assert.equal(readDevicesFile(dir).devices[1]!.workspaces, undefined, 'the other device keeps every workspace');
  setAccessInFile(dir, 'a1', { workspaces: null, scopes: [] });
  assert.deepEqual(readDevicesFile(dir).devices[0], { ...dev('a1', 'Pixel'), scopes: [] });
  assert.deepEqual(setAccessInFile(dir, 'nope', { scopes: [] }), { ok: false, reason: 'none', candidates: [] });
  assert.throws(() => setAccessInFile(dir, 'a1', { scopes: ['write' as never] }), /unknown scope "write"/);
  assert.throws(() => setAccessInFile(dir, 'a1', { workspaces: ['relative'] }), /"relative" is not an absolute path/);
  writeFileSync(join(dir, 'devices.json'), JSON.stringify({ version: 1, devices: [{ ...dev('a1', 'P'), workspaces: 'all' }], revoked: [] }));
  assert.throws(() => readDevicesFile(dir), /workspaces: expected a list/);
});

test('a computer has a secret hash instead of a key; removing it leaves no tombstone', (t) => {
  const dir = tmp(t);
  const computer = { id: 'c1', name: 'Laptop', platform: 'opencode-client', secretHash: 'h'.repeat(43), pairedAt: '2026-01-01T00:00:00Z', scopes: ['read'] };
  writeDevicesFile(dir, { version: 1, devices: [computer as Device], revoked: [] });
  assert.deepEqual(readDevicesFile(dir).devices, [computer]);
  assert.equal(revokeInFile(dir, 'Laptop').ok, true);
  assert.deepEqual(readDevicesFile(dir), { version: 1, devices: [], revoked: [] });
  for (const bad of [
    { ...computer, secretHash: undefined },
    { ...computer, publicKey: 'k'.repeat(43) },
  ]) {
    writeFileSync(devicesPath(dir), JSON.stringify({ version: 1, devices: [bad], revoked: [] }));
    assert.throws(() => readDevicesFile(dir), /devices\[0\]\.publicKey: expected either publicKey or secretHash/);
  }
});
