/**
 * Pictures attached to tasks, read back from the host (`attachment.get`) to show in the transcript
 * after a reload, on another phone, or for a task sent elsewhere: the transcript carries only a
 * file's name and size. A picture comes in chunks and is kept in memory, the most recently shown
 * first, within a small budget; a load under way is shared by every view asking for it.
 * @module
 */
import { fromBase64url } from '../../shared/encoding.ts';
import type { RequestBody, ResultOf } from '../../shared/protocol/requests.ts';

/** What the host's picture requests need: the app's `relay.request`. */
export type GetChunk = (body: RequestBody<'attachment.get'>) => Promise<ResultOf<'attachment.get'>>;

export interface ImageRef {
  sessionId: string;
  messageId: string;
  partId: string;
}

/** Pictures kept, and their bytes at most (a phone's memory is not the host's). */
const KEEP = 24;
const KEEP_BYTES = 24 * 1024 * 1024;

interface Kept {
  blob: Promise<Blob>;
  /** Known once it arrived. */
  bytes: number;
}

const kept = new Map<string, Kept>();

/** The picture of a transcript's file part, from memory or from the host (`scope`: whose host, so two hosts' ids never mix). */
export function hostImage(get: GetChunk, ref: ImageRef, scope = ''): Promise<Blob> {
  const key = [scope, ref.sessionId, ref.messageId, ref.partId].join('\u0000');
  const known = kept.get(key);
  if (known) {
    // Most recently shown last: the oldest go first.
    kept.delete(key);
    kept.set(key, known);
    return known.blob;
  }
  const entry: Kept = { blob: download(get, ref), bytes: 0 };
  kept.set(key, entry);
  entry.blob.then(
    (blob) => {
      entry.bytes = blob.size;
      trim(key);
    },
    // A failed load is not kept: the next time the picture is shown, it is asked for again.
    () => kept.get(key) === entry && kept.delete(key),
  );
  trim(key);
  return entry.blob;
}

/** Drops the least recently shown pictures beyond the budget, never `keep` (the one just shown). */
function trim(keep: string): void {
  let bytes = [...kept.values()].reduce((sum, k) => sum + k.bytes, 0);
  for (const [key, entry] of kept) {
    if (kept.size <= KEEP && bytes <= KEEP_BYTES) break;
    if (key === keep) continue;
    kept.delete(key);
    bytes -= entry.bytes;
  }
}

async function download(get: GetChunk, ref: ImageRef): Promise<Blob> {
  const chunks: Uint8Array<ArrayBuffer>[] = [];
  let received = 0;
  let size: number;
  let mime: string;
  do {
    const chunk = await get({ t: 'attachment.get', ...ref, offset: received });
    const bytes = fromBase64url(chunk.data, 'data') as Uint8Array<ArrayBuffer>;
    // The host always sends something before the end: nothing would mean asking forever.
    if (bytes.length === 0) throw new Error('the host sent no bytes of the picture');
    chunks.push(bytes);
    received += bytes.length;
    size = chunk.size;
    mime = chunk.mime;
  } while (received < size);
  return new Blob(chunks, { type: mime });
}
