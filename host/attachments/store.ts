/**
 * Attached files as devices send them (`attachment.put`, shared/protocol/attachments.ts): each
 * assembled in the host's data directory from its chunks, checked against its SHA-256 once whole,
 * and handed to the runtime when a task names it. Each device's ids are its own (the file's name
 * on disk hashes the device id with it), so a device can never name another's file.
 *
 * Bounded: a file is at most 10 MB and all files together at most `maxTotalBytes`; a file is
 * deleted `keepMs` after it was begun, which leaves time to resend a task (the task service
 * resends for 10 minutes, a device for as long as it keeps the task queued on the phone, which
 * uploads it again when the host no longer has it).
 * @module
 */
import { createHash } from 'node:crypto';
import { appendFileSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ATTACHMENT_MAX_BYTES, type AttachmentChunk, type AttachmentReceived } from '../../shared/protocol/attachments.ts';
import { RelayError } from '../../shared/protocol/errors.ts';
import type { Logger } from '../log.ts';

/** A whole file, ready for the runtime. */
export interface AttachmentFile {
  path: string;
  mime: string;
  filename: string;
}

export interface AttachmentStore {
  put(deviceId: string, chunk: AttachmentChunk): Promise<AttachmentReceived>;
  /** The device's complete files with these ids, in order; refuses an unknown or unfinished one. */
  files(deviceId: string, ids: readonly string[]): AttachmentFile[];
  /** Deletes expired files (also done hourly on its own). */
  sweep(): void;
  close(): void;
}

export interface AttachmentStoreOptions {
  dir: string;
  log: Pick<Logger, 'warn'>;
  /** All files together (default 200 MB). */
  maxTotalBytes?: number;
  /** How long a file is kept after it was begun (default 24 hours). */
  keepMs?: number;
  now?: () => number;
}

interface Meta {
  deviceId: string;
  attachmentId: string;
  name: string;
  mime: string;
  size: number;
  sha256: string;
  createdAt: number;
  complete: boolean;
}

const HOUR = 60 * 60 * 1000;

export function openAttachmentStore(opts: AttachmentStoreOptions): AttachmentStore {
  const { dir, log } = opts;
  const maxTotalBytes = opts.maxTotalBytes ?? 200 * 1024 * 1024;
  const keepMs = opts.keepMs ?? 24 * HOUR;
  const now = opts.now ?? Date.now;
  mkdirSync(dir, { recursive: true, mode: 0o700 });

  const metas = new Map<string, Meta>();
  for (const entry of readdirSync(dir)) {
    if (!entry.endsWith('.json')) continue;
    try {
      metas.set(entry.slice(0, -5), JSON.parse(readFileSync(join(dir, entry), 'utf8')) as Meta);
    } catch (err) {
      log.warn('left out an attachment whose record could not be read', { entry, err });
    }
  }

  const keyOf = (deviceId: string, attachmentId: string) => createHash('sha256').update(`${deviceId}\0${attachmentId}`).digest('hex').slice(0, 40);
  const dataPath = (key: string) => join(dir, `${key}.bin`);
  const metaPath = (key: string) => join(dir, `${key}.json`);
  const saveMeta = (key: string, meta: Meta) => {
    writeFileSync(metaPath(key), JSON.stringify(meta), { mode: 0o600 });
    metas.set(key, meta);
  };
  const drop = (key: string) => {
    metas.delete(key);
    rmSync(dataPath(key), { force: true });
    rmSync(metaPath(key), { force: true });
  };
  const held = (key: string): number => {
    try {
      return statSync(dataPath(key)).size;
    } catch {
      return 0;
    }
  };
  const refuse = (message: string): never => {
    throw new RelayError('attachment.refused', message);
  };

  /** One chunk at a time per file: a chunk sent again while the first is written waits for it. */
  const queues = new Map<string, Promise<unknown>>();
  const serial = <T>(key: string, run: () => T): Promise<T> => {
    const next = (queues.get(key) ?? Promise.resolve()).then(run, run);
    const settled = next.catch(() => {});
    queues.set(key, settled);
    void settled.then(() => {
      if (queues.get(key) === settled) queues.delete(key);
    });
    return next;
  };

  const put = (deviceId: string, chunk: AttachmentChunk): AttachmentReceived => {
    const key = keyOf(deviceId, chunk.attachmentId);
    let meta = metas.get(key);
    if (meta && (meta.size !== chunk.size || meta.sha256 !== chunk.sha256 || meta.mime !== chunk.mime || meta.name !== chunk.name)) {
      refuse(`attachment ${chunk.attachmentId} was begun as another file; attach it again under a new id`);
    }
    if (!meta) {
      if (chunk.size > ATTACHMENT_MAX_BYTES) refuse(`the file is larger than ${ATTACHMENT_MAX_BYTES / (1024 * 1024)} MB`);
      let total = 0;
      for (const m of metas.values()) total += m.size;
      if (total + chunk.size > maxTotalBytes) {
        refuse(
          `the host already holds ${Math.round(total / (1024 * 1024))} MB of attached files (its limit is ${Math.round(maxTotalBytes / (1024 * 1024))} MB); try again once earlier ones expired`,
        );
      }
      meta = { deviceId, attachmentId: chunk.attachmentId, name: chunk.name, mime: chunk.mime, size: chunk.size, sha256: chunk.sha256, createdAt: now(), complete: false };
      saveMeta(key, meta);
    }
    if (meta.complete) return { received: meta.size, complete: true };
    const received = held(key);
    // Only the chunk that continues the file is written: any other (a resend, a probe) learns where to go on.
    if (chunk.data === '' || chunk.offset !== received) return { received, complete: false };
    const bytes = Buffer.from(chunk.data, 'base64url');
    if (received + bytes.length > meta.size) refuse(`the chunk at ${chunk.offset} runs past the file's ${meta.size} bytes`);
    appendFileSync(dataPath(key), bytes, { mode: 0o600 });
    const have = received + bytes.length;
    if (have < meta.size) return { received: have, complete: false };
    const sha256 = createHash('sha256')
      .update(readFileSync(dataPath(key)))
      .digest('hex');
    if (sha256 !== meta.sha256) {
      drop(key);
      refuse('the file that arrived does not match its SHA-256; send it again');
    }
    saveMeta(key, { ...meta, complete: true });
    return { received: meta.size, complete: true };
  };

  const sweep = () => {
    const cutoff = now() - keepMs;
    for (const [key, meta] of metas) {
      if (!(meta.createdAt >= cutoff)) drop(key);
    }
  };
  sweep();
  const timer = setInterval(sweep, HOUR);
  timer.unref();

  return {
    put: (deviceId, chunk) => serial(keyOf(deviceId, chunk.attachmentId), () => put(deviceId, chunk)),
    files(deviceId, ids) {
      return ids.map((id) => {
        const key = keyOf(deviceId, id);
        const meta = metas.get(key);
        if (!meta?.complete) throw new RelayError('request.unknown', `attachment ${id} is not on the host (not sent in full, or expired after a day): send it again`);
        return { path: dataPath(key), mime: meta.mime, filename: meta.name };
      });
    },
    sweep,
    close: () => clearInterval(timer),
  };
}
