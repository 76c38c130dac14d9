/**
 * Markdown (as parsed by `parse.ts`) to DOM nodes. Every piece of text becomes a Text node, links
 * only ever get the `href`s `safeHref` allowed, and nothing is parsed as HTML: there is no
 * innerHTML anywhere, so whatever the agent writes stays text.
 * @module
 */
import { parseBlocks, type Block, type Inline } from './parse.ts';
import { settledBlocks } from './split.ts';

function el<K extends keyof HTMLElementTagNameMap>(tag: K, className?: string, children: Node[] = []): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (className) node.className = className;
  node.append(...children);
  return node;
}

function inlines(list: Inline[]): Node[] {
  // biome-ignore lint/suspicious/useIterableCallbackReturn: the switch covers every kind of Inline, which TypeScript checks against the callback's return type.
  return list.map((n): Node => {
    switch (n.t) {
      case 'text':
        return document.createTextNode(n.v);
      case 'code':
        return el('code', undefined, [document.createTextNode(n.v)]);
      case 'strong':
        return el('strong', undefined, inlines(n.c));
      case 'em':
        return el('em', undefined, inlines(n.c));
      case 'br':
        return el('br');
      case 'link': {
        const a = el('a', undefined, inlines(n.c));
        a.href = n.href;
        a.target = '_blank';
        a.rel = 'noopener noreferrer';
        return a;
      }
    }
  });
}

function block(b: Block): Node {
  switch (b.t) {
    case 'p':
      return el('p', undefined, inlines(b.c));
    case 'h':
      // Headings inside a message would break the page's outline: styled text, not <h1>.
      return el('p', `md-h md-h${b.level}`, [el('strong', undefined, inlines(b.c))]);
    case 'hr':
      return el('hr');
    case 'quote':
      return el('blockquote', undefined, b.c.map(block));
    case 'code': {
      const code = el('code', b.lang ? `language-${b.lang}` : undefined, [document.createTextNode(b.v)]);
      const pre = el('pre', 'md-code', [code]);
      // Scrollable regions must be reachable by keyboard.
      pre.tabIndex = 0;
      if (b.lang) pre.dataset.lang = b.lang;
      return pre;
    }
    case 'list': {
      const list = el(b.ordered ? 'ol' : 'ul', 'md-list', b.items.map((it) => el('li', it.depth ? `md-depth${it.depth}` : undefined, inlines(it.c))));
      if (b.ordered && b.start !== 1) (list as HTMLOListElement).start = b.start;
      return list;
    }
    case 'table': {
      const row = (cells: Inline[][], tag: 'th' | 'td') => el('tr', undefined, cells.map((c) => el(tag, undefined, inlines(c))));
      const table = el('table', undefined, [el('thead', undefined, [row(b.head, 'th')]), el('tbody', undefined, b.rows.map((r) => row(r, 'td')))]);
      const wrap = el('div', 'md-table', [table]);
      wrap.tabIndex = 0;
      return wrap;
    }
  }
}

export function renderMarkdown(src: string): Node[] {
  return parseBlocks(src).map(block);
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
