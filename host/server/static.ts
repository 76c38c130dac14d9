/**
 * Serves the built PWA (Vite's dist/) from memory.
 *
 * Every file is read once at start (the app is small) and again on `reload()`, so a request can
 * only ever name a key of that in-memory map and never reaches the file system: traversal attempts
 * are refused up front for clarity, but could not read outside the directory anyway.
 * @module
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { extname, join } from 'node:path';
import type { Logger } from '../log.ts';
import type { HeaderList, Reply } from '../uws/respond.ts';

export const NOT_BUILT_MESSAGE = 'the app is not built: run npm run build';

export interface StaticRequest {
  method: 'get' | 'head';
  /** The raw request path as sent (uWS `req.getUrl()`): not decoded, no query string. */
  url: string;
  accept: string;
  acceptEncoding: string;
  ifNoneMatch: string;
}

export interface StaticSite {
  /** False while dist/ (or its index.html) is missing: every request then answers 503. */
  readonly built: boolean;
  /** Re-reads the directory and swaps the served files in one step. */
  reload(): void;
  respond(req: StaticRequest): Reply;
}

type Encoding = 'br' | 'gzip';

interface Variant {
  body: Buffer;
  etag: string;
}

interface Asset {
  contentType: string;
  cacheControl: string;
  identity: Variant;
  encoded: Partial<Record<Encoding, Variant>>;
}

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.webmanifest': 'application/manifest+json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.xml': 'application/xml; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.avif': 'image/avif',
  '.ico': 'image/x-icon',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.ttf': 'font/ttf',
  '.wasm': 'application/wasm',
  '.mp3': 'audio/mpeg',
  '.mp4': 'video/mp4',
  '.webm': 'video/webm',
};

const SIBLING_SUFFIX: Record<Encoding, string> = { br: '.br', gzip: '.gz' };

/** Files a browser must revalidate on every load, or an update of the app would never be seen. */
const ALWAYS_REVALIDATE = new Set(['manifest.json', 'sw.js', 'service-worker.js', 'registerSW.js']);
/** Vite's content-hashed output, e.g. assets/index-B1x9_zQa.js: its name changes whenever it does. */
const HASHED_ASSET = /^\/assets\/(?:.+\/)?[^/]+-[\w-]{8,}\.\w+$/;

export const CACHE_NO_CACHE = 'no-cache';
export const CACHE_IMMUTABLE = 'public, max-age=31536000, immutable';
export const CACHE_SHORT = 'public, max-age=600';

export function createStaticSite(opts: { dir: string; log: Logger }): StaticSite {
  let files = readSite(opts.dir);
  const report = () => {
    if (files) opts.log.info('serving the app', { dir: opts.dir, files: files.size });
    else opts.log.warn(NOT_BUILT_MESSAGE, { dir: opts.dir });
  };
  report();
  return {
    get built() {
      return files !== undefined;
    },
    reload() {
      files = readSite(opts.dir);
      report();
    },
    respond: (req) => respond(files, req),
  };
}

function respond(files: Map<string, Asset> | undefined, req: StaticRequest): Reply {
  const path = decodePath(req.url);
  if (path === undefined) return plain(400, 'bad request path');
  if (!files) return plain(503, NOT_BUILT_MESSAGE);

  const key = path.endsWith('/') ? `${path}index.html` : path;
  // Clean URLs for pages built beside the app (/troubleshooting → troubleshooting.html), ahead of the app's routes.
  let asset = files.get(key) ?? (extname(path) ? undefined : files.get(`${path}.html`));
  if (!asset && looksLikeAppRoute(path, req.accept)) asset = files.get('/index.html');
  if (!asset) return plain(404, 'not found');

  const encoding = chooseEncoding(asset, req.acceptEncoding);
  const variant = encoding ? asset.encoded[encoding]! : asset.identity;
  const headers: [string, string][] = [
    ['Content-Type', asset.contentType],
    ['Cache-Control', asset.cacheControl],
    ['ETag', variant.etag],
  ];
  if (Object.keys(asset.encoded).length) headers.push(['Vary', 'Accept-Encoding']);
  if (etagMatches(req.ifNoneMatch, variant.etag)) return { status: 304, headers };
  if (encoding) headers.push(['Content-Encoding', encoding]);
  return { status: 200, headers, body: variant.body, omitBody: req.method === 'head' };
}

