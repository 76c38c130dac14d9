/**
 * 5. The PWA: the gzipped JavaScript the first screen needs, and the time to the app's first
 * render with Chromium's CPU slowed 4× (DevTools protocol): a first load without the service
 * worker, against a start of the installed app from the service worker's cache with the server
 * gone. Served by the host's own static server, through a proxy the bench can cut.
 * @module
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import type { Browser, BrowserContext, Page } from 'playwright';
import { cuttableProxy, launchChromium, serveApp } from '../../e2e/browser.ts';
import { privateBuild } from '../lib/app-build.ts';
import type { Measurement } from '../lib/context.ts';
import { atMost, section } from '../lib/report.ts';
import { median } from '../lib/stats.ts';

const THROTTLE = 4;
const LOADS = 3;
const WAIT = { timeout: 60_000 };

/** Marks when #app first holds an element: the app's first render, in ms since navigation start. */
const FIRST_RENDER_PROBE = `
  new MutationObserver((_, observer) => {
    const app = document.getElementById('app');
    if (app && app.firstElementChild) { globalThis.__firstRender = performance.now(); observer.disconnect(); }
  }).observe(document, { childList: true, subtree: true });`;

interface Load {
  firstRenderMs: number;
  firstContentfulPaintMs: number | null;
  /** JavaScript files fetched before the first render, by path. */
  scripts: string[];
  fromServiceWorker: boolean;
}

/** Static imports in a built module: `import … from "./x.js"`, `import "./x.js"`, `export … from`; not `import()`. */
function staticImports(code: string): string[] {
  return [...code.matchAll(/\b(?:import|export)\s*(?:[\w$*{},\s]+from\s*)?["'](\.{1,2}\/[^"']+\.js)["']/g)].map((m) => m[1]!);
}

/** The entry scripts and modulepreloads of index.html and everything they import statically. */
async function entryGraph(dir: string): Promise<string[]> {
  const html = await readFile(join(dir, 'index.html'), 'utf8');
  const roots = [...html.matchAll(/<(?:script[^>]*type="module"[^>]*src|link[^>]*rel="modulepreload"[^>]*href)="([^"]+)"/g)].map((m) => m[1]!);
  const seen = new Set<string>();
  const visit = async (path: string) => {
    if (seen.has(path)) return;
    seen.add(path);
    const code = await readFile(join(dir, path), 'utf8');
    for (const spec of staticImports(code)) await visit(new URL(spec, `http://x${path}`).pathname);
  };
  for (const r of roots) await visit(new URL(r, 'http://x/').pathname);
  return [...seen];
}

async function gzippedBytes(dir: string, paths: string[]): Promise<number> {
  let total = 0;
  for (const p of paths) total += gzipSync(await readFile(join(dir, p)), { level: 9 }).length;
  return total;
}

async function measureLoad(context: BrowserContext, url: string): Promise<Load> {
  const page: Page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  try {
    await cdp.send('Emulation.setCPUThrottlingRate', { rate: THROTTLE });
    await page.addInitScript(FIRST_RENDER_PROBE);
    const response = await page.goto(url, { waitUntil: 'commit', ...WAIT });
    await page.waitForFunction(() => (globalThis as { __firstRender?: number }).__firstRender !== undefined, undefined, WAIT);
    // The page's own clock decides what came before the first render: a script asked for after it
    // (the other screens, fetched once the first is painted) is not first-screen JavaScript,
    // however soon after it this process hears of the render.
    const marks = await page.evaluate(() => {
      const firstRender = (globalThis as unknown as { __firstRender: number }).__firstRender;
      const scripts = performance
        .getEntriesByType('resource')
        .filter((e) => e.startTime < firstRender)
        .map((e) => new URL(e.name).pathname)
        .filter((path) => path.endsWith('.js') && path !== '/sw.js');
      return { firstRender, scripts, fcp: performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? null };
    });
    return { firstRenderMs: marks.firstRender, firstContentfulPaintMs: marks.fcp, scripts: [...new Set(marks.scripts)], fromServiceWorker: response?.fromServiceWorker() ?? false };
  } finally {
    await cdp.detach().catch(() => {});
    await page.close();
  }
}

