/**
 * A picked file made ready for the outbox: a photo made smaller on the phone (longest side at most
 * 2,048 px, as the model gains nothing from more and the upload costs the person's data plan), its
 * SHA-256 for the host to check the assembled file, and an id the host keeps it under. Limits are
 * the protocol's (shared/protocol/attachments.ts): a file over 10 MB, after resizing, is refused here
 * with a message saying so, before it takes room on the phone.
 * @module
 */
import { ATTACHMENT_MAX_BYTES, IMAGE_MAX_SIDE } from '../../shared/protocol/attachments.ts';
import { toHex } from '../../shared/encoding.ts';
import type { OutboxAttachment } from '../storage/db.ts';

/** Image types a canvas can write back: others (GIF, which may move; SVG; HEIC) are sent as they are. */
const REDRAWN = new Set(['image/jpeg', 'image/png', 'image/webp']);
const MIME = /^[a-z0-9][a-z0-9!#$&^_.+-]{0,99}\/[a-z0-9][a-z0-9!#$&^_.+-]{0,99}$/;

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${Math.round(bytes / 1024)} KB`;
  return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
}

/** The picture scaled so its longest side is at most `max`; undefined when it already fits. */
export function fitted(width: number, height: number, max = IMAGE_MAX_SIDE): { width: number; height: number } | undefined {
  const longest = Math.max(width, height);
  if (longest <= max) return undefined;
  const scale = max / longest;
  return { width: Math.max(1, Math.round(width * scale)), height: Math.max(1, Math.round(height * scale)) };
}

/** Redraws a too-large image at the size that fits, in the same type; the file itself when it fits or cannot be read. */
async function smaller(file: Blob, mime: string): Promise<Blob> {
  if (!REDRAWN.has(mime) || typeof createImageBitmap !== 'function') return file;
  let bitmap: ImageBitmap;
  try {
    bitmap = await createImageBitmap(file);
  } catch {
    return file; // not an image the browser decodes: it goes as it is
  }
  try {
    const size = fitted(bitmap.width, bitmap.height);
    if (!size) return file;
    if (typeof OffscreenCanvas === 'function') {
      const canvas = new OffscreenCanvas(size.width, size.height);
      canvas.getContext('2d')!.drawImage(bitmap, 0, 0, size.width, size.height);
      return await canvas.convertToBlob({ type: mime, quality: 0.9 });
    }
    const canvas = document.createElement('canvas');
    canvas.width = size.width;
    canvas.height = size.height;
    canvas.getContext('2d')!.drawImage(bitmap, 0, 0, size.width, size.height);
    return await new Promise<Blob>((resolve, reject) => canvas.toBlob((b) => (b ? resolve(b) : reject(new Error('The photo could not be made smaller.'))), mime, 0.9));
  } finally {
    bitmap.close();
  }
}

function randomId(): string {
  const random = new Uint8Array(12);
  crypto.getRandomValues(random);
  return `att_${toHex(random)}`;
}

export async function prepareAttachment(file: File): Promise<OutboxAttachment> {
  const type = file.type.toLowerCase();
  const mime = MIME.test(type) ? type : 'application/octet-stream';
  const name = (file.name || 'file').slice(0, 255);
  const blob = type.startsWith('image/') ? await smaller(file, mime) : file;
  if (blob.size === 0) throw new RangeError(`${name} is empty.`);
  if (blob.size > ATTACHMENT_MAX_BYTES) {
    throw new RangeError(`${name} is ${formatBytes(blob.size)}; files up to ${formatBytes(ATTACHMENT_MAX_BYTES)} can be attached.`);
  }
  const digest = await crypto.subtle.digest('SHA-256', await blob.arrayBuffer());
  return { id: randomId(), name, mime, size: blob.size, sha256: toHex(new Uint8Array(digest)), blob };
}
