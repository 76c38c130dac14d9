/**
 * Unified diff text → typed lines for display. Headers (`Index:`, `===`, `---`/`+++`) are
 * dropped: the file name is shown separately.
 * @module
 */

export type DiffLineKind = 'add' | 'del' | 'hunk' | 'ctx';

export interface DiffLine {
  kind: DiffLineKind;
  text: string;
}

export function parseDiff(diff: string): DiffLine[] {
  const out: DiffLine[] = [];
  for (const line of diff.replace(/\r\n?/g, '\n').split('\n')) {
    if (/^(Index: |={3,}|--- |\+\+\+ |diff --git |\\ No newline)/.test(line)) continue;
    if (line.startsWith('@@')) out.push({ kind: 'hunk', text: line });
    else if (line.startsWith('+')) out.push({ kind: 'add', text: line.slice(1) });
    else if (line.startsWith('-')) out.push({ kind: 'del', text: line.slice(1) });
    else out.push({ kind: 'ctx', text: line.startsWith(' ') ? line.slice(1) : line });
  }
  while (out.length && out.at(-1)!.kind === 'ctx' && out.at(-1)!.text === '') out.pop();
  return out;
}

/** A new file's content as a diff that adds every line (the write tool reports no diff). */
export function additionDiff(content: string): DiffLine[] {
  const lines = content.replace(/\n$/, '').split('\n');
  return lines.map((text) => ({ kind: 'add', text }));
}

export function diffStats(lines: DiffLine[]): { additions: number; deletions: number } {
  let additions = 0;
  let deletions = 0;
  for (const l of lines) {
    if (l.kind === 'add') additions++;
    else if (l.kind === 'del') deletions++;
  }
  return { additions, deletions };
}
