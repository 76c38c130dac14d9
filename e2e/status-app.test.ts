/**
 * Honest status and a fast return (issue 14), in the phone app: Chromium at Pixel 7 size, the real
 * host and the real OpenCode runtime on the fake model. The host stopped and started again on the
 * same port and data directory: the narrow status pill says why and what happens next, Settings
 * gives the runtime as last known with its age, a tap on the pill tries at once, and the phone is
 * back as the retry schedule says (probes while the host is away, one handshake once it answers),
 * with the time from the host listening to the phone connected printed. And: the pill while
 * pairing, and a permission nobody answers counting down and then reading "timed out".
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright';
import { loadOrCreateIdentity } from '../host/identity.ts';
import { openDeviceRegistry } from '../host/devices/registry.ts';
import { silentLogger } from '../host/log.ts';
import { PHONES, ensureBuilt, launchChromium, screenshot } from './browser.ts';
import { startAppHost, type AppHost } from './fixtures/app-host.ts';
import { fileCleanup } from './fixtures/cleanup.ts';
import { openPairedApp, registerPhone } from './fixtures/paired-phone.ts';
import { connectedAt, firstAccept, watchConnected } from './fixtures/reconnect-timing.ts';
import { startRuntimeFixture } from './fixtures/runtime.ts';
import { freePort, spawnHost } from './fixtures/spawn-host.ts';
import { until } from './fixtures/poll.ts';

const { cleanups } = fileCleanup('relay-status-app-');
const WAIT = { timeout: 60_000 };
/** The host's permission timeout in the second part: long enough to see the countdown first. */
const TIMEOUT_SECONDS = 20;

let browser: Browser;
before(async () => {
  await ensureBuilt();
  browser = await launchChromium();
  cleanups.push(() => browser.close());
});

async function phone(): Promise<BrowserContext> {
  const context = await browser.newContext({ ...PHONES.pixel7 });
  cleanups.push(() => context.close());
  return context;
}

const pill = (page: Page) => page.locator('.pill');

describe('the host stopped and started again on the same port and data directory', { timeout: 300_000 }, () => {
  it('the pill says why and what next, Settings says last known, a tap retries, and the phone is back as the schedule says', async () => {
    const runtime = await startRuntimeFixture();
    cleanups.push(() => runtime.stop());
    const dataDir = join(runtime.root, 'relay-data');
    const identity = loadOrCreateIdentity(dataDir, silentLogger);
    const registry = openDeviceRegistry({ dataDir, log: silentLogger });
    const port = await freePort();
    const origin = `http://127.0.0.1:${port}`;
    const record = registerPhone({ registry, host: identity, addresses: [origin], workspace: runtime.workspace });
    registry.close();
    let host = await spawnHost(runtime, dataDir, port, cleanups);

    const page = await openPairedApp(await phone(), origin, record);
    await page
      .getByRole('status')
      .filter({ hasText: /^Connected/ })
      .waitFor(WAIT);
    /** Reachability probes (GET /healthz) and relay sockets (handshakes) the page made. */
    let probes = 0;
    let sockets = 0;
    page.on('request', (r) => void (new URL(r.url()).pathname === '/healthz' && probes++));
    page.on('websocket', (ws) => void (new URL(ws.url()).pathname === '/relay' && sockets++));

    host.process.kill('SIGTERM');
    await host.exited;

    // On a narrow screen the reason is shown, not hidden: why, and that it is trying again.
    const reason = pill(page).locator('.pill__reason');
    await reason.filter({ hasText: 'Cannot reach Desk, trying again…' }).waitFor(WAIT);
    const box = await reason.boundingBox();
    const viewport = page.viewportSize()!;
    assert.ok(box && box.width > 100 && box.x >= 0 && box.x + box.width <= viewport.width, `the reason is on screen (${JSON.stringify(box)})`);
    await screenshot(page, 'status-pixel7-host-away');

    // Settings gives what the host last said as last known, with its age.
    await page.getByRole('link', { name: 'Settings' }).click();
    const agent = page.locator('dt', { hasText: 'Coding agent' }).locator('+ dd');
    await agent.filter({ hasText: /^Ready — just now \(last known\)/ }).waitFor(WAIT);
    await page.locator('dt', { hasText: 'Reachable' }).locator('+ dd').filter({ hasText: 'No: Cannot reach Desk, trying again…' }).waitFor(WAIT);
    await screenshot(page, 'status-pixel7-settings-disconnected');
    await page.getByRole('link', { name: 'Relay' }).click();

    // A tap on the pill tries at once: a handshake although no probe was answered.
    const before = sockets;
    await pill(page).tap();
    await until('a handshake right after the tap', () => sockets > before, 10_000, 20);

    // The host comes back after a few seconds on the same port and data directory.
    await new Promise((r) => setTimeout(r, 2_000));
    const downFrom = Date.now();
    const probesBefore = probes;
    const socketsBefore = sockets;
    await watchConnected(page);
    await new Promise((r) => setTimeout(r, 3_000));
    const listening = firstAccept(port);
    cleanups.push(() => listening.stop());
    host = await spawnHost(runtime, dataDir, port, cleanups);
    const listenedAt = await listening.at;
    const backAt = await connectedAt(page);
    const downMs = listenedAt - downFrom;
    // Playwright hears of requests a little after the page made them: count once things are quiet
    // (connected, the link neither probes nor shakes hands any more).
    await new Promise((r) => setTimeout(r, 1_000));
    const probed = probes - probesBefore;
    const handshakes = sockets - socketsBefore;
    console.log(`host listening → phone connected: ${backAt - listenedAt} ms (${probed} probes over ${downMs} ms away, ${handshakes} handshake)`);

    // The schedule: a probe every 1–2 s while away (timers in a loaded machine may only run late),
    // and one handshake, once a probe got an answer.
    assert.ok(probed >= Math.floor(downMs / 4000) && probed <= Math.ceil(downMs / 1000) + 2, `${probed} probes in ${downMs} ms away`);
    assert.equal(handshakes, 1, 'one handshake, after the host answered a probe');
    assert.ok(backAt >= listenedAt, 'connected only once the host listened');
  });
});

