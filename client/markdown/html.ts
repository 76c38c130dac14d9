/**
 * Markdown (as marked parses it, GitHub-flavoured, like the conversation: render.ts) to an HTML
 * string, for the guides the build turns into static pages (client/docs/page.ts). Every piece of
 * text is escaped and raw HTML is shown as text; headings get GitHub's ids (`### pair.expired` →
 * `#pairexpired`), so the links in the docs and in the app agree; a line break inside a paragraph
 * is soft, as in the hard-wrapped source files.
 * @module
 */
import { lexer, type Token, type Tokens } from 'marked';
import { safeHref } from './safe-href.ts';

export interface HtmlDocument {
  /** The text of the first level-1 heading ('' without one). */
  title: string;
  html: string;
  /** Every heading's id, in document order. */
  ids: string[];
}

export interface HtmlOptions {
  /**
   * Which link targets become links (the others stay text), and what they point to. Default
   * `safeHref`: web and mail only. The guides also allow their own anchors and pages.
   */
  href?: (raw: string) => string | undefined;
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

function plainText(tokens: readonly Token[] | undefined): string {
  return (tokens ?? []).map((t) => ('tokens' in t && t.tokens ? plainText(t.tokens) : t.type === 'br' ? ' ' : ((t as Tokens.Generic).text ?? ''))).join('');
}

function inlines(tokens: readonly Token[] | undefined, allow: NonNullable<HtmlOptions['href']>): string {
  return (tokens ?? [])
    .map((t): string => {
      const tok = t as Tokens.Generic;
      switch (t.type) {
        case 'text':
          return tok.tokens ? inlines(tok.tokens, allow) : escapeHtml(tok.text as string);
        case 'escape':
          return escapeHtml(tok.text as string);
        case 'codespan':
          return `<code>${escapeHtml(tok.text as string)}</code>`;
        case 'strong':
        case 'em':
        case 'del':
          return `<${t.type}>${inlines(tok.tokens, allow)}</${t.type}>`;
        case 'br':
          return '\n';
        case 'link': {
          const href = allow(tok.href as string);
          // A refused link stays as written, so a broken one is seen rather than silently dropped.
          if (!href) return escapeHtml(t.raw);
          const away = /^https?:/i.test(href) ? ' rel="noreferrer"' : '';
          return `<a href="${escapeHtml(href)}"${away}>${inlines(tok.tokens, allow)}</a>`;
        }
        default:
          // Raw HTML, images (nothing is fetched) and anything newer: shown as written.
          return escapeHtml(t.raw);
      }
    })
    .join('');
}

export function markdownToHtml(src: string, opts: HtmlOptions = {}): HtmlDocument {
  const allow = opts.href ?? safeHref;
  const ids: string[] = [];
  const seen = new Map<string, number>();
  let title = '';
  const uniqueId = (text: string) => {
    const base = headingId(text);
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    return n ? `${base}-${n}` : base;
  };

  /** `tight`: a tight list's paragraphs are bare text, as GitHub shows them. */
  const blocks = (tokens: readonly Token[], tight = false): string[] =>
    tokens.flatMap((t): string[] => {
      switch (t.type) {
        case 'space':
        case 'def':
        case 'checkbox':
          return [];
        case 'paragraph':
          return [tight ? inlines(t.tokens, allow) : `<p>${inlines(t.tokens, allow)}</p>`];
        case 'text':
          return [inlines((t as Tokens.Text).tokens ?? [t], allow)];
        case 'heading': {
          const text = plainText(t.tokens);
          const id = uniqueId(text);
          ids.push(id);
          if (t.depth === 1 && !title) title = text.trim();
          return [`<h${t.depth} id="${escapeHtml(id)}">${inlines(t.tokens, allow)}</h${t.depth}>`];
        }
        case 'hr':
          return ['<hr>'];
        case 'blockquote':
          return [`<blockquote>${blocks((t as Tokens.Blockquote).tokens).join('\n')}</blockquote>`];
        case 'code':
          // Scrollable regions must be reachable by keyboard.
          return [`<pre tabindex="0"><code>${escapeHtml(t.text)}</code></pre>`];
        case 'list': {
          const list = t as Tokens.List;
          const tag = list.ordered ? 'ol' : 'ul';
          const start = list.ordered && typeof list.start === 'number' && list.start !== 1 ? ` start="${list.start}"` : '';
          const items = list.items.map((item) => {
            const box = item.task ? `<input type="checkbox" disabled${item.checked ? ' checked' : ''}> ` : '';
            return `<li>${box}${blocks(item.tokens, !item.loose).join('')}</li>`;
          });
          return [`<${tag}${start}>\n${items.join('\n')}\n</${tag}>`];
        }
        case 'table': {
          const table = t as Tokens.Table;
          const row = (cells: Tokens.TableCell[], tag: 'th' | 'td') => `<tr>${cells.map((c) => `<${tag}>${inlines(c.tokens, allow)}</${tag}>`).join('')}</tr>`;
          return [`<div class="table" tabindex="0"><table><thead>${row(table.header, 'th')}</thead><tbody>${table.rows.map((r) => row(r, 'td')).join('')}</tbody></table></div>`];
        }
        default:
          // Raw HTML blocks and anything newer: shown as written.
          return [`<p>${escapeHtml(t.raw.trim())}</p>`];
      }
    });

  const html = blocks(lexer(src, { gfm: true })).join('\n');
  return { title, html, ids };
}
