/**
 * Text that a device or the runtime supplied, made safe to show: in a terminal, a log line (text or
 * JSON, which a person reads with `cat` or `journalctl`) or a page. A device name carrying `\r`,
 * `ESC[2K` or a bidi override could otherwise redraw the host's own lines — e.g. forge the
 * verification code line of the pairing prompt. Every control character (C0, C1, so every
 * ESC/CSI/OSC sequence starts visibly), format character (bidi overrides and isolates, zero-width
 * characters, the BOM), line and paragraph separator and lone surrogate is shown as an escape
 * (`\n`, `\x1b`, `\u202e`), and the text is capped. What remains prints as the characters it is.
 * @module
 */

/** Characters shown escaped: Cc (C0, DEL, C1), Cf (bidi, zero-width, BOM), Zl, Zp, Cs. */
const UNSAFE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}]/gu;

const NAMED: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/** The cap when the caller names none: enough for any name, short enough for one log line. */
export const SAFE_TEXT_MAX = 200;

/**
 * `text` with every unsafe character escaped and at most `max` characters (code points) of the
 * result kept, the cut marked with "…". Anything not a string is converted with String() first.
 */
export function safeText(text: unknown, max: number = SAFE_TEXT_MAX): string {
  const escaped = String(text).replace(UNSAFE, (c) => NAMED[c] ?? escapeCode(c.codePointAt(0)!));
  const chars = Array.from(escaped);
  return chars.length <= max ? escaped : `${chars.slice(0, Math.max(0, max - 1)).join('')}…`;
}

function escapeCode(code: number): string {
  return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
}
