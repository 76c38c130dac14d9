/**
 * The agent's Markdown to DOM nodes, parsed by marked (GitHub-flavoured: tables, task lists,
 * strikethrough, autolinks) and built here node by node: every piece of text becomes a Text node,
 * raw HTML in the text is shown as text, links only ever get the `href`s `safeHref` allowed, and
 * images are links (nothing is fetched). So whatever the agent writes stays inert. Code blocks
 * name their language, have a copy button, and are highlighted once shown (highlight.ts, loaded
 * only then).
 * @module
 */
import { lexer, type Token, type Tokens } from 'marked';
import { safeHref } from './safe-href.ts';
import { settledBlocks } from './split.ts';

function el<K extends keyof HTMLElementTagNameMap>(tag: K, className?: string, children: Node[] = []): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (className) node.className = className;
  node.append(...children);
  return node;
}

const text = (v: string) => document.createTextNode(v);

function link(href: string, children: Node[]): Node[] {
  const safe = safeHref(href);
  // A link that could run script (javascript:, data:) or aim at the app itself stays its text.
  if (!safe) return children;
  const a = el('a', undefined, children);
  a.href = safe;
  a.target = '_blank';
  a.rel = 'noopener noreferrer';
  return [a];
}

function inlines(tokens: readonly Token[] | undefined): Node[] {
  return (tokens ?? []).flatMap((t): Node[] => {
    const tok = t as Tokens.Generic;
    switch (t.type) {
      case 'text':
        return tok.tokens ? inlines(tok.tokens) : [text(tok.text as string)];
      case 'escape':
        return [text(tok.text as string)];
      case 'codespan':
        return [el('code', undefined, [text(tok.text as string)])];
      case 'strong':
        return [el('strong', undefined, inlines(tok.tokens))];
      case 'em':
        return [el('em', undefined, inlines(tok.tokens))];
      case 'del':
        return [el('del', undefined, inlines(tok.tokens))];
      case 'br':
        return [el('br')];
      case 'link':
        return link(tok.href as string, inlines(tok.tokens));
      case 'image':
        return link(tok.href as string, [text((tok.text as string) || (tok.href as string))]);
      case 'checkbox':
        return [];
      default:
        // Raw HTML (`html`) and anything newer: shown as written.
        return [text(tok.raw)];
    }
  });
}

/** A code block: its language named, a copy button, lines that scroll; highlighted once shown. */
function codeBlock(code: string, lang: string | undefined): Node {
  const codeEl = el('code', lang ? `language-${lang}` : undefined, [text(code)]);
  const pre = el('pre', 'md-code', [codeEl]);
  // Scrollable regions must be reachable by keyboard.
  pre.tabIndex = 0;
  if (lang) pre.dataset.lang = lang;
  const copy = el('button', 'md-code__copy', [text('Copy')]);
  copy.type = 'button';
  copy.setAttribute('aria-label', lang ? `Copy ${lang} code` : 'Copy code');
  copy.addEventListener('click', () => {
    navigator.clipboard?.writeText(code).then(
      () => (copy.textContent = 'Copied'),
      () => (copy.textContent = 'Copy failed'),
    );
    setTimeout(() => (copy.textContent = 'Copy'), 2000);
  });
  const head = el('div', 'md-code__head', [el('span', 'md-code__lang', [text(lang || 'code')]), copy]);
  if (lang) highlightWhenShown(codeEl, code, lang);
  return el('div', 'md-codeblock', [head, pre]);
}

function highlightWhenShown(node: HTMLElement, code: string, lang: string): void {
  const run = () =>
    void import('./highlight.ts').then(
      (h) => h.highlightInto(node, code, lang),
      () => {}, // not loaded (offline, old cache): the code stays plain, which is fine
    );
  if (typeof IntersectionObserver === 'undefined') return run();
  const seen = new IntersectionObserver((entries) => {
    if (!entries.some((e) => e.isIntersecting)) return;
    seen.disconnect();
    run();
  });
  seen.observe(node);
}

