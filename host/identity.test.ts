import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from './log.ts';
import { loadOrCreateIdentity } from './identity.ts';

function tmp(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'owr-id-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test('creates a private key file in a private directory, then loads the same identity', (t) => {
  const dataDir = join(tmp(t), 'data');
  const a = loadOrCreateIdentity(dataDir, silentLogger);
  assert.equal(statSync(dataDir).mode & 0o777, 0o700);
  assert.equal(statSync(join(dataDir, 'host-key.json')).mode & 0o777, 0o600);
  assert.match(a.hostId, /^[0-9A-HJKMNP-TV-Z]{16}$/);
  const b = loadOrCreateIdentity(dataDir, silentLogger);
  assert.deepEqual(b.publicKey, a.publicKey);
  assert.equal(b.hostId, a.hostId);
});

test('refuses a key file others can read', (t) => {
  const dir = tmp(t);
  loadOrCreateIdentity(dir, silentLogger);
  chmodSync(join(dir, 'host-key.json'), 0o644);
  assert.throws(() => loadOrCreateIdentity(dir, silentLogger), /can be read by other users \(mode 0644\).*chmod 600/);
});

test('refuses a damaged key file instead of replacing it', (t) => {
  const dir = tmp(t);
  const path = join(dir, 'host-key.json');
  loadOrCreateIdentity(dir, silentLogger);
  const good = JSON.parse(readFileSync(path, 'utf8'));
  const write = (v: string) => writeFileSync(path, v, { mode: 0o600 });
  write('{');
  assert.throws(() => loadOrCreateIdentity(dir, silentLogger), /host-key\.json is damaged .*move it away/);
  write(JSON.stringify({ ...good, publicKey: good.publicKey.replace(/^./, (c: string) => (c === 'A' ? 'B' : 'A')) }));
  assert.throws(() => loadOrCreateIdentity(dir, silentLogger), /does not belong to secretKey/);
  write(JSON.stringify({ ...good, secretKey: 'short' }));
  assert.throws(() => loadOrCreateIdentity(dir, silentLogger), /damaged/);
  assert.equal(readFileSync(path, 'utf8').includes('short'), true, 'the damaged file is left for the person to inspect');
});