/**
 * The decoded path, or undefined for anything that is not a plain absolute path: dot segments,
 * backslashes, NUL and control characters (raw or percent-encoded), bad escapes, and any `%` left
 * after one decoding (double encoding such as `%252e%252e`).
 */
export function decodePath(raw: string): string | undefined {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point: they are refused.
  if (!raw.startsWith('/') || /[\\\x00-\x1f\x7f]/.test(raw)) return undefined;
  let path: string;
  try {
    path = decodeURIComponent(raw);
  } catch {
    return undefined;
  }
  // biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point: they are refused.
  if (/[%\\\x00-\x1f\x7f]/.test(path)) return undefined;
  if (path.split('/').some((segment) => segment === '.' || segment === '..')) return undefined;
  return path;
}

/** A client-side route such as /sessions/abc: no file extension and a browser asking for a page. */
function looksLikeAppRoute(path: string, accept: string): boolean {
  const last = path.slice(path.lastIndexOf('/') + 1);
  return !last.includes('.') && accept.includes('text/html');
}

function chooseEncoding(asset: Asset, acceptEncoding: string): Encoding | undefined {
  const q = new Map<string, number>();
  for (const part of acceptEncoding.toLowerCase().split(',')) {
    const [name, ...params] = part.split(';').map((s) => s.trim());
    if (!name) continue;
    const qParam = params.find((p) => p.startsWith('q='));
    q.set(name, qParam ? Number(qParam.slice(2)) || 0 : 1);
  }
  const accepted = (e: Encoding) => (q.get(e) ?? q.get('*') ?? 0) > 0;
  return (['br', 'gzip'] as const).find((e) => asset.encoded[e] && accepted(e));
}

/** Weak comparison (RFC 9110 §13.1.2): a W/ prefix on the client's tag does not prevent a match. */
function etagMatches(ifNoneMatch: string, etag: string): boolean {
  if (!ifNoneMatch) return false;
  return ifNoneMatch.split(',').some((tag) => {
    const t = tag.trim();
    return t === '*' || t.replace(/^W\//, '') === etag;
  });
}

function plain(status: number, message: string): Reply {
  const headers: HeaderList = [
    ['Content-Type', 'text/plain; charset=utf-8'],
    ['Cache-Control', 'no-store'],
  ];
  return { status, headers, body: message };
}

/** All files under `dir` keyed by URL path, or undefined when there is no built app to serve. */
function readSite(dir: string): Map<string, Asset> | undefined {
  let paths: string[];
  try {
    paths = listFiles(dir, '');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ENOTDIR') return undefined;
    throw err;
  }
  const present = new Set(paths);
  const isSibling = (p: string) => Object.values(SIBLING_SUFFIX).some((suffix) => p.endsWith(suffix) && present.has(p.slice(0, -suffix.length)));

  const files = new Map<string, Asset>();
  for (const path of paths) {
    if (isSibling(path)) continue;
    const encoded: Asset['encoded'] = {};
    for (const [encoding, suffix] of Object.entries(SIBLING_SUFFIX) as [Encoding, string][]) {
      if (present.has(path + suffix)) encoded[encoding] = variant(readFileSync(join(dir, path + suffix)));
    }
    files.set(path, {
      contentType: CONTENT_TYPES[extname(path).toLowerCase()] ?? 'application/octet-stream',
      cacheControl: cachePolicy(path),
      identity: variant(readFileSync(join(dir, path))),
      encoded,
    });
  }
  return files.has('/index.html') ? files : undefined;
}

/**
 * URL paths ('/assets/x.js') of the regular files below `dir`. Symlinks are not followed and
 * dot-files (.vite/, .DS_Store) are not served.
 */
function listFiles(dir: string, prefix: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(join(dir, prefix), { withFileTypes: true })) {
    if (entry.name.startsWith('.')) continue;
    const rel = `${prefix}/${entry.name}`;
    if (entry.isDirectory()) out.push(...listFiles(dir, rel));
    else if (entry.isFile()) out.push(rel);
  }
  return out;
}

export function cachePolicy(path: string): string {
  const name = path.slice(path.lastIndexOf('/') + 1);
  if (name.endsWith('.html') || name.endsWith('.webmanifest') || ALWAYS_REVALIDATE.has(name)) return CACHE_NO_CACHE;
  if (HASHED_ASSET.test(path)) return CACHE_IMMUTABLE;
  return CACHE_SHORT;
}

function variant(body: Buffer): Variant {
  return { body, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"` };
}