export const pwa: Measurement = {
  id: 'pwa',
  title: '5. The PWA: first-screen JavaScript, and first render from the service worker vs a first load (CPU 4× slower)',
  budgetMs: 150_000,
  async run(ctx) {
    const s = section(this.id, this.title);
    ctx.progress('pwa: preparing the built app');
    const build = await privateBuild();
    ctx.defer(build.dispose);
    const served = await serveApp(build.dir);
    ctx.defer(() => served.close());
    const proxy = await cuttableProxy(served.port);
    ctx.defer(() => proxy.close());
    const browser: Browser = await launchChromium();
    ctx.defer(() => browser.close());

    const entry = await entryGraph(build.dir);
    const entryGz = await gzippedBytes(build.dir, entry);

    ctx.progress(`pwa: ${LOADS} first loads without the service worker`);
    const cold: Load[] = [];
    for (let i = 0; i < LOADS; i++) {
      const context = await browser.newContext();
      try {
        cold.push(await measureLoad(context, proxy.url));
      } finally {
        await context.close();
      }
    }
    const firstScreen = [...new Set(cold.flatMap((l) => l.scripts))];
    const firstScreenGz = await gzippedBytes(build.dir, firstScreen);

    ctx.progress(`pwa: ${LOADS} starts from the service worker, server cut`);
    const context = await browser.newContext();
    ctx.defer(() => context.close());
    const installPage = await context.newPage();
    await installPage.goto(proxy.url, WAIT);
    await installPage.evaluate(() => navigator.serviceWorker.ready.then(() => undefined));
    await installPage.reload(WAIT);
    const controlled = await installPage.evaluate(() => navigator.serviceWorker.controller !== null);
    await installPage.close();
    if (!controlled) throw new Error('the service worker did not take control of the page after a reload');
    await proxy.cut();
    const warm: Load[] = [];
    for (let i = 0; i < LOADS; i++) warm.push(await measureLoad(context, proxy.url));
    if (!warm.every((l) => l.fromServiceWorker)) throw new Error('a start with the server cut was not answered by the service worker');

    const coldMs = median(cold.map((l) => l.firstRenderMs));
    const warmMs = median(warm.map((l) => l.firstRenderMs));
    const fcp = (loads: Load[]) => (loads.every((l) => l.firstContentfulPaintMs !== null) ? median(loads.map((l) => l.firstContentfulPaintMs!)) : null);
    s.data = { build: build.source, entry, entryGzBytes: entryGz, firstScreen, firstScreenGzBytes: firstScreenGz, throttle: THROTTLE, cold, warm, coldMs, warmMs };
    s.tables.push({
      title: 'JavaScript for the first screen (gzip -9)',
      columns: ['what', 'files', 'KB gzipped'],
      rows: [
        ["entry: index.html's module scripts and their static imports", entry.length, entryGz / 1024],
        ["asked for before the first render (the page's resource timing)", firstScreen.length, firstScreenGz / 1024],
      ],
    });
    s.tables.push({
      title: `Time to first render, CPU ${THROTTLE}× slower (median of ${LOADS}; ms from navigation start)`,
      columns: ['start', 'first render (#app filled)', 'first contentful paint'],
      rows: [
        ['first load, no service worker', coldMs, fcp(cold)],
        ['installed: from the service worker, server cut', warmMs, fcp(warm)],
        ['service worker ÷ first load', `${(warmMs / coldMs).toFixed(2)}×`, ''],
      ],
    });
    s.targets.push(atMost('PWA: first-screen JavaScript (gzipped)', firstScreenGz / 1024, 60, 'KB'));
    s.targets.push(atMost(`PWA: first render from the service worker at ${THROTTLE}× CPU`, warmMs, 500, 'ms'));
    s.notes.push(
      `App measured: ${build.source}. Loopback network, so the first load differs from the service worker start mostly in where the bytes come from, not in how long they take.`,
    );
    return s;
  },
};
