/**
 * `attachment.get`: a picture attached to a task, read back a chunk at a time from the prompt the
 * runtime stored (to-relay.ts `toImage`). The runtime has no route for one part, so each read is
 * the session's whole message list, pictures and all; a device asks for a picture chunk after
 * chunk, so the picture it began is kept in memory for a short while. A download's first chunk
 * always reads the runtime (the part must still be there: a revert or a delete removes it); the
 * others come from memory while the picture is kept.
 * @module
 */
import { ATTACHMENT_CHUNK_BYTES, type AttachmentBytes, type ImageType } from '../../shared/protocol/attachments.ts';
import { RelayError } from '../../shared/protocol/errors.ts';
import type { ParamsOf } from '../../shared/protocol/requests.ts';
import { toImage } from '../runtime/to-relay.ts';

export interface PicturesOptions {
  /** A session's messages as the runtime stores them. */
  messages(sessionId: string): Promise<unknown>;
  /** Bytes of pictures kept at most (default 32 MiB: three of the largest). */
  keepBytes?: number;
  /** How long a picture is kept after its last chunk was asked for (default 60 s). */
  keepMs?: number;
  now?: () => number;
}

export interface Pictures {
  chunk(request: ParamsOf<'attachment.get'>): Promise<AttachmentBytes>;
}

interface Kept {
  mime: ImageType;
  bytes: Buffer;
  at: number;
}

export function createPictures(opts: PicturesOptions): Pictures {
  const keepBytes = opts.keepBytes ?? 32 * 1024 * 1024;
  const keepMs = opts.keepMs ?? 60_000;
  const now = opts.now ?? Date.now;
  /** Least recently asked first. */
  const kept = new Map<string, Kept>();

  const trim = (at: number) => {
    let total = 0;
    for (const [key, picture] of kept) {
      if (at - picture.at > keepMs) kept.delete(key);
      else total += picture.bytes.length;
    }
    for (const [key, picture] of kept) {
      if (total <= keepBytes) break;
      kept.delete(key);
      total -= picture.bytes.length;
    }
  };

  return {
    async chunk({ sessionId, messageId, partId, offset }) {
      const key = [sessionId, messageId, partId].join('\u0000');
      const at = now();
      trim(at);
      const known = offset === 0 ? undefined : kept.get(key);
      const picture = known ?? { ...toImage(await opts.messages(sessionId), messageId, partId), at };
      kept.delete(key);
      kept.set(key, { ...picture, at });
      trim(at);
      const size = picture.bytes.length;
      if (offset > size) throw new RelayError('request.unknown', `offset ${offset} is past the end of the ${size}-byte picture`);
      return { mime: picture.mime, size, data: picture.bytes.subarray(offset, offset + ATTACHMENT_CHUNK_BYTES).toString('base64url') };
    },
  };
}
