/**
 * The built PWA in Chromium with Pixel 7 emulation, served by the host's own static server (so
 * with its real CSP): installable, controlled by the service worker, usable offline, updated only
 * on consent, reset on request, and every control named for assistive technology.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright';
import {
  DIST,
  PHONES,
  ROOT,
  cuttableProxy,
  ensureBuilt,
  installability,
  launchChromium,
  launchPersistentChromium,
  screenshot,
  serveApp,
  type CuttableProxy,
  type ServedApp,
} from './browser.ts';

const WAIT = { timeout: 20_000 };
/** Resolves to 127.0.0.1, but is not a "potentially trustworthy" origin: a stand-in for http://192.168.x.y. */
const INSECURE_HOST = 'relay.test';
const NAMED_ROLES = new Set(['button', 'link', 'textbox', 'searchbox', 'checkbox', 'radio', 'switch', 'combobox', 'slider', 'tab', 'menuitem']);

interface AXNode {
  ignored: boolean;
  role?: { value: string };
  name?: { value: string };
}

/** Interactive elements in the accessibility tree that have no accessible name. */
async function unnamedControls(page: Page): Promise<string[]> {
  const cdp = await page.context().newCDPSession(page);
  try {
    const { nodes } = (await cdp.send('Accessibility.getFullAXTree')) as { nodes: AXNode[] };
    return nodes.filter((n) => !n.ignored && NAMED_ROLES.has(n.role?.value ?? '') && !n.name?.value?.trim()).map((n) => n.role!.value);
  } finally {
    await cdp.detach(); // an attached session confuses offline emulation (browser-testing.md)
  }
}

async function fitsWidth(page: Page): Promise<boolean> {
  return page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth);
}

/** A phone: its own browser profile, reaching `server` only through a proxy of its own the test can cut. */
interface Phone {
  context: BrowserContext;
  page: Page;
  proxy: CuttableProxy;
  close(): Promise<void>;
}

/** A private copy of dist/ served as the host serves it: the update test rewrites its sw.js. */
interface Site {
  dir: string;
  server: ServedApp;
  close(): Promise<void>;
}

