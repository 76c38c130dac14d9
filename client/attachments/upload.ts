/**
 * Sends one attached file to the host in chunks (`attachment.put`, shared/protocol/attachments.ts):
 * first asks how much the host already holds (an upload cut short goes on from there; a file sent
 * before is not sent again), then each chunk from that point, reporting progress.
 * @module
 */
import { ATTACHMENT_CHUNK_BYTES, type AttachmentChunk, type AttachmentReceived } from '../../shared/protocol/attachments.ts';
import { toBase64url } from '../../shared/encoding.ts';
import type { OutboxAttachment } from '../storage/db.ts';

export async function uploadAttachment(file: OutboxAttachment, put: (chunk: AttachmentChunk) => Promise<AttachmentReceived>, progress: (received: number) => void): Promise<void> {
  const whole = { attachmentId: file.id, name: file.name, mime: file.mime, size: file.size, sha256: file.sha256 };
  let at = await put({ ...whole, offset: 0, data: '' });
  progress(at.received);
  while (!at.complete) {
    const from = at.received;
    const bytes = new Uint8Array(await file.blob.slice(from, from + ATTACHMENT_CHUNK_BYTES).arrayBuffer());
    if (bytes.length === 0) throw new Error(`${file.name} changed on this phone since it was attached; attach it again.`);
    at = await put({ ...whole, offset: from, data: toBase64url(bytes) });
    if (!at.complete && at.received <= from) throw new Error(`Your computer did not take ${file.name}; try again.`);
    progress(at.received);
  }
}
