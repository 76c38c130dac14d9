import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ATTACHMENT_CHUNK_BYTES, ATTACHMENT_MAX_BYTES } from '../../shared/protocol/attachments.ts';
import { hostImage, type GetChunk } from './host-images.ts';

/** A host holding `bytes` for every part, answering `attachment.get` as the real one does; records each ask. */
function host(bytes: Uint8Array, asked: string[] = []): GetChunk {
  return async ({ partId, offset }) => {
    asked.push(`${partId}@${offset}`);
    return { mime: 'image/png', size: bytes.length, data: Buffer.from(bytes.subarray(offset, offset + ATTACHMENT_CHUNK_BYTES)).toString('base64url') };
  };
}
const ref = (partId: string) => ({ sessionId: 'ses_1', messageId: 'msg_1', partId });

test('a picture comes in chunks, from where the last one ended, and is whole', async () => {
  const bytes = Uint8Array.from({ length: 2 * ATTACHMENT_CHUNK_BYTES + 10 }, (_, i) => i % 253);
  const asked: string[] = [];
  const blob = await hostImage(host(bytes, asked), ref('prt_whole'), 'chunks');
  assert.deepEqual(asked, ['prt_whole@0', `prt_whole@${ATTACHMENT_CHUNK_BYTES}`, `prt_whole@${2 * ATTACHMENT_CHUNK_BYTES}`]);
  assert.equal(blob.type, 'image/png');
  assert.deepEqual(new Uint8Array(await blob.arrayBuffer()), bytes);
});

test('a picture shown again, or asked for twice at once, is asked of the host once', async () => {
  const asked: string[] = [];
  const get = host(new Uint8Array([1, 2, 3]), asked);
  const [a, b] = await Promise.all([hostImage(get, ref('prt_once'), 'once'), hostImage(get, ref('prt_once'), 'once')]);
  assert.equal(a, b);
  assert.equal(await hostImage(get, ref('prt_once'), 'once'), a);
  assert.deepEqual(asked, ['prt_once@0']);
  // Another host's part of the same ids is another picture.
  await hostImage(get, ref('prt_once'), 'other host');
  assert.deepEqual(asked, ['prt_once@0', 'prt_once@0']);
});

test('a picture that failed is asked for again the next time; a host that sends nothing fails it', async () => {
  let fail = true;
  const ok = host(new Uint8Array([9]));
  const flaky: GetChunk = async (body) => {
    if (fail) throw new Error('offline');
    return ok(body);
  };
  await assert.rejects(hostImage(flaky, ref('prt_flaky'), 'retry'), /offline/);
  fail = false;
  assert.equal((await hostImage(flaky, ref('prt_flaky'), 'retry')).size, 1);
  const empty: GetChunk = async () => ({ mime: 'image/png', size: 5, data: '' });
  await assert.rejects(hostImage(empty, ref('prt_empty'), 'retry'), /sent no bytes/);
});

test('only the most recently shown pictures are kept: a bounded number, and a bounded size', async () => {
  const asked: string[] = [];
  const small = host(new Uint8Array([1]), asked);
  for (let i = 0; i < 30; i++) await hostImage(small, ref(`prt_${i}`), 'count');
  asked.length = 0;
  await hostImage(small, ref('prt_29'), 'count');
  assert.deepEqual(asked, [], 'the newest is kept');
  await hostImage(small, ref('prt_0'), 'count');
  assert.deepEqual(asked, ['prt_0@0'], 'the oldest was let go');

  // Three of the largest pictures do not fit the budget: the least recently shown goes.
  const large = host(new Uint8Array(ATTACHMENT_MAX_BYTES), asked);
  for (const id of ['prt_a', 'prt_b', 'prt_c']) await hostImage(large, ref(id), 'bytes');
  asked.length = 0;
  await hostImage(large, ref('prt_c'), 'bytes');
  await hostImage(large, ref('prt_b'), 'bytes');
  assert.deepEqual(asked, []);
  await hostImage(large, ref('prt_a'), 'bytes');
  assert.equal(asked[0], 'prt_a@0', 'the first was let go');
});
