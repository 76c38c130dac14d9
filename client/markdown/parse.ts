/**
 * A small Markdown subset, as coding agents write it: paragraphs, headings, fenced code, lists,
 * block quotes, tables, rules; inline code, strong, emphasis, links and bare URLs. It produces a
 * tree of plain data and never HTML: `render.ts` turns the tree into DOM nodes with
 * `textContent`, so text from the agent can never become markup or script.
 * @module
 */

export type Inline =
  | { t: 'text'; v: string }
  | { t: 'code'; v: string }
  | { t: 'strong'; c: Inline[] }
  | { t: 'em'; c: Inline[] }
  | { t: 'link'; href: string; c: Inline[] }
  | { t: 'br' };

export interface ListItem {
  /** Nesting level, 0 for the outermost items. */
  depth: number;
  c: Inline[];
}

export type Block =
  | { t: 'p'; c: Inline[] }
  | { t: 'h'; level: number; c: Inline[] }
  /** `open`: the closing fence has not arrived (yet). */
  | { t: 'code'; lang: string; v: string; open: boolean }
  | { t: 'list'; ordered: boolean; start: number; items: ListItem[] }
  | { t: 'quote'; c: Block[] }
  | { t: 'table'; head: Inline[][]; rows: Inline[][][] }
  | { t: 'hr' };

const FENCE = /^ {0,3}(`{3,}|~{3,})\s*([^\s`]*)/;
const HEADING = /^ {0,3}(#{1,6})(?:\s+(.*?))?\s*#*\s*$/;
const RULE = /^ {0,3}([-*_])(?:\s*\1){2,}\s*$/;
const QUOTE = /^ {0,3}> ?(.*)$/;
const ITEM = /^(\s*)([-*+]|(\d{1,9})[.)])\s+(.*)$/;
const TABLE_ROW = /^\s*\|.*\|\s*$/;
const TABLE_RULE = /^\s*\|?\s*:?-+:?\s*(\|\s*:?-+:?\s*)*\|?\s*$/;

export function isFence(line: string): RegExpExecArray | null {
  return FENCE.exec(line);
}

