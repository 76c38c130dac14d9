/**
 * Pictures this phone sent in this visit, so the transcript shows a thumbnail of an attached
 * image at once: the transcript carries a file part's name and size, not its bytes, which other
 * views ask of the host (host-images.ts) when they scroll into view. Matched
 * by the prompt's message id and the file's name (not its size: the runtime may store an image
 * re-encoded); the newest few are kept, in memory only.
 * @module
 */
import { createSignal } from 'solid-js';
import type { OutboxAttachment } from '../storage/db.ts';

const KEEP = 20;
const sent = new Map<string, Blob>();
/** Bumped on every change: the prompt's file part may be shown before the host's answer arrives. */
const [version, setVersion] = createSignal(0);
const keyOf = (messageId: string, name: string) => `${messageId}\u0000${name}`;

/** Remembers the images of a task the host accepted, whose prompt is message `messageId`. */
export function rememberSent(messageId: string, files: readonly OutboxAttachment[]): void {
  for (const f of files) {
    if (!f.mime.startsWith('image/')) continue;
    sent.delete(keyOf(messageId, f.name));
    sent.set(keyOf(messageId, f.name), f.blob);
  }
  for (const key of sent.keys()) {
    if (sent.size <= KEEP) break;
    sent.delete(key);
  }
  setVersion(version() + 1);
}

/** Reactive: read in a computation, it is read again once the picture is remembered. */
export function sentImage(messageId: string, name: string): Blob | undefined {
  version();
  return sent.get(keyOf(messageId, name));
}
