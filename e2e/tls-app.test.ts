/**
 * The whole product on a phone-sized Chromium from a name that is not loopback (relay-test.local,
 * mapped to 127.0.0.1): the REAL host (host/app.ts) with the REAL OpenCode runtime on a fake
 * model, reached the way a phone reaches it.
 *
 * Over HTTPS the host uses the local CA `tls setup` made in its data directory, and the browser
 * profile trusts only that CA (fixtures/trusting-phone.ts): the app is installable and pairs
 * inside it. Over plain HTTP (a host without TLS) the app still pairs and runs a task, and says
 * what is missing with a link to the guide. Both hosts run with `--public-url` on that name, so
 * their pairing links use it, and the app notices when it is opened somewhere else.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright';
import { silentLogger } from '../host/log.ts';
import { tlsSetup } from '../host/tls/local-ca.ts';
import { certificateNames } from '../host/tls/names.ts';
import { CA_DER_TYPE } from '../host/tls/trust-server.ts';
import { PHONES, installability, launchChromium, screenshot } from './browser.ts';
import { startAppHost, type AppHost } from './fixtures/app-host.ts';
import { freePort } from './fixtures/spawn-host.ts';
import { scriptedText } from './fixtures/fake-model.ts';
import { TRUST_ROUTE, launchTrustingPhone } from './fixtures/trusting-phone.ts';

const WAIT = { timeout: 30_000 };
const NAME = 'relay-test.local';
/** A second name for the same host, that the host does not list: an old address, say. */
const ALIAS = 'relay-alias.test';
const RESOLVE = `--host-resolver-rules=MAP ${NAME} 127.0.0.1,MAP ${ALIAS} 127.0.0.1`;
const spaced = (code: string) => `${code.slice(0, 3)} ${code.slice(3)}`;

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/**
 * A free port whose next one is free too (the trust page's): `--public-url` has to name the port
 * before the host listens, so it cannot be 0.
 */
async function freePortPair(): Promise<number> {
  for (let i = 0; i < 50; i++) {
    const port = await freePort();
    if (port < 65535 && (await canListen(port + 1))) return port;
  }
  throw new Error('no two free consecutive ports on 127.0.0.1');
}

/** startAppHost bound to 127.0.0.1 with `--public-url <scheme>://relay-test.local:<port>`; `tls`: with the local CA from `tls setup`. */
async function startStableHost(opts: { tls: boolean }): Promise<AppHost> {
  const port = await freePortPair();
  const origin = `${opts.tls ? 'https' : 'http'}://${NAME}:${port}`;
  const prepare = (dataDir: string) => tlsSetup({ dataDir, names: certificateNames({ bind: '127.0.0.1', publicUrl: origin }), hostName: hostname(), log: silentLogger });
  const app = await startAppHost({ port, args: ['--public-url', origin], ...(opts.tls ? { prepare } : {}) });
  return { ...app, origin };
}

/** Opens a pairing link as a camera app does (a fresh page), checks the code, approves it at the host, and lands on Sessions. */
async function pairFromLink(context: BrowserContext, real: AppHost, link: string): Promise<Page> {
  const page = await context.newPage();
  await page.goto(link);
  const approval = await real.nextApproval();
  await page.getByText(spaced(approval.code)).waitFor(WAIT);
  assert.ok(real.host.relay.approvals.approve(approval.id));
  await page.getByRole('region', { name: 'Sessions' }).waitFor(WAIT);
  await page.getByRole('status').filter({ hasText: 'Connected' }).waitFor(WAIT);
  return page;
}

/** Starts a task from the sessions screen and waits for the fake model's text, in full. */
async function runTask(page: Page, words: number): Promise<void> {
  await page.getByRole('textbox', { name: 'New task' }).fill(`Count [text:${words}]`);
  await page.getByRole('button', { name: 'Start task' }).click();
  const conversation = page.getByRole('list', { name: 'Conversation' });
  await conversation.getByText(scriptedText(words).trim()).waitFor(WAIT);
  await page.getByRole('status').filter({ hasText: 'Idle' }).waitFor(WAIT);
}

