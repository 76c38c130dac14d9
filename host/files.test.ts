import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readFileIfExists, writeFileAtomic } from './files.ts';

test('an atomic write replaces the file whole, with exactly its mode, and leaves no temp file', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'files-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'a.json');
  writeFileSync(path, 'old', { mode: 0o666 });
  writeFileAtomic(path, 'new', { mode: 0o600 });
  assert.equal(readFileSync(path, 'utf8'), 'new');
  if (process.platform !== 'win32') assert.equal(statSync(path).mode & 0o777, 0o600);
  assert.deepEqual(readdirSync(dir), ['a.json']);
});

test('a failed atomic write removes its temp file and leaves the old file', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'files-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  // A directory cannot be replaced by a file: the rename fails.
  const path = join(dir, 'taken');
  mkdirSync(path);
  assert.throws(() => writeFileAtomic(path, 'new', { mode: 0o600 }));
  assert.deepEqual(readdirSync(dir), ['taken']);
  assert.ok(statSync(path).isDirectory());
});

test('reading a missing file gives undefined; other failures are thrown', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'files-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  assert.equal(readFileIfExists(join(dir, 'none')), undefined);
  assert.throws(() => readFileIfExists(dir), /EISDIR/);
});