async function serveCopy(): Promise<Site> {
  const dir = await mkdtemp(join(tmpdir(), 'relay-pwa-'));
  await cp(DIST, dir, { recursive: true });
  const server = await serveApp(dir);
  return {
    dir,
    server,
    async close() {
      server.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

describe('the phone app (PWA)', { timeout: 120_000 }, () => {
  let site: Site;
  /**
   * Installs the app and later resets it. Going offline and updating get phones of their own: a
   * cut host wedged the worker's next update in the profile it happened in.
   */
  let phone: Phone;
  let page: Page;
  let context: BrowserContext;
  let proxy: CuttableProxy;
  const browserErrors: string[] = [];
  const closers: (() => Promise<void>)[] = [];

  /**
   * A real profile, not an incognito context: Chromium does not offer to install from incognito.
   * Each concern that leaves a service worker in a state of its own gets its own phone, so no
   * test depends on what another did to a worker.
   */
  async function openPhone(server: ServedApp): Promise<Phone> {
    const proxy = await cuttableProxy(server.port);
    const profileDir = await mkdtemp(join(tmpdir(), 'relay-profile-'));
    const context = await launchPersistentChromium(profileDir, {
      ...PHONES.pixel7,
      args: [`--host-resolver-rules=MAP ${INSECURE_HOST} 127.0.0.1`],
    });
    context.on('console', (msg) => {
      // Chromium reports the host's COOP header as an error on plain-http origins (the LAN case); harmless.
      if (/Cross-Origin-Opener-Policy header has been ignored/.test(msg.text())) return;
      if (msg.type() === 'error' || /Content Security Policy/i.test(msg.text())) browserErrors.push(msg.text());
    });
    context.on('weberror', (err) => browserErrors.push(String(err.error())));
    const page = context.pages()[0] ?? (await context.newPage());
    let closed = false;
    const opened: Phone = {
      context,
      page,
      proxy,
      async close() {
        if (closed) return;
        closed = true;
        await context.close();
        await proxy.close();
        await rm(profileDir, { recursive: true, force: true });
      },
    };
    closers.push(() => opened.close());
    return opened;
  }

  /** Opens the app and waits until its service worker controls the page (what installing leaves). */
  async function installed(p: Phone): Promise<void> {
    await p.page.goto(p.proxy.url);
    await p.page.getByRole('region', { name: 'Pair with your computer' }).waitFor(WAIT);
    await p.page.waitForFunction(() => navigator.serviceWorker.controller !== null, undefined, WAIT);
  }

  before(async () => {
    await ensureBuilt();
    site = await serveCopy();
    closers.push(() => site.close());
    phone = await openPhone(site.server);
    ({ page, context, proxy } = phone);
  });

  after(async () => {
    for (const close of closers.reverse()) await close();
  });

  it('opens on the pair screen, with a status pill and named controls', async () => {
    await page.goto(proxy.url);
    await page.getByRole('region', { name: 'Pair with your computer' }).waitFor(WAIT);
    await page.getByRole('status').filter({ hasText: 'Not paired' }).waitFor(WAIT);
    assert.equal(await page.getByRole('button', { name: 'Scan QR' }).isEnabled(), true, 'http://127.0.0.1 is a secure context');
    await page.getByRole('textbox', { name: 'Pairing code' }).waitFor(WAIT);
    await page.getByRole('link', { name: 'Settings' }).waitFor(WAIT);
    assert.deepEqual(await unnamedControls(page), []);
    assert.equal(await fitsWidth(page), true, 'no sideways scrolling at phone width');
    await screenshot(page, 'pixel7-pair');
  });

  it('is controlled by the service worker and installable', async () => {
    const install = await installability(page);
    assert.match(install.manifestUrl, /\/manifest\.webmanifest$/);
    assert.deepEqual(install.manifestErrors, []);
    const data = install.manifest as { name: string; short_name: string; display: string; icons: { purpose?: string }[] };
    assert.equal(data.name, 'OpenWork Relay');
    assert.equal(data.short_name, 'Relay');
    assert.equal(data.display, 'standalone');
    assert.ok(
      data.icons.some((i) => i.purpose === 'maskable'),
      'a maskable icon',
    );
    assert.deepEqual(install.installabilityErrors, []);
    const html = await readFile(join(site.dir, 'index.html'), 'utf8');
    assert.doesNotMatch(html, /<script(?![^>]*\bsrc=)[^>]*>/, 'no inline script (CSP script-src self)');
    assert.doesNotMatch(html, /<style|\sstyle=/, 'no inline style (CSP style-src self)');
  });

  it('creates the IndexedDB schema', async () => {
    const stores = await page.evaluate(
      () =>
        new Promise<Record<string, unknown>>((resolve, reject) => {
          const req = indexedDB.open('openwork-relay');
          req.onerror = () => reject(req.error);
          req.onsuccess = () => {
            const db = req.result;
            const tx = db.transaction([...db.objectStoreNames], 'readonly');
            const out: Record<string, unknown> = {};
            for (const name of db.objectStoreNames) out[name] = tx.objectStore(name).keyPath;
            db.close();
            resolve(out);
          };
        }),
    );
    assert.deepEqual(stores, {
      composerOptions: ['hostId', 'directory'],
      hosts: 'hostId',
      meta: null,
      outbox: 'key',
      sessions: ['hostId', 'sessionId'],
      transcripts: ['hostId', 'sessionId'],
    });
  });

  it('opens the guides the app links to as pages of their own, not the app shell', async () => {
    await page.goto(`${proxy.url}troubleshooting#pairexpired`);
    await page.getByRole('heading', { name: 'pair.expired', level: 3 }).waitFor(WAIT);
    assert.equal(await page.getByRole('region', { name: 'Pair with your computer' }).count(), 0);
    const top = await page.evaluate(() => document.getElementById('pairexpired')!.getBoundingClientRect().top);
    assert.ok(top >= 0 && top < 200, `the app's link lands on the section (${top})`);
    assert.equal(await fitsWidth(page), true);

    await page.goto(`${proxy.url}trust`);
    await page.getByRole('heading', { name: 'HTTPS on your home network', level: 1 }).waitFor(WAIT);
    await page.getByRole('heading', { name: 'Built-in certificate authority' }).waitFor(WAIT);
    assert.equal(await fitsWidth(page), true, 'wide tables and code scroll on their own');
    assert.deepEqual(await unnamedControls(page), []);
    await screenshot(page, 'pixel7-trust-guide');
    await page.getByRole('link', { name: 'Back to the app' }).click();
    await page.getByRole('region', { name: 'Pair with your computer' }).waitFor(WAIT);
  });

  it('shows the app shell and lazy screens with the host gone', async () => {
    const away = await openPhone(site.server);
    await installed(away);
    await away.proxy.cut();
    const offline = await away.context.newPage();
    await offline.goto(`${away.proxy.url}#/settings`);
    await offline.getByRole('region', { name: 'Settings' }).waitFor(WAIT);
    await offline.reload();
    await offline.getByRole('region', { name: 'Settings' }).waitFor(WAIT);
    await offline.getByRole('link', { name: 'Relay' }).click();
    await offline.getByRole('region', { name: 'Pair with your computer' }).waitFor(WAIT);
    await screenshot(offline, 'pixel7-offline');
    await offline.goto(`${away.proxy.url}troubleshooting#host-unreachable`);
    await offline.getByRole('heading', { name: 'Host unreachable' }).waitFor(WAIT);
    await away.close();
  });

  it('offers a new version, waits while text would be lost, and activates it on Reload', async () => {
    // A release of its own, so rewriting its worker changes nothing the other tests see.
    const release = await serveCopy();
    closers.push(() => release.close());
    const updating = await openPhone(release.server);
    const { page } = updating;
    await installed(updating);

    const swPath = join(release.dir, 'sw.js');
    const sw = await readFile(swPath, 'utf8');
    const entry = /\{"revision":"([0-9a-f]+)","url":"index.html"\}/.exec(sw);
    assert.ok(entry, 'sw.js precaches index.html with a revision');
    const oldRevision = entry[1]!;
    // A second release: same files, but the worker's precache list names a new index.html.
    await writeFile(swPath, sw.replace(entry[0], '{"revision":"e2e-second-release","url":"index.html"}'));
    release.server.site.reload();

    const code = page.getByRole('textbox', { name: 'Pairing code' });
    await code.fill('ABCD-1234');
    await page.evaluate(() => Object.assign(window, { beforeUpdate: true }));
    // Not awaited: Chromium may settle update() only long after the new worker installed.
    await page.evaluate(() => void navigator.serviceWorker.getRegistration().then((reg) => reg!.update()));
    await page.getByText('A new version is ready.').waitFor(WAIT);
    await screenshot(page, 'pixel7-update-banner');

    await page.getByRole('button', { name: 'Reload', exact: true }).click();
    await page.getByRole('button', { name: 'Reload anyway' }).waitFor(WAIT);
    assert.equal(await page.evaluate(() => 'beforeUpdate' in window), true, 'no reload while typed text would be lost');
    assert.equal(await code.inputValue(), 'ABCD-1234');

    await Promise.all([page.waitForEvent('load', WAIT), page.getByRole('button', { name: 'Reload anyway' }).click()]);
    await page.getByRole('region', { name: 'Pair with your computer' }).waitFor(WAIT);
    assert.equal(await page.evaluate(() => 'beforeUpdate' in window), false, 'the page reloaded');

    const after = await page.evaluate(async () => {
      const reg = (await navigator.serviceWorker.getRegistration())!;
      const urls: string[] = [];
      for (const name of await caches.keys()) for (const req of await (await caches.open(name)).keys()) urls.push(req.url);
      return { waiting: reg.waiting !== null, controlled: navigator.serviceWorker.controller !== null, urls };
    });
    assert.equal(after.waiting, false, 'no worker left waiting');
    assert.equal(after.controlled, true);
    assert.ok(
      after.urls.some((u) => u.endsWith('index.html?__WB_REVISION__=e2e-second-release')),
      'new release precached',
    );
    assert.ok(!after.urls.some((u) => u.includes(oldRevision)), 'old release cleaned up by the activated worker');
    await updating.close();
  });

  it('resets the app: worker unregistered, caches and (on request) data deleted', async () => {
    await installed(phone);
    await page.getByRole('link', { name: 'Settings' }).click();
    await page.getByRole('region', { name: 'Settings' }).waitFor(WAIT);
    const { version } = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    await page.getByText(version, { exact: true }).waitFor(WAIT);

    await page.getByRole('button', { name: 'Reset app' }).click();
    const dialog = page.getByRole('dialog', { name: 'Reset app?' });
    await dialog.waitFor(WAIT);
    assert.deepEqual(await unnamedControls(page), []);
    await dialog.getByRole('checkbox', { name: 'Also forget paired hosts' }).check();
    await screenshot(page, 'pixel7-reset-dialog');
    await dialog.getByRole('button', { name: 'Reset', exact: true }).click();
    await page.getByRole('status').filter({ hasText: 'App reset, paired computers forgotten' }).waitFor(WAIT);

    const left = await page.evaluate(async () => ({
      workers: (await navigator.serviceWorker.getRegistrations()).length,
      caches: await caches.keys(),
      databases: (await indexedDB.databases()).map((d) => d.name),
    }));
    assert.deepEqual(left, { workers: 0, caches: [], databases: [] });
  });

  it('explains that scanning needs a secure page on plain http to a LAN address', async () => {
    const insecure = await context.newPage();
    await insecure.goto(`http://${INSECURE_HOST}:${proxy.port}/`);
    const scan = insecure.getByRole('button', { name: 'Scan QR' });
    await scan.waitFor(WAIT);
    assert.equal(await scan.isDisabled(), true);
    const hintId = await scan.getAttribute('aria-describedby');
    assert.ok(hintId, 'the disabled button points to its explanation');
    assert.match(await insecure.locator(`[id="${hintId}"]`).innerText(), /secure \(HTTPS\)/);
    await screenshot(insecure, 'pixel7-pair-insecure');
    await insecure.close();
  });

  it('fits an iPhone-sized screen, in dark mode', async () => {
    const browser: Browser = await launchChromium();
    try {
      const p = await (await browser.newContext({ ...PHONES.iphone, colorScheme: 'dark' })).newPage();
      await p.goto(proxy.url);
      await p.getByRole('region', { name: 'Pair with your computer' }).waitFor(WAIT);
      assert.equal(await fitsWidth(p), true);
      await screenshot(p, 'iphone-pair-dark');
    } finally {
      await browser.close();
    }
  });

  it('ran without CSP violations or script errors', () => {
    assert.deepEqual(browserErrors, []);
  });
});
