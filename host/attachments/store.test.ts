import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RelayError } from '../../shared/protocol/errors.ts';
import { silentLogger } from '../log.ts';
import { openAttachmentStore } from './store.ts';

const chunk = (bytes: Buffer, over: Partial<{ attachmentId: string; sha256: string }> = {}) => ({
  attachmentId: 'att_1',
  name: 'a.bin',
  mime: 'application/octet-stream',
  size: bytes.length,
  sha256: createHash('sha256').update(bytes).digest('hex'),
  offset: 0,
  data: bytes.toString('base64url'),
  ...over,
});
const refused = (pattern: RegExp) => (e: unknown) => e instanceof RelayError && e.code === 'attachment.refused' && pattern.test(e.message);

function open(t: { after(fn: () => void): void }, opts: { maxTotalBytes?: number; now?: () => number } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'owr-attachments-'));
  const store = openAttachmentStore({ dir, log: silentLogger, ...opts });
  t.after(() => (store.close(), rmSync(dir, { recursive: true, force: true })));
  return { store, dir };
}

test('a file that does not match its SHA-256 is refused and deleted', async (t) => {
  const { store, dir } = open(t);
  await assert.rejects(store.put('dev', chunk(Buffer.from('abc'), { sha256: '0'.repeat(64) })), refused(/does not match its SHA-256/));
  assert.deepEqual(readdirSync(dir), []);
  assert.throws(
    () => store.files('dev', ['att_1']),
    (e: unknown) => e instanceof RelayError && e.code === 'request.unknown',
  );
});

test('the same id as another file, or over the storage limit, is refused', async (t) => {
  const { store } = open(t, { maxTotalBytes: 5 });
  assert.deepEqual(await store.put('dev', chunk(Buffer.from('abc'))), { received: 3, complete: true });
  await assert.rejects(store.put('dev', chunk(Buffer.from('xyz'))), refused(/begun as another file/));
  await assert.rejects(store.put('dev', chunk(Buffer.from('xyz'), { attachmentId: 'att_2' })), refused(/limit is 0 MB|holds 0 MB/));
});

test('files expire a day after they were begun', async (t) => {
  let clock = 1_000;
  const { store, dir } = open(t, { now: () => clock });
  await store.put('dev', chunk(Buffer.from('abc')));
  assert.equal(store.files('dev', ['att_1']).length, 1);
  clock += 24 * 60 * 60 * 1000 + 1;
  store.sweep();
  assert.deepEqual(readdirSync(dir), []);
});
