import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '../log.ts';
import { openDeviceRegistry } from './registry.ts';
import { readDevicesFile, revokeInFile, setAccessInFile } from './store.ts';
import type { Device } from './store.ts';

function setup(t: { after(fn: () => void): void }, seenWriteMs = 60_000) {
  const dir = mkdtempSync(join(tmpdir(), 'owr-registry-'));
  const reg = openDeviceRegistry({ dataDir: dir, log: silentLogger, watchIntervalMs: 20, seenWriteMs });
  t.after(() => {
    reg.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return { dir, reg };
}

const key = (n: number) => new Uint8Array(32).fill(n);

test('add stores the device with default scopes and finds it by key', (t) => {
  const { dir, reg } = setup(t);
  const d = reg.add({ name: 'Phone', platform: 'Android', publicKey: key(1) });
  assert.match(d.id, /^[0-9a-f]{12}$/);
  assert.deepEqual(d.scopes, ['read', 'run', 'approve']);
  assert.equal(reg.byKey(key(1))?.id, d.id);
  assert.equal(reg.byKey(key(2)), undefined);
  assert.equal(readDevicesFile(dir).devices[0]!.publicKey, Buffer.from(key(1)).toString('base64url'));
});

test('revoke removes the device, keeps a tombstone and tells listeners', (t) => {
  const { reg } = setup(t);
  const d = reg.add({ name: 'Phone', platform: 'Android', publicKey: key(1) });
  const removed: Device[] = [];
  reg.onRemoved((x) => removed.push(x));
  assert.equal(reg.revoke(d.id.slice(0, 4)).ok, true);
  assert.deepEqual(
    removed.map((x) => x.id),
    [d.id],
  );
  assert.equal(reg.byKey(key(1)), undefined);
  assert.equal(reg.revokedKey(key(1))?.id, d.id);
  const again = reg.add({ name: 'Phone', platform: 'Android', publicKey: key(1) });
  assert.equal(reg.revokedKey(key(1)), undefined, 'pairing again lifts the removal');
  assert.equal(reg.byKey(key(1))?.id, again.id);
});

test('a removal made by another process (the CLI) reaches the running registry', async (t) => {
  const { dir, reg } = setup(t);
  const d = reg.add({ name: 'Phone', platform: 'Android', publicKey: key(1) });
  const removed = new Promise<Device>((resolve) => reg.onRemoved(resolve));
  assert.equal(revokeInFile(dir, 'Phone').ok, true); // what `npm start -- revoke Phone` does
  assert.equal((await removed).id, d.id);
  assert.equal(reg.revokedKey(key(1))?.id, d.id);
});

test('scope and workspace changes, here or by another process, reach get() and the listeners', async (t) => {
  const { dir, reg } = setup(t);
  const d = reg.add({ name: 'Phone', platform: 'Android', publicKey: key(1) });
  reg.add({ name: 'Tablet', platform: 'Android', publicKey: key(2) });
  const changed: Device[] = [];
  reg.onAccessChanged((x) => changed.push(x));
  assert.equal(reg.setAccess(d.id, { scopes: ['read'] }).ok, true);
  assert.deepEqual(reg.get(d.id)?.scopes, ['read']);
  assert.deepEqual(
    changed.map((x) => [x.id, x.scopes]),
    [[d.id, ['read']]],
  );
  // The file watcher does not keep the process alive on its own.
  const alive = setInterval(() => {}, 1000);
  t.after(() => clearInterval(alive));
  const next = new Promise<Device>((resolve) => reg.onAccessChanged(resolve));
  setAccessInFile(dir, 'Phone', { workspaces: ['/w'] }); // what `npm start -- devices workspaces Phone /w` does
  assert.deepEqual((await next).workspaces, ['/w']);
  assert.deepEqual(reg.get(d.id)?.workspaces, ['/w']);
  assert.equal(changed.length, 2, 'the tablet did not change');
});

test('last-seen writes are batched and never resurrect a device the CLI removed', async (t) => {
  const { dir, reg } = setup(t, 30);
  const a = reg.add({ name: 'A', platform: '', publicKey: key(1) });
  const b = reg.add({ name: 'B', platform: '', publicKey: key(2) });
  revokeInFile(dir, a.id); // on disk, before the registry re-read the file
  reg.seen(a.id);
  reg.seen(b.id);
  await new Promise((r) => setTimeout(r, 200));
  const file = readDevicesFile(dir);
  assert.deepEqual(
    file.devices.map((d) => d.id),
    [b.id],
  );
  assert.ok(file.devices[0]!.lastSeen);
});
