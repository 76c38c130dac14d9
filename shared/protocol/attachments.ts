/**
 * Attachments: files a device sends with a task (docs/protocol.md, "Attachments"). A file goes to
 * the host in chunks (`attachment.put`), each a request of its own, so one file never needs a
 * message larger than the channel takes and progress can be shown; then `task.submit` names it by
 * id. Every chunk repeats the file's name, type, size and SHA-256, so the host needs no separate
 * "begin" step and a chunk sent again (after a lost answer or a reconnect) changes nothing. The
 * host answers how many bytes it holds: the device goes on from there, which also resumes an upload
 * cut short. An empty chunk only asks that.
 * @module
 */
import { ProtocolError, bool, int, list, obj, oneOf, str, type Obj } from './guard.ts';

/** The largest file a device may attach (after an image was made smaller on the device). */
export const ATTACHMENT_MAX_BYTES = 10 * 1024 * 1024;
/** Raw bytes in one chunk: as base64url about 350 KB, well under the channel's 4 MiB message limit. */
export const ATTACHMENT_CHUNK_BYTES = 256 * 1024;
/** Files one task may carry. */
export const ATTACHMENTS_PER_TASK = 10;
/** Images are made smaller on the device until their longest side is at most this. */
export const IMAGE_MAX_SIDE = 2048;

const ATTACHMENT_ID = /^[A-Za-z0-9_-]{1,128}$/;
const MIME = /^[a-z0-9][a-z0-9!#$&^_.+-]{0,99}\/[a-z0-9][a-z0-9!#$&^_.+-]{0,99}$/;
const SHA256 = /^[0-9a-f]{64}$/;
const BASE64URL = /^[A-Za-z0-9_-]*$/;

export interface AttachmentChunk {
  /** Made by the device; the host keeps each device's ids apart. */
  attachmentId: string;
  /** The file's name, for the model and for people. */
  name: string;
  /** Its media type, lower case (`image/png`, `application/pdf`). */
  mime: string;
  /** The whole file's size in bytes. */
  size: number;
  /** The whole file's SHA-256, lower-case hex: the host checks the assembled file against it. */
  sha256: string;
  /** Where this chunk starts in the file. */
  offset: number;
  /** The chunk's bytes, base64url without padding; empty: only asks how much the host holds. */
  data: string;
}

export interface AttachmentReceived {
  /** Bytes the host holds of the file: the next chunk starts here. */
  received: number;
  /** The whole file arrived and matched its SHA-256: a task may name it. */
  complete: boolean;
}

function attachmentId(o: Obj, key: string, path: string): string {
  const v = str(o, key, path, { min: 1, max: 128 });
  if (!ATTACHMENT_ID.test(v)) throw new ProtocolError(`${path}.${key}`, 'attachment ids are letters, digits, "_" and "-"');
  return v;
}

/** A task's `attachments`: ids, each once. */
export function parseAttachmentIds(o: Obj, path: string): string[] {
  const ids = list(o, 'attachments', path, (v, at) => attachmentId({ v }, 'v', at), ATTACHMENTS_PER_TASK);
  if (new Set(ids).size !== ids.length) throw new ProtocolError(`${path}.attachments`, 'names a file twice');
  return ids;
}

export function parseAttachmentChunk(o: Obj, path: string): AttachmentChunk {
  const mime = str(o, 'mime', path, { min: 3, max: 201 });
  if (!MIME.test(mime)) throw new ProtocolError(`${path}.mime`, 'a media type in lower case, such as image/png');
  const sha256 = str(o, 'sha256', path, { min: 64, max: 64 });
  if (!SHA256.test(sha256)) throw new ProtocolError(`${path}.sha256`, 'the SHA-256 of the file in lower-case hex');
  const size = int(o, 'size', path, { min: 1, max: ATTACHMENT_MAX_BYTES });
  const data = str(o, 'data', path, { max: Math.ceil((ATTACHMENT_CHUNK_BYTES * 4) / 3) });
  if (!BASE64URL.test(data)) throw new ProtocolError(`${path}.data`, 'base64url without padding');
  return {
    attachmentId: attachmentId(o, 'attachmentId', path),
    name: str(o, 'name', path, { min: 1, max: 255 }),
    mime,
    size,
    sha256,
    offset: int(o, 'offset', path, { min: 0, max: size }),
    data,
  };
}

export function parseAttachmentReceived(v: unknown, path: string): AttachmentReceived {
  const o = obj(v, path);
  return { received: int(o, 'received', path, { min: 0, max: ATTACHMENT_MAX_BYTES }), complete: bool(o, 'complete', path) };
}

/**
 * Pictures `attachment.get` returns: those a browser shows in an <img> and nothing more (no SVG,
 * which can carry script).
 */
export const IMAGE_TYPES = ['image/png', 'image/jpeg', 'image/webp', 'image/gif'] as const;
export type ImageType = (typeof IMAGE_TYPES)[number];

export function isImageType(mime: string): mime is ImageType {
  return (IMAGE_TYPES as readonly string[]).includes(mime);
}

/**
 * A picture sent with a task, read back from the host (`attachment.get`), one chunk at a time
 * like `attachment.put` sends it: ask from `offset` 0, then from the end of what arrived, until
 * `size` bytes did.
 */
export interface AttachmentBytes {
  mime: ImageType;
  /** The whole file's size in bytes. */
  size: number;
  /** At most ATTACHMENT_CHUNK_BYTES from the asked offset, base64url without padding. */
  data: string;
}

export function parseAttachmentBytes(v: unknown, path: string): AttachmentBytes {
  const o = obj(v, path);
  const data = str(o, 'data', path, { max: Math.ceil((ATTACHMENT_CHUNK_BYTES * 4) / 3) });
  if (!BASE64URL.test(data)) throw new ProtocolError(`${path}.data`, 'base64url without padding');
  return { mime: oneOf(o, 'mime', path, IMAGE_TYPES), size: int(o, 'size', path, { min: 1, max: ATTACHMENT_MAX_BYTES }), data };
}