describe(`the app from the real host over HTTPS at ${NAME}, a browser trusting only what the host made (${TRUST_ROUTE})`, { timeout: 180_000 }, () => {
  let real: AppHost;
  let scratch: string;
  let context: BrowserContext;
  let page: Page;
  const pageErrors: string[] = [];

  before(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'relay-tls-app-phone-'));
    real = await startStableHost({ tls: true });
    const ca = join(real.dataDir, 'tls');
    context = await launchTrustingPhone({ dir: scratch, caCert: join(ca, 'ca.crt'), hostCert: join(ca, 'host.crt'), args: [RESOLVE] });
    context.on('weberror', (err) => pageErrors.push(String(err.error())));
    page = context.pages()[0] ?? (await context.newPage());
  });

  after(async () => {
    await context?.close();
    await real?.close();
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  it('serves HTTPS with its CA and offers the stable name first, in pairing links too', () => {
    assert.equal(real.host.urls()[0], real.origin);
    assert.ok(real.host.relay.newOffer().link.startsWith(`${real.origin}/#pair=`));
    assert.equal(real.host.trustUrl, `http://127.0.0.1:${real.port + 1}`);
  });

  it('is installable with no installability errors, the service worker controlling the app', async () => {
    await page.goto(`${real.origin}/`);
    await page.getByRole('region', { name: 'Pair with your computer' }).waitFor(WAIT);
    assert.equal(await page.evaluate(() => isSecureContext), true);
    const install = await installability(page);
    assert.equal(install.manifestUrl, `${real.origin}/manifest.webmanifest`);
    assert.deepEqual(install.manifestErrors, []);
    assert.deepEqual(install.installabilityErrors, []);
    assert.equal(await page.getByRole('heading', { name: /not secure/ }).count(), 0, 'no plain-HTTP guidance on a secure page');
    assert.equal(await page.getByRole('button', { name: 'Scan QR' }).isEnabled(), true, 'the in-app camera is allowed');
  });

  it('pairs inside it from the pairing link, approved at the host, and lands on Sessions', async () => {
    const offer = real.host.relay.newOffer();
    page = await pairFromLink(context, real, offer.link);
    assert.equal(new URL(page.url()).origin, real.origin);
    assert.equal(await page.evaluate(() => navigator.serviceWorker.controller !== null), true);
    assert.equal(real.host.relay.devices.list().length, 1);
    await screenshot(page, 'tls-app-pixel7-sessions');
  });

  it('runs a task over the secure socket', async () => {
    await runTask(page, 12);
  });

  it('the service worker leaves the host’s own pages to the host, and keeps the guides', async () => {
    const p = await context.newPage();
    await p.goto(`${real.origin}/`);
    await p.waitForFunction(() => navigator.serviceWorker.controller !== null, undefined, WAIT);
    const admin = await p.goto(`${real.origin}/admin`);
    assert.equal(admin?.status(), 403, 'the host answered (the admin page refuses a phone), not the cached app');
    assert.equal(admin?.fromServiceWorker(), false);
    await p.goto(`${real.origin}/troubleshooting#pairexpired`);
    await p.getByRole('heading', { name: 'pair.expired' }).waitFor(WAIT);
    await p.goto(`${real.origin}/trust`);
    await p.getByRole('heading', { name: 'HTTPS on your home network' }).waitFor(WAIT);
    await p.close();
  });

  it('its plain-HTTP port serves the trust page and the CA, and nothing else', async () => {
    const trust = real.host.trustUrl!;
    const guide = await context.newPage();
    await guide.goto(`http://${NAME}:${real.port + 1}/`);
    await guide.getByRole('heading', { name: 'Trust this computer' }).waitFor(WAIT);
    const first = guide.locator('ul.links a').first();
    assert.equal(await first.getAttribute('href'), `${real.origin}/`, 'sends the person on to the stable HTTPS name');
    await first.click();
    await guide.getByRole('region', { name: 'Sessions' }).waitFor(WAIT);
    assert.equal(await guide.evaluate(() => isSecureContext), true);
    await guide.close();

    const ca = await fetch(`${trust}/ca.crt`);
    assert.equal(ca.headers.get('content-type'), CA_DER_TYPE);
    const served = new X509Certificate(Buffer.from(await ca.arrayBuffer()));
    assert.equal(served.fingerprint256, new X509Certificate(await readFile(join(real.dataDir, 'tls', 'ca.crt'))).fingerprint256);
    for (const path of ['/index.html', '/sw.js', '/manifest.webmanifest', '/relay', '/healthz', '/trust', '/troubleshooting', '/admin', '/metrics', '/tls/ca.key']) {
      const r = await fetch(`${trust}${path}`, { redirect: 'manual' });
      assert.equal(r.status, 302, path);
      assert.equal(r.headers.get('location'), '/', path);
    }
    assert.equal((await fetch(`${trust}/`, { method: 'POST' })).status, 404);
  });

  it('ran without script errors', () => {
    assert.deepEqual(pageErrors, []);
  });
});

