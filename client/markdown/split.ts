/**
 * Finds where streamed Markdown text has settled. A block is final once something after it
 * proves it ended (a blank line, a closing fence, the next fence or heading); only the text
 * after the last final block can still change, so the view re-renders just that tail and
 * appends final blocks once, never touching what it already showed.
 * @module
 */
const HEADING_LINE = /^ {0,3}#{1,6}(\s|$)/;
const FENCE = /^ {0,3}(`{3,}|~{3,})\s*([^\s`]*)/;

function isFence(line: string): RegExpExecArray | null {
  return FENCE.exec(line);
}

/** Does `line` close a fence opened by `open` (same character, at least as long)? */
function closesFence(line: string, open: string): boolean {
  const m = /^ {0,3}(`{3,}|~{3,})\s*$/.exec(line);
  return m !== null && m[1]![0] === open[0] && m[1]!.length >= open.length;
}

export interface Settled {
  /** Sources of the blocks that can no longer change, in order. */
  blocks: string[];
  /** How many characters of the input they (and the blank lines after them) take. */
  consumed: number;
}

/** Splits `text` (which starts at a block boundary) into final blocks and an open tail. */
export function settledBlocks(text: string): Settled {
  const blocks: string[] = [];
  let start = 0;
  let fence: string | undefined;
  let lineStart = 0;
  const push = (end: number) => {
    const src = text.slice(start, end);
    if (src.trim()) blocks.push(src);
  };
  for (;;) {
    const nl = text.indexOf('\n', lineStart);
    if (nl < 0) break; // the last line is still being written
    const line = text.slice(lineStart, nl);
    const next = nl + 1;
    if (fence !== undefined) {
      if (closesFence(line, fence)) {
        push(next);
        start = next;
        fence = undefined;
      }
    } else if (line.trim() === '') {
      push(lineStart);
      start = next;
    } else {
      const open = isFence(line);
      if (open) {
        push(lineStart);
        start = lineStart;
        fence = open[1]!;
      } else if (HEADING_LINE.test(line)) {
        push(lineStart);
        start = lineStart;
        push(next);
        start = next;
      }
    }
    lineStart = next;
  }
  return { blocks, consumed: start };
}
