/**
 * HTTPS with the built-in local CA, in Chromium with Pixel 7 emulation, from a name that is not
 * loopback (relay-test.local, mapped to 127.0.0.1), served by the host's own servers.
 *
 * The browser profile trusts the generated CA the way a phone does once the person installed it:
 * through an NSS database holding only that CA (Chromium on Linux reads $HOME/.pki/nssdb), so
 * Chromium's own verifier checks the chain, names and key usages. Without `certutil`
 * (libnss3-tools) the test falls back to `--ignore-certificate-errors-spki-list` with the host
 * key, which proves the secure-context behaviour but not the chain.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { X509Certificate, createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright';
import { silentLogger } from '../host/log.ts';
import { hostUrls } from '../host/net/addresses.ts';
import { createHttpServer, type HttpServer } from '../host/server/http.ts';
import { tlsSetup } from '../host/tls/local-ca.ts';
import { certificateNames } from '../host/tls/names.ts';
import { openTlsSource, type TlsSource } from '../host/tls/source.ts';
import { createTrustServer, type TrustServer } from '../host/tls/trust-server.ts';
import { loadUws } from '../host/uws/load.ts';
import { CHROMIUM_ARGS, CHROMIUM_PATH, DIST, PHONES, ensureBuilt, screenshot, serveApp, type ServedApp } from './browser.ts';

const WAIT = { timeout: 20_000 };
const NAME = 'relay-test';
const HOST = `${NAME}.local`;
const RESOLVE = `--host-resolver-rules=MAP ${HOST} 127.0.0.1`;
const haveCertutil = spawnSync('sh', ['-c', 'command -v certutil'], { stdio: 'ignore' }).status === 0;

/** browser.ts's persistent launcher, plus the HOME whose NSS database Chromium reads. */
function launchPhone(profileDir: string, home: string, args: string[]): Promise<BrowserContext> {
  return chromium.launchPersistentContext(profileDir, {
    ...PHONES.pixel7,
    executablePath: CHROMIUM_PATH,
    args: [...CHROMIUM_ARGS, ...args],
    env: { ...process.env, HOME: home },
  });
}

