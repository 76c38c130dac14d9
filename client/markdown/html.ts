/**
 * Markdown (as parsed by `parse.ts`) to an HTML string, for the guides the build turns into
 * static pages (client/docs/page.ts). Every piece of text is escaped; headings get GitHub's ids
 * (`### pair.expired` → `#pairexpired`), so the links in the docs and in the app agree; a line
 * break inside a paragraph is soft, as in the hard-wrapped source files.
 * @module
 */
import { parseBlocks, type Block, type Inline, type ParseOptions } from './parse.ts';

export interface HtmlDocument {
  /** The text of the first level-1 heading ('' without one). */
  title: string;
  html: string;
  /** Every heading's id, in document order. */
  ids: string[];
}

const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ENTITIES[c]!);
}

/** GitHub's heading anchor: lower case, punctuation other than `-` and `_` dropped, spaces as `-`. */
export function headingId(text: string): string {
  return text
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

function plainText(list: Inline[]): string {
  return list.map((n) => (n.t === 'text' || n.t === 'code' ? n.v : n.t === 'br' ? ' ' : plainText(n.c))).join('');
}

function inlines(list: Inline[]): string {
  return (
    list
      // biome-ignore lint/suspicious/useIterableCallbackReturn: the switch covers every kind of Inline, which TypeScript checks against the callback's return type.
      .map((n): string => {
        switch (n.t) {
          case 'text':
            return escapeHtml(n.v);
          case 'code':
            return `<code>${escapeHtml(n.v)}</code>`;
          case 'strong':
            return `<strong>${inlines(n.c)}</strong>`;
          case 'em':
            return `<em>${inlines(n.c)}</em>`;
          case 'br':
            return '\n';
          case 'link': {
            const away = /^https?:/i.test(n.href) ? ' rel="noreferrer"' : '';
            return `<a href="${escapeHtml(n.href)}"${away}>${inlines(n.c)}</a>`;
          }
        }
      })
      .join('')
  );
}

/** Real nesting, so the items of an inner list do not count as the outer list's numbers. */
function list(b: Extract<Block, { t: 'list' }>): string {
  const tag = b.ordered ? 'ol' : 'ul';
  const out = [`<${tag}${b.ordered && b.start !== 1 ? ` start="${b.start}"` : ''}>`];
  let depth = 0;
  b.items.forEach((it, i) => {
    const d = i === 0 ? 0 : Math.min(it.depth, depth + 1);
    if (i > 0 && d > depth) out.push('<ul>');
    else if (i > 0) {
      out.push('</li>');
      for (; depth > d; depth--) out.push('</ul></li>');
    }
    depth = d;
    out.push(`<li>${inlines(it.c)}`);
  });
  out.push('</li>');
  for (; depth > 0; depth--) out.push('</ul></li>');
  out.push(`</${tag}>`);
  return out.join('\n');
}

export function markdownToHtml(src: string, opts: ParseOptions = {}): HtmlDocument {
  const ids: string[] = [];
  const seen = new Map<string, number>();
  let title = '';
  const uniqueId = (text: string) => {
    const base = headingId(text);
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    return n ? `${base}-${n}` : base;
  };

  const block = (b: Block): string => {
    switch (b.t) {
      case 'p':
        return `<p>${inlines(b.c)}</p>`;
      case 'h': {
        const text = plainText(b.c);
        const id = uniqueId(text);
        ids.push(id);
        if (b.level === 1 && !title) title = text.trim();
        return `<h${b.level} id="${escapeHtml(id)}">${inlines(b.c)}</h${b.level}>`;
      }
      case 'hr':
        return '<hr>';
      case 'quote':
        return `<blockquote>${b.c.map(block).join('\n')}</blockquote>`;
      case 'code':
        // Scrollable regions must be reachable by keyboard.
        return `<pre tabindex="0"><code>${escapeHtml(b.v)}</code></pre>`;
      case 'list':
        return list(b);
      case 'table': {
        const row = (cells: Inline[][], tag: 'th' | 'td') => `<tr>${cells.map((c) => `<${tag}>${inlines(c)}</${tag}>`).join('')}</tr>`;
        return `<div class="table" tabindex="0"><table><thead>${row(b.head, 'th')}</thead><tbody>${b.rows.map((r) => row(r, 'td')).join('')}</tbody></table></div>`;
      }
    }
  };

  const html = parseBlocks(src, opts).map(block).join('\n');
  return { title, html, ids };
}
