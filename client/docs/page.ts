/**
 * The guides the app links to, built from docs/*.md into static pages of the app's build
 * (vite.config.ts): /trust (docs/tls.md, how to get HTTPS) and /troubleshooting. Plain HTML with
 * one stylesheet and no script, so the host's CSP holds; the app's service worker precaches them,
 * so they open without the host too.
 * @module
 */
import { TROUBLESHOOTING_URL, TRUST_URL } from '../app/links.ts';
import { escapeHtml, markdownToHtml } from '../markdown/html.ts';

export interface DocPage {
  /** Where the host serves it (and the app links to). */
  url: string;
  /** Under docs/. */
  source: string;
  /** In the build. */
  fileName: string;
}

export const DOC_PAGES: readonly DocPage[] = [
  { url: TRUST_URL, source: 'tls.md', fileName: 'trust.html' },
  { url: TROUBLESHOOTING_URL, source: 'troubleshooting.md', fileName: 'troubleshooting.html' },
];

/**
 * Where a link in a guide goes: its own anchors, the other guides by their URL, the web. Other
 * docs files are not served: undefined, and `docPage` refuses to build a page that links to one.
 */
export function docHref(raw: string): string | undefined {
  const href = raw.trim();
  if (/^#[\w-]+$/.test(href)) return href;
  if (/^https?:\/\/[^\s<>"]+$/i.test(href)) return href;
  const m = /^([\w-]+\.md)(#[\w-]+)?$/.exec(href);
  const page = m && DOC_PAGES.find((p) => p.source === m[1]);
  return page ? `${page.url}${m[2] ?? ''}` : undefined;
}

/**
 * The whole page for a guide's Markdown. Throws when a link in it leads nowhere the host serves
 * (another docs file, a heading that was renamed), so the build fails instead of the link.
 */
export function docPage(markdown: string, opts: { source: string; stylesheet: string }): string {
  const doc = markdownToHtml(markdown, { href: docHref });
  const unserved = [...markdown.matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1]!).filter((href) => !docHref(href));
  const anchors = [...doc.html.matchAll(/href="#([^"]+)"/g)].map((m) => `#${m[1]!}`);
  const broken = [...unserved, ...anchors.filter((a) => !doc.ids.includes(a.slice(1)))];
  if (broken.length) throw new Error(`docs/${opts.source}: links to pages or headings the host does not serve: ${broken.join(', ')}`);
  const title = doc.title || opts.source;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1, viewport-fit=cover">
<meta name="color-scheme" content="light dark">
<title>${escapeHtml(title)} · OpenWork Relay</title>
<link rel="icon" href="/favicon.svg" type="image/svg+xml">
<link rel="stylesheet" href="${escapeHtml(opts.stylesheet)}">
</head>
<body>
<nav class="doc-nav" aria-label="OpenWork Relay"><a href="/">Back to the app</a></nav>
<main class="doc">
${doc.html}
</main>
</body>
</html>
`;
}
