import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ATTACHMENT_CHUNK_BYTES } from '../../shared/protocol/attachments.ts';
import { RelayError } from '../../shared/protocol/errors.ts';
import { createPictures } from './pictures.ts';

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
/** A PNG-signed picture of `length` bytes; an odd length, so chunks end mid-way through base64's groups. */
const picture = (length: number, seed = 7) => Buffer.concat([PNG_SIGNATURE, Buffer.from(Array.from({ length: length - 8 }, (_, i) => (i * seed) % 251))]);

/** A session's stored messages holding `pictures` (part id → bytes) in message msg_1, as OpenCode stores a prompt's files. */
function stored(pictures: Record<string, Buffer>) {
  return [
    {
      info: { id: 'msg_1', sessionID: 'ses_1', role: 'user', time: { created: 1 } },
      parts: Object.entries(pictures).map(([id, bytes]) => ({
        id,
        type: 'file',
        mime: 'image/png',
        filename: `${id}.png`,
        url: `data:image/png;base64,${bytes.toString('base64')}`,
      })),
    },
  ];
}

test('a picture comes in chunks of at most 256 KiB from any offset, the same bytes; the runtime is read once per download', async () => {
  const png = picture(2 * ATTACHMENT_CHUNK_BYTES + 1001);
  const reads: string[] = [];
  const pictures = createPictures({ messages: async (sessionId) => (reads.push(sessionId), stored({ prt_1: png })) });
  const ask = (offset: number) => pictures.chunk({ sessionId: 'ses_1', messageId: 'msg_1', partId: 'prt_1', offset });
  const chunks: Buffer[] = [];
  for (let at = 0; at < png.length; ) {
    const chunk = await ask(at);
    assert.deepEqual([chunk.mime, chunk.size], ['image/png', png.length]);
    chunks.push(Buffer.from(chunk.data, 'base64url'));
    at += chunks.at(-1)!.length;
  }
  assert.deepEqual(
    chunks.map((c) => c.length),
    [ATTACHMENT_CHUNK_BYTES, ATTACHMENT_CHUNK_BYTES, 1001],
  );
  assert.ok(Buffer.concat(chunks).equals(png));
  assert.deepEqual(reads, ['ses_1'], 'the later chunks from memory');
  for (const at of [1, 5, png.length - 1]) assert.ok(Buffer.from((await ask(at)).data, 'base64url').equals(png.subarray(at, at + ATTACHMENT_CHUNK_BYTES)), `from ${at}`);
  assert.equal((await ask(png.length)).data, '', 'nothing after the end');
  await assert.rejects(
    ask(png.length + 1),
    (e: unknown) => e instanceof RelayError && e.code === 'request.unknown' && e.message.includes(`past the end of the ${png.length}-byte picture`),
  );
  // A new download reads the runtime again: the part may be gone since (a revert, a delete).
  await ask(0);
  assert.deepEqual(reads, ['ses_1', 'ses_1']);
});

test('a picture that is gone from the session is refused at the start of a download, even while kept', async () => {
  let messages: unknown = stored({ prt_1: picture(100) });
  const pictures = createPictures({ messages: async () => messages });
  await pictures.chunk({ sessionId: 'ses_1', messageId: 'msg_1', partId: 'prt_1', offset: 0 });
  messages = [];
  await assert.rejects(
    pictures.chunk({ sessionId: 'ses_1', messageId: 'msg_1', partId: 'prt_1', offset: 0 }),
    (e: unknown) => e instanceof RelayError && e.code === 'request.unknown',
  );
});

test('pictures are kept for a while and within a budget of bytes, the least recently asked let go first', async () => {
  let clock = 0;
  const reads: string[] = [];
  const all = { prt_a: picture(600), prt_b: picture(600, 11), prt_c: picture(600, 13) };
  const pictures = createPictures({
    messages: async () => (reads.push('read'), stored(all)),
    keepBytes: 1300,
    keepMs: 1000,
    now: () => clock,
  });
  const read = async (partId: string, offset: number) => {
    const before = reads.length;
    const chunk = await pictures.chunk({ sessionId: 'ses_1', messageId: 'msg_1', partId, offset });
    assert.ok(Buffer.from(chunk.data, 'base64url').equals(all[partId as keyof typeof all].subarray(offset)), partId);
    return reads.length > before;
  };
  assert.equal(await read('prt_a', 0), true);
  assert.equal(await read('prt_b', 0), true);
  assert.equal(await read('prt_a', 10), false, 'two fit the budget');
  assert.equal(await read('prt_c', 0), true);
  assert.equal(await read('prt_b', 10), true, 'the least recently asked was let go for the third');
  clock += 1001;
  assert.equal(await read('prt_b', 20), true, 'let go once its time passed');
});