describe(`the app from the real host over plain HTTP at ${NAME}`, { timeout: 180_000 }, () => {
  let real: AppHost;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  const pageErrors: string[] = [];

  before(async () => {
    [real, browser] = await Promise.all([startStableHost({ tls: false }), launchChromium({ args: [RESOLVE] })]);
    context = await browser.newContext({ ...PHONES.pixel7 });
    context.on('weberror', (err) => pageErrors.push(String(err.error())));
  });

  after(async () => {
    await browser?.close();
    await real?.close();
  });

  it('pairs from the pairing link, and says what plain HTTP takes away with a link to the guide', async () => {
    const offer = real.host.relay.newOffer();
    assert.ok(offer.link.startsWith(`${real.origin}/#pair=`));
    page = await pairFromLink(context, real, offer.link);
    assert.deepEqual(await page.evaluate(() => ({ secure: isSecureContext, serviceWorker: 'serviceWorker' in navigator })), { secure: false, serviceWorker: false });
    const note = page.getByRole('region', { name: 'This page is not secure (plain HTTP)' });
    await note.waitFor(WAIT);
    for (const missing of ['installing the app on your home screen', 'opening it offline', 'scanning QR codes with the camera inside the app']) {
      await note.getByText(missing).waitFor(WAIT);
    }
    assert.equal(await note.getByRole('link', { name: 'Set up HTTPS for your computer' }).getAttribute('href'), '/trust');
    await screenshot(page, 'tls-app-pixel7-plain-sessions');
  });

  it('runs a task on the real runtime', async () => {
    await runTask(page, 20);
    await screenshot(page, 'tls-app-pixel7-plain-session');
  });

  it('the guide it links to is served by the host: how to get HTTPS, or to stay on plain HTTP', async () => {
    await page.getByRole('link', { name: 'Settings' }).click();
    const note = page.getByRole('region', { name: 'This page is not secure (plain HTTP)' });
    await note.getByRole('link', { name: 'Set up HTTPS for your computer' }).click();
    await page.getByRole('heading', { name: 'HTTPS on your home network', level: 1 }).waitFor(WAIT);
    assert.equal(new URL(page.url()).pathname, '/trust');
    await page.getByText('npm start -- tls setup').first().waitFor(WAIT);
    for (const route of ['Built-in certificate authority', 'Your own certificate', 'Plain HTTP']) {
      await page.getByRole('heading', { name: route, exact: true }).waitFor(WAIT);
    }
    await screenshot(page, 'tls-app-pixel7-trust-guide');
    await page.goto(`${real.origin}/troubleshooting#certificate-not-trusted`);
    await page.getByRole('heading', { name: 'Certificate not trusted' }).waitFor(WAIT);
    await page.getByRole('link', { name: 'Back to the app' }).click();
    await page.getByRole('region', { name: 'Sessions' }).waitFor(WAIT);
  });

  it('a pairing link that reaches the app at another address offers the stable one, and pairs there', async () => {
    const devices = real.host.relay.devices.list().length;
    const offer = real.host.relay.newOffer();
    const p = await context.newPage();
    await p.goto(offer.link.replace(real.origin, `http://${ALIAS}:${real.port}`));
    await p.getByRole('heading', { name: /Open the app at .* own address/ }).waitFor(WAIT);
    await p.getByText(`but the app is open at ${ALIAS}:${real.port}`, { exact: false }).waitFor(WAIT);
    assert.deepEqual(real.host.relay.approvals.list(), [], 'the offer is not used yet');
    await screenshot(p, 'tls-app-pixel7-pair-elsewhere');
    const open = p.getByRole('link', { name: `Open ${NAME}:${real.port}` });
    assert.ok((await open.getAttribute('href'))!.startsWith(`${real.origin}/#pair=`));
    await open.click();
    const approval = await real.nextApproval();
    await p.getByText(spaced(approval.code)).waitFor(WAIT);
    assert.equal(new URL(p.url()).origin, real.origin);
    real.host.relay.approvals.approve(approval.id);
    await p.getByRole('region', { name: 'Sessions' }).waitFor(WAIT);
    assert.equal(real.host.relay.devices.list().length, devices + 1);
    await p.close();
  });

  it('paired at an address the host does not list, the app says so and links to the stable one', async () => {
    const offer = real.host.relay.newOffer();
    const p = await context.newPage();
    await p.goto(offer.link.replace(real.origin, `http://${ALIAS}:${real.port}`));
    await p.getByRole('button', { name: 'Pair here anyway' }).click();
    const approval = await real.nextApproval();
    await p.getByText(spaced(approval.code)).waitFor(WAIT);
    real.host.relay.approvals.approve(approval.id);
    await p.getByRole('region', { name: 'Sessions' }).waitFor(WAIT);
    assert.equal(new URL(p.url()).origin, `http://${ALIAS}:${real.port}`);
    const note = p.getByRole('note', { name: 'Another address' });
    await note.getByText(`The app is open at ${ALIAS}:${real.port}`, { exact: false }).waitFor(WAIT);
    assert.equal(await note.getByRole('link', { name: `${NAME}:${real.port}` }).getAttribute('href'), `${real.origin}/#/pair`);
    await screenshot(p, 'tls-app-pixel7-unlisted-origin');
    // The host's own addresses never get the note.
    assert.equal(await page.getByRole('note', { name: 'Another address' }).count(), 0);
    await p.close();
  });

  it('ran without script errors', () => {
    assert.deepEqual(pageErrors, []);
  });
});
