/**
 * HTTPS with the built-in local CA, in Chromium with Pixel 7 emulation, from a name that is not
 * loopback (relay-test.local, mapped to 127.0.0.1), served by the host's own servers. The browser
 * profile trusts only the generated CA (fixtures/trusting-phone.ts). e2e/tls-app.test.ts does the
 * same with the whole host, pairing and tasks.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright';
import { silentLogger } from '../host/log.ts';
import { hostUrls } from '../host/net/addresses.ts';
import { createHttpServer, type HttpServer } from '../host/server/http.ts';
import { tlsSetup } from '../host/tls/local-ca.ts';
import { certificateNames } from '../host/tls/names.ts';
import { openTlsSource, type TlsSource } from '../host/tls/source.ts';
import { createTrustServer, type TrustServer } from '../host/tls/trust-server.ts';
import { loadUws } from '../host/uws/load.ts';
import { DIST, ensureBuilt, installability, screenshot, serveApp, type ServedApp } from './browser.ts';
import { TRUST_ROUTE, launchPhone, launchTrustingPhone } from './fixtures/trusting-phone.ts';

const WAIT = { timeout: 20_000 };
const NAME = 'relay-test';
const HOST = `${NAME}.local`;
const RESOLVE = `--host-resolver-rules=MAP ${HOST} 127.0.0.1`;

describe(`HTTPS from ${HOST} with the local CA (${TRUST_ROUTE})`, { timeout: 120_000 }, () => {
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
    await tlsSetup({ dataDir, names: names(), hostName: NAME, log: silentLogger });
    source = (await openTlsSource({ dataDir, names, log: silentLogger }))!;
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
    context = await launchTrustingPhone({ dir: join(root, 'phone'), caCert: source.ca!.paths.caCert, hostCert: source.files.cert, args: [RESOLVE] });
    closers.push(() => context.close());
    page = await context.newPage();
  });

  after(async () => {
    for (const close of closers.reverse()) await close();
    rmSync(root, { recursive: true, force: true });
  });

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
    const install = await installability(page);
    assert.equal(install.manifestUrl, `https://${HOST}:${httpsPort}/manifest.webmanifest`);
    assert.deepEqual(install.manifestErrors, []);
    assert.deepEqual(install.installabilityErrors, []);
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