function listItem(item: Tokens.ListItem): HTMLLIElement {
  const body = blocks(item.tokens, !item.loose);
  if (!item.task) return el('li', undefined, body);
  const box = el('input');
  box.type = 'checkbox';
  box.checked = item.checked === true;
  box.disabled = true;
  return el('li', 'md-task', [box, ...body]);
}

/** `tight`: a tight list's paragraphs are bare text, as GitHub shows them. */
function blocks(tokens: readonly Token[], tight = false): Node[] {
  return tokens.flatMap((t): Node[] => {
    switch (t.type) {
      case 'space':
      case 'def':
      case 'checkbox': // a task item's box: listItem draws it
        return [];
      case 'paragraph':
        return tight ? inlines(t.tokens) : [el('p', undefined, inlines(t.tokens))];
      case 'text':
        return inlines((t as Tokens.Text).tokens ?? [t]);
      case 'heading':
        // Headings inside a message would break the page's outline: styled text, not <h1>.
        return [el('p', `md-h md-h${t.depth}`, [el('strong', undefined, inlines(t.tokens))])];
      case 'hr':
        return [el('hr')];
      case 'blockquote':
        return [el('blockquote', undefined, blocks((t as Tokens.Blockquote).tokens))];
      case 'code':
        return [codeBlock(t.text, t.lang?.split(/\s/)[0] || undefined)];
      case 'list': {
        const list = el(t.ordered ? 'ol' : 'ul', 'md-list', t.items.map(listItem));
        if (t.ordered && typeof t.start === 'number' && t.start !== 1) (list as HTMLOListElement).start = t.start;
        return [list];
      }
      case 'table': {
        const table = t as Tokens.Table;
        const cell = (c: Tokens.TableCell, tag: 'th' | 'td') => {
          const node = el(tag, undefined, inlines(c.tokens));
          if (c.align) node.style.textAlign = c.align;
          return node;
        };
        const head = el(
          'tr',
          undefined,
          table.header.map((c) => cell(c, 'th')),
        );
        const rows = table.rows.map((r) =>
          el(
            'tr',
            undefined,
            r.map((c) => cell(c, 'td')),
          ),
        );
        const wrap = el('div', 'md-table', [el('table', undefined, [el('thead', undefined, [head]), el('tbody', undefined, rows)])]);
        wrap.tabIndex = 0;
        return [wrap];
      }
      default:
        // Raw HTML blocks and anything newer: shown as written.
        return [el('p', undefined, [text(t.raw)])];
    }
  });
}

export function renderMarkdown(src: string): Node[] {
  return blocks(lexer(src, { gfm: true }));
}

export interface MarkdownView {
  readonly root: HTMLElement;
  /** Shows `text`. When it extends what is shown, only the unfinished tail is rebuilt. */
  update(text: string): void;
}

/** A view for text that grows (streamed deltas): settled blocks are appended once and kept. */
export function createMarkdownView(): MarkdownView {
  const root = el('div', 'md');
  const tail = el('div', 'md-tail');
  root.append(tail);
  /** Text of the settled blocks, and what the tail shows. */
  let settled = '';
  let tailText: string | undefined;

  return {
    root,
    update(text) {
      if (!text.startsWith(settled)) {
        // Rewritten rather than extended (a snapshot replaced the stream): start over.
        root.replaceChildren(tail);
        settled = '';
        tailText = undefined;
      }
      const fresh = settledBlocks(text.slice(settled.length));
      for (const src of fresh.blocks) for (const node of renderMarkdown(src)) root.insertBefore(node, tail);
      settled = text.slice(0, settled.length + fresh.consumed);
      const rest = text.slice(settled.length);
      if (rest !== tailText) {
        tail.replaceChildren(...renderMarkdown(rest));
        tailText = rest;
      }
    },
  };
}