/** Does `line` close a fence opened by `open` (same character, at least as long)? */
export function closesFence(line: string, open: string): boolean {
  const m = /^ {0,3}(`{3,}|~{3,})\s*$/.exec(line);
  return m !== null && m[1]![0] === open[0] && m[1]!.length >= open.length;
}

const blank = (line: string) => line.trim() === '';

/** Does this line begin a block of its own, ending a paragraph before it? */
function startsBlock(line: string): boolean {
  return FENCE.test(line) || HEADING.test(line) || RULE.test(line) || QUOTE.test(line) || ITEM.test(line);
}

export interface ParseOptions {
  /**
   * Which link targets become links (the others stay text), and what they point to. Default
   * `safeHref`: web and mail only, as for the agent's text. The guides built into pages also
   * allow their own anchors and pages (client/docs/page.ts).
   */
  href?: (raw: string) => string | undefined;
}

export function parseBlocks(src: string, opts: ParseOptions = {}): Block[] {
  const inline = (text: string) => parseInline(text, opts);
  const lines = src.replace(/\r\n?/g, '\n').split('\n');
  const out: Block[] = [];
  let i = 0;
  while (i < lines.length) {
    const line = lines[i]!;
    if (blank(line)) {
      i++;
      continue;
    }
    const fence = FENCE.exec(line);
    if (fence) {
      const body: string[] = [];
      i++;
      let open = true;
      while (i < lines.length) {
        if (closesFence(lines[i]!, fence[1]!)) {
          open = false;
          i++;
          break;
        }
        body.push(lines[i]!);
        i++;
      }
      out.push({ t: 'code', lang: fence[2] ?? '', v: body.join('\n'), open });
      continue;
    }
    const heading = HEADING.exec(line);
    if (heading) {
      out.push({ t: 'h', level: heading[1]!.length, c: inline(heading[2] ?? '') });
      i++;
      continue;
    }
    if (RULE.test(line)) {
      out.push({ t: 'hr' });
      i++;
      continue;
    }
    if (QUOTE.test(line)) {
      const inner: string[] = [];
      while (i < lines.length && !blank(lines[i]!)) {
        const q = QUOTE.exec(lines[i]!);
        inner.push(q ? q[1]! : lines[i]!);
        i++;
      }
      out.push({ t: 'quote', c: parseBlocks(inner.join('\n'), opts) });
      continue;
    }
    const item = ITEM.exec(line);
    if (item) {
      const ordered = item[3] !== undefined;
      const start = ordered ? Number(item[3]) : 1;
      const baseIndent = item[1]!.length;
      const items: { depth: number; text: string[] }[] = [];
      while (i < lines.length && !blank(lines[i]!)) {
        const m = ITEM.exec(lines[i]!);
        if (m && m[1]!.length <= baseIndent && (m[3] !== undefined) !== ordered) break; // another kind of list
        if (m) {
          items.push({ depth: Math.max(0, Math.floor((m[1]!.length - baseIndent) / 2)), text: [m[4]!] });
        } else if (FENCE.test(lines[i]!) || HEADING.test(lines[i]!) || QUOTE.test(lines[i]!) || RULE.test(lines[i]!)) {
          break;
        } else {
          items.at(-1)!.text.push(lines[i]!.trim()); // a wrapped line continues the item
        }
        i++;
      }
      out.push({ t: 'list', ordered, start, items: items.map((it) => ({ depth: Math.min(it.depth, 4), c: inline(it.text.join('\n')) })) });
      continue;
    }
    if (TABLE_ROW.test(line) && i + 1 < lines.length && TABLE_RULE.test(lines[i + 1]!) && lines[i + 1]!.includes('-')) {
      const head = splitRow(line).map(inline);
      i += 2;
      const rows: Inline[][][] = [];
      while (i < lines.length && TABLE_ROW.test(lines[i]!)) {
        rows.push(splitRow(lines[i]!).map(inline));
        i++;
      }
      out.push({ t: 'table', head, rows });
      continue;
    }
    const para: string[] = [line];
    i++;
    while (i < lines.length && !blank(lines[i]!) && !startsBlock(lines[i]!)) para.push(lines[i++]!);
    out.push({ t: 'p', c: inline(para.join('\n')) });
  }
  return out;
}

function splitRow(line: string): string[] {
  return line
    .trim()
    .replace(/^\|/, '')
    .replace(/\|$/, '')
    .split(/(?<!\\)\|/)
    .map((cell) => cell.trim().replace(/\\\|/g, '|'));
}

const ESCAPABLE = /[\\`*_[\]()#+\-.!|>~]/;
const URL_START = /https?:\/\/[^\s<>()]+[^\s<>().,;:!?'"]/y;

/** Links that may be followed: web and mail only, never `javascript:` or `data:`. */
export function safeHref(href: string): string | undefined {
  const trimmed = href.trim();
  return /^(https?:\/\/|mailto:)/i.test(trimmed) && !/[\s<>"]/.test(trimmed) ? trimmed : undefined;
}

export function parseInline(src: string, opts: ParseOptions = {}): Inline[] {
  const allow = opts.href ?? safeHref;
  const out: Inline[] = [];
  let text = '';
  const flush = () => {
    if (text) out.push({ t: 'text', v: text });
    text = '';
  };
  let i = 0;
  while (i < src.length) {
    const ch = src[i]!;
    if (ch === '\\' && i + 1 < src.length && ESCAPABLE.test(src[i + 1]!)) {
      text += src[i + 1];
      i += 2;
      continue;
    }
    if (ch === '\n') {
      flush();
      out.push({ t: 'br' });
      i++;
      continue;
    }
    if (ch === '`') {
      let run = 1;
      while (src[i + run] === '`') run++;
      const fence = '`'.repeat(run);
      const end = src.indexOf(fence, i + run);
      if (end > 0) {
        flush();
        const v = src.slice(i + run, end);
        out.push({ t: 'code', v: v.length > 2 && v.startsWith(' ') && v.endsWith(' ') ? v.slice(1, -1) : v });
        i = end + run;
        continue;
      }
      text += fence;
      i += run;
      continue;
    }
    if ((ch === '*' || ch === '_') && src[i + 1] === ch) {
      const end = src.indexOf(ch + ch, i + 2);
      if (end > i + 2 && !/\s/.test(src[i + 2]!)) {
        flush();
        out.push({ t: 'strong', c: parseInline(src.slice(i + 2, end), opts) });
        i = end + 2;
        continue;
      }
    } else if (ch === '*' || ch === '_') {
      // `_` only at word edges, so snake_case_names stay as they are.
      const leftOk = ch === '*' || i === 0 || !/\w/.test(src[i - 1]!);
      const end = findEmphasisEnd(src, i + 1, ch);
      if (leftOk && end > i + 1 && !/\s/.test(src[i + 1]!)) {
        flush();
        out.push({ t: 'em', c: parseInline(src.slice(i + 1, end), opts) });
        i = end + 1;
        continue;
      }
    }
    if (ch === '[') {
      const close = src.indexOf('](', i + 1);
      const end = close > 0 ? src.indexOf(')', close + 2) : -1;
      const href = end > 0 ? allow(src.slice(close + 2, end)) : undefined;
      if (href && !src.slice(i + 1, close).includes('\n')) {
        flush();
        out.push({ t: 'link', href, c: parseInline(src.slice(i + 1, close), opts) });
        i = end + 1;
        continue;
      }
    }
    if (ch === 'h' && (i === 0 || !/\w/.test(src[i - 1]!))) {
      URL_START.lastIndex = i;
      const m = URL_START.exec(src);
      if (m) {
        flush();
        out.push({ t: 'link', href: m[0], c: [{ t: 'text', v: m[0] }] });
        i += m[0].length;
        continue;
      }
    }
    text += ch;
    i++;
  }
  flush();
  return out;
}

function findEmphasisEnd(src: string, from: number, ch: string): number {
  for (let j = from; j < src.length; j++) {
    if (src[j] === '\n' && src[j + 1] === '\n') return -1;
    if (src[j] !== ch || /\s/.test(src[j - 1]!)) continue;
    if (src[j + 1] === ch) {
      j++; // part of a strong run inside
      continue;
    }
    if (ch === '_' && j + 1 < src.length && /\w/.test(src[j + 1]!)) continue;
    return j;
  }
  return -1;
}
