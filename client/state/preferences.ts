/**
 * Small per-phone preferences, kept in localStorage (read synchronously, so the composer behaves
 * as chosen from its first keystroke).
 * @module
 */
import { createSignal } from 'solid-js';

const ENTER_NEWLINE = 'relay.enter-newline';

function stored(key: string): boolean {
  try {
    return localStorage.getItem(key) === '1';
  } catch {
    return false; // storage blocked: the default
  }
}

const [enterNewline, setEnterNewlineSignal] = createSignal(stored(ENTER_NEWLINE));

/** Enter inserts a new line and only the Send button sends (default: Enter sends, Shift+Enter is a new line). */
export { enterNewline };

export function setEnterNewline(on: boolean): void {
  setEnterNewlineSignal(on);
  try {
    if (on) localStorage.setItem(ENTER_NEWLINE, '1');
    else localStorage.removeItem(ENTER_NEWLINE);
  } catch {
    // Kept for this visit only.
  }
}
