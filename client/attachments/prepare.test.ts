import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fitted, formatBytes, prepareAttachment } from './prepare.ts';

test('a picture is scaled so its longest side is 2048 px, keeping its shape; one that fits is left alone', () => {
  assert.deepEqual(fitted(4000, 3000), { width: 2048, height: 1536 });
  assert.deepEqual(fitted(3000, 4000), { width: 1536, height: 2048 });
  assert.deepEqual(fitted(10_000, 3), { width: 2048, height: 1 });
  assert.equal(fitted(2048, 1000), undefined);
});

test('a file is refused above 10 MB or empty, saying so; a kept one has its SHA-256 and a safe type', async () => {
  await assert.rejects(prepareAttachment(new File([new Uint8Array(11 * 1024 * 1024)], 'big.zip', { type: 'application/zip' })), /big\.zip is 11\.0 MB; files up to 10\.0 MB/);
  await assert.rejects(prepareAttachment(new File([], 'empty.txt')), /empty\.txt is empty/);
  const ready = await prepareAttachment(new File(['abc'], 'notes.txt', { type: 'Text/Plain' }));
  assert.equal(ready.sha256, 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  assert.equal(ready.mime, 'text/plain');
  assert.match(ready.id, /^att_[0-9a-f]{24}$/);
  assert.equal((await prepareAttachment(new File(['x'], 'odd', { type: 'not a type' }))).mime, 'application/octet-stream');
  assert.equal(formatBytes(1536), '2 KB');
});
