/**
 * Line numbers for a parsed unified diff (client/ui/diff.ts): each hunk header (`@@ -a,b +c,d @@`)
 * restarts the old and new counts; a removed line has only an old number, an added one only a new.
 * @module
 */
import type { DiffLine } from '../../ui/diff.ts';

export interface NumberedLine extends DiffLine {
  old?: number;
  new?: number;
}

const HUNK = /^@@ -(\d+)(?:,\d+)? \+(\d+)(?:,\d+)? @@/;

export function numberLines(lines: readonly DiffLine[]): NumberedLine[] {
  let oldAt = 1;
  let newAt = 1;
  return lines.map((line) => {
    if (line.kind === 'hunk') {
      const m = HUNK.exec(line.text);
      if (m) [oldAt, newAt] = [Number(m[1]), Number(m[2])];
      return { ...line };
    }
    if (line.kind === 'add') return { ...line, new: newAt++ };
    if (line.kind === 'del') return { ...line, old: oldAt++ };
    return { ...line, old: oldAt++, new: newAt++ };
  });
}

/** The rows of a list of `count` rows `rowHeight` tall that a viewport shows, with `overscan` rows either side. */
export function visibleRows(scrollTop: number, viewport: number, rowHeight: number, count: number, overscan = 20): { from: number; to: number } {
  const from = Math.max(0, Math.floor(scrollTop / rowHeight) - overscan);
  const to = Math.min(count, Math.ceil((scrollTop + viewport) / rowHeight) + overscan);
  return { from, to };
}
