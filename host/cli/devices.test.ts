import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readDevicesFile, updateDevicesFile } from '../devices/store.ts';
import { formatDeviceTable, isDeviceCommand, parseScopes, runDeviceCommand, type DeviceCommand } from './devices.ts';

function setup(t: { after(fn: () => void): void }) {
  const dir = mkdtempSync(join(tmpdir(), 'owr-cli-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const out: string[] = [];
  const err: string[] = [];
  const now = () => new Date('2025-03-01T12:00:00Z');
  const run = (cmd: DeviceCommand, ...args: string[]) => runDeviceCommand(cmd, args, dir, { out: (s) => out.push(s), err: (s) => err.push(s), now });
  return { dir, out, err, run };
}

const device = (id: string, name: string, lastSeen?: string) => ({
  id,
  name,
  platform: 'Android',
  publicKey: Buffer.alloc(32, id.charCodeAt(0)).toString('base64url'),
  pairedAt: '2025-02-01T09:30:00.000Z',
  ...(lastSeen ? { lastSeen } : {}),
  scopes: ['read' as const, 'run' as const],
});

test('devices prints a table, or says how to pair when there is none', (t) => {
  const { dir, out, run } = setup(t);
  assert.equal(run('devices'), 0);
  assert.match(out.join(''), /No paired devices.*scan the QR code/);
  updateDevicesFile(dir, (f) => f.devices.push(device('aa11', 'Pixel', '2025-03-01T11:55:00Z'), device('bb22', 'iPad')));
  out.length = 0;
  assert.equal(run('devices'), 0);
  const lines = out.join('').trimEnd().split('\n');
  assert.match(lines[0]!, /^ID\s+NAME\s+PLATFORM\s+PAIRED\s+LAST SEEN\s+SCOPES\s+WORKSPACES$/);
  assert.match(lines[1]!, /^aa11\s+Pixel\s+Android\s+2025-02-01 09:30\s+5 min ago\s+read,run\s+all$/);
  assert.match(lines[2]!, /^bb22\s+iPad\s+.*never/);
});

test('revoke removes exactly one device and explains none or several', (t) => {
  const { dir, out, err, run } = setup(t);
  updateDevicesFile(dir, (f) => f.devices.push(device('aa11', 'Pixel'), device('aa22', 'Pixel tablet'), device('cc33', 'iPad')));
  assert.equal(run('revoke'), 2);
  assert.match(err.join(''), /Usage: npm start -- revoke/);
  err.length = 0;
  assert.equal(run('revoke', 'aa'), 1);
  assert.match(err.join(''), /"aa" matches 2 devices; name one by its id/);
  err.length = 0;
  assert.equal(run('revoke', 'nothing'), 1);
  assert.match(err.join(''), /No paired device matches "nothing". Known devices: Pixel \(aa11\)/);
  assert.equal(run('revoke', 'Pixel', 'tablet'), 0);
  assert.match(out.join(''), /Removed Pixel tablet \(aa22\)/);
  assert.deepEqual(
    readDevicesFile(dir).devices.map((d) => d.id),
    ['aa11', 'cc33'],
  );
});

test('isDeviceCommand and the table formatter', () => {
  assert.equal(isDeviceCommand('devices'), true);
  assert.equal(isDeviceCommand('pair'), false);
  assert.equal(isDeviceCommand(undefined), false);
  assert.match(formatDeviceTable([device('x', 'y', '2025-02-27T12:00:00Z')], new Date('2025-03-01T12:00:00Z')), /2 d ago/);
});

test('devices scopes and devices workspaces change one device in devices.json', (t) => {
  const { dir, out, err, run } = setup(t);
  updateDevicesFile(dir, (f) => f.devices.push(device('aa11', 'Pixel'), device('bb22', 'iPad')));
  assert.equal(run('device-scopes', 'pixel', 'read,approve'), 0);
  assert.match(out.join(''), /Pixel \(aa11\) may now: read, approve; workspaces: all\. A running host applies this/);
  assert.deepEqual(readDevicesFile(dir).devices[0]!.scopes, ['read', 'approve']);
  assert.equal(run('device-scopes', 'bb', 'none'), 0);
  assert.deepEqual(readDevicesFile(dir).devices[1]!.scopes, []);
  assert.equal(run('device-scopes', 'iPad', 'all'), 0);
  assert.deepEqual(readDevicesFile(dir).devices[1]!.scopes, ['read', 'run', 'approve']);

  assert.equal(run('device-workspaces', 'aa11', dir), 0);
  assert.deepEqual(readDevicesFile(dir).devices[0]!.workspaces, [dir]);
  out.length = 0;
  assert.equal(run('devices'), 0);
  assert.match(out.join(''), new RegExp(`aa11 .*read,approve\\s+${dir}\\n.*bb22 .*read,run,approve\\s+all`));
  assert.equal(run('device-workspaces', 'aa11', 'all'), 0);
  assert.equal(readDevicesFile(dir).devices[0]!.workspaces, undefined);

  assert.equal(run('device-scopes', 'aa11', 'read,write'), 2);
  assert.match(err.join(''), /unknown scope "write": use read, run, approve \(comma-separated\), all or none/);
  err.length = 0;
  assert.equal(run('device-workspaces', 'aa11', '/no/such/dir'), 2);
  assert.match(err.join(''), /\/no\/such\/dir is not an existing directory/);
  err.length = 0;
  assert.equal(run('device-scopes', 'nothing', 'read'), 1);
  assert.match(err.join(''), /No paired device matches "nothing"/);
  assert.equal(run('device-scopes', 'aa11'), 2);
});

test('parseScopes accepts commas or spaces, any case, all and none', () => {
  assert.deepEqual(parseScopes(['run,READ']), ['read', 'run']);
  assert.deepEqual(parseScopes(['read', 'approve']), ['read', 'approve']);
  assert.deepEqual(parseScopes(['all']), ['read', 'run', 'approve']);
  assert.deepEqual(parseScopes(['none']), []);
  assert.match((parseScopes(['none,read']) as { error: string }).error, /unknown scope "none"/);
  assert.match((parseScopes([',']) as { error: string }).error, /\(none given\)/);
});