describe('pairing, and a permission nobody answers', { timeout: 300_000 }, () => {
  let app: AppHost;
  let page: Page;
  before(async () => {
    app = await startAppHost({ prepare: async (dir) => writeFileSync(join(dir, 'config.json'), JSON.stringify({ permissionTimeoutSeconds: TIMEOUT_SECONDS })) });
    cleanups.push(() => app.close());
  });
  after(() => page?.close());

  it('while pairing, the pill says Pairing, never Offline', async () => {
    const offer = app.host.relay.newOffer();
    page = await (await phone()).newPage();
    await page.goto(offer.link);
    const approval = await app.nextApproval();
    await page.getByText(`${approval.code.slice(0, 3)} ${approval.code.slice(3)}`).waitFor(WAIT);
    await pill(page).filter({ hasText: 'Pairing' }).waitFor(WAIT);
    assert.doesNotMatch(await pill(page).innerText(), /Offline|Not paired/);
    await screenshot(page, 'status-pixel7-pairing');
    assert.ok(app.host.relay.approvals.approve(approval.id));
    await page
      .getByRole('status')
      .filter({ hasText: /^Connected/ })
      .waitFor(WAIT);
  });

  it('a permission left waiting counts down to the host denying it, then reads timed out, not rejected', async () => {
    await page.getByRole('textbox', { name: 'New task' }).fill('[bash:echo never-runs]');
    await page.getByRole('button', { name: 'Start task' }).click();
    const sheet = page.getByRole('dialog', { name: 'Allow this command?' });
    await sheet.waitFor(WAIT);
    const timer = sheet.getByRole('timer');
    await timer.filter({ hasText: /^If nobody answers, .+ denies it in 0:[0-2]\d\.$/ }).waitFor(WAIT);
    const first = await timer.innerText();
    await until('the countdown to move', async () => (await timer.innerText()) !== first, 5_000, 100);
    await screenshot(page, 'status-pixel7-permission-countdown');

    const timedOut = page.getByRole('dialog', { name: 'This request timed out' });
    await timedOut.waitFor({ timeout: (TIMEOUT_SECONDS + 30) * 1000 });
    await timedOut.getByText(/^Timed out: nobody answered in time, so your computer denied it\./).waitFor(WAIT);
    await screenshot(page, 'status-pixel7-permission-timed-out');
    await timedOut.getByRole('button', { name: 'Dismiss' }).click();
    const conversation = page.getByRole('list', { name: 'Conversation' });
    await conversation.getByText('Timed out', { exact: true }).waitFor(WAIT);
    await conversation.getByText(`Timed out: no one answered within ${TIMEOUT_SECONDS} seconds, so the host denied it.`).waitFor(WAIT);
    assert.equal(await conversation.getByText(/rejected permission/).count(), 0, 'no "the user rejected" for a timeout');
  });
});
