/**
 * What a session is called on the phone. OpenCode names a new session `New session - <ISO time>`
 * until its title request answered (and for good when that fails): the phone says the first words
 * of the session's first prompt instead, never a timestamp.
 * @module
 */

/** OpenCode's placeholder titles (`New session - 2026-…`, `Child session - …`). */
const PLACEHOLDER = /^(New|Child) session - \d{4}-\d{2}-\d{2}T[\d:.]+Z$/;
const WORDS = 8;

export function sessionTitle(title: string | undefined, firstPrompt: string | undefined): string {
  if (title && !PLACEHOLDER.test(title)) return title;
  const words = firstPrompt?.trim().split(/\s+/).filter(Boolean) ?? [];
  if (!words.length) return 'New session';
  return words.length > WORDS ? `${words.slice(0, WORDS).join(' ')}…` : words.join(' ');
}