describe(`HTTPS from ${HOST} with the local CA (${haveCertutil ? 'CA trusted through NSS' : 'host key pinned by SPKI'})`, { timeout: 120_000 }, () => {
  const { uws } = loadUws();
  const root = mkdtempSync(join(tmpdir(), 'relay-tls-e2e-'));
  const names = () => certificateNames({ bind: '0.0.0.0', hostName: NAME, interfaces: {} });
  let source: TlsSource;
  let https: HttpServer;
  let trust: TrustServer;
  let plain: ServedApp;
  let httpsPort: number;
  let trustPort: number;
  let context: BrowserContext;
  let page: Page;
  const closers: (() => unknown)[] = [];

  before(async () => {
    await ensureBuilt();
    const dataDir = join(root, 'data');
    tlsSetup({ dataDir, names: names(), hostName: NAME, log: silentLogger });
    source = openTlsSource({ dataDir, names, log: silentLogger })!;
    https = createHttpServer({ uws, staticDir: DIST, getHealth: () => ({ ok: true }), log: silentLogger, tls: source.files });
    closers.push(() => https.close());
    httpsPort = (await https.listen('127.0.0.1', 0)).port;
    const urls = () => hostUrls({ bind: '0.0.0.0', port: httpsPort, tls: true, hostName: NAME, interfaces: {} });
    trust = createTrustServer({ uws, log: silentLogger, ca: source.ca, httpsUrls: urls });
    closers.push(() => trust.close());
    trustPort = (await trust.listen('127.0.0.1', 0)).port;
    // Without a certificate the host serves the app itself over plain HTTP: a web page, not an app.
    plain = await serveApp(DIST);
    closers.push(() => plain.close());
    context = await launchTrusting(source);
    closers.push(() => context.close());
    page = await context.newPage();
  });

  after(async () => {
    for (const close of closers.reverse()) await close();
    rmSync(root, { recursive: true, force: true });
  });

  /** A phone-sized Chromium whose profile trusts the local CA (or, without certutil, the host key). */
  async function launchTrusting(tls: TlsSource): Promise<BrowserContext> {
    const home = join(root, 'home');
    const args = [RESOLVE];
    if (haveCertutil) {
      const db = join(home, '.pki', 'nssdb');
      mkdirSync(db, { recursive: true });
      execFileSync('certutil', ['-d', `sql:${db}`, '-N', '--empty-password']);
      execFileSync('certutil', ['-d', `sql:${db}`, '-A', '-t', 'C,,', '-n', 'OpenWork Relay local CA', '-i', tls.ca!.paths.caCert]);
    } else {
      const spki = new X509Certificate(readFileSync(tls.files.cert)).publicKey.export({ type: 'spki', format: 'der' });
      args.push(`--ignore-certificate-errors-spki-list=${createHash('sha256').update(spki).digest('base64')}`);
    }
    return launchPhone(join(root, 'profile'), home, args);
  }

  it('the trust page over plain HTTP shows the fingerprint and sends the person on to the .local HTTPS address', async () => {
    await page.goto(`http://${HOST}:${trustPort}/`);
    assert.equal(await page.evaluate(() => isSecureContext), false);
    await page.getByRole('heading', { name: 'Trust this computer' }).waitFor(WAIT);
    assert.equal((await page.locator('code.fingerprint').textContent())?.trim(), source.ca!.fingerprint);
    const download = await page.evaluate(async () => {
      const r = await fetch('/ca.crt');
      return { type: r.headers.get('content-type'), size: (await r.arrayBuffer()).byteLength };
    });
    assert.deepEqual(download, { type: 'application/x-x509-ca-cert', size: new X509Certificate(source.ca!.certPem).raw.length });
    await screenshot(page, 'pixel7-trust-page');
    const first = page.locator('ul.links a').first();
    assert.equal(await first.getAttribute('href'), `https://${HOST}:${httpsPort}/`);
    await first.click();
    await page.waitForURL(`https://${HOST}:${httpsPort}/`, WAIT);
    assert.equal(await page.evaluate(() => isSecureContext), true);
  });

  it('over HTTPS the service worker controls the app and it is installable, with no installability errors', async () => {
    await page.goto(`https://${HOST}:${httpsPort}/`);
    await page.getByRole('region', { name: 'Pair with your computer' }).waitFor(WAIT);
    assert.equal(await page.evaluate(() => isSecureContext), true);
    await page.waitForFunction(() => navigator.serviceWorker.controller !== null, undefined, WAIT);
    const cdp = await context.newCDPSession(page);
    try {
      const manifest = (await cdp.send('Page.getAppManifest')) as { url: string; errors: unknown[] };
      assert.equal(manifest.url, `https://${HOST}:${httpsPort}/manifest.webmanifest`);
      assert.deepEqual(manifest.errors, []);
      const { installabilityErrors } = (await cdp.send('Page.getInstallabilityErrors')) as { installabilityErrors: unknown[] };
      assert.deepEqual(installabilityErrors, []);
    } finally {
      await cdp.detach();
    }
    await screenshot(page, 'pixel7-https-app');
  });

  it('over plain HTTP the app still opens as a web page, but is no secure context and gets no service worker', async () => {
    const insecure = await context.newPage();
    try {
      await insecure.goto(`http://${HOST}:${plain.port}/`);
      await insecure.getByRole('region', { name: 'Pair with your computer' }).waitFor(WAIT);
      const state = await insecure.evaluate(() => ({ secure: isSecureContext, serviceWorker: 'serviceWorker' in navigator }));
      assert.deepEqual(state, { secure: false, serviceWorker: false });
    } finally {
      await insecure.close();
    }
  });

  it('a profile that was not given the CA refuses the host, so the trust above comes from it', async () => {
    const stranger = await launchPhone(join(root, 'stranger-profile'), join(root, 'stranger-home'), [RESOLVE]);
    try {
      const other = await stranger.newPage();
      await assert.rejects(other.goto(`https://${HOST}:${httpsPort}/`), /ERR_CERT_AUTHORITY_INVALID/);
    } finally {
      await stranger.close();
    }
  });
});
