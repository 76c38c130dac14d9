/**
 * The health panel's figures against the REAL host and the REAL OpenCode runtime (fake model),
 * in Chromium at a phone's size: after a task that finishes, one whose command is denied and one
 * that is stopped, the chart's sentence for today and the headline figures say what the host's
 * own `metrics.snapshot()` says; a host run with `--no-metrics` shows that recording is off.
 * Screenshots go to test-results/screenshots/.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, BrowserContext, Locator, Page } from 'playwright';
import type { MetricsSnapshot } from '../shared/protocol/metrics.ts';
import { scriptedText } from './fixtures/fake-model.ts';
import { startAppHost, type AppHost } from './fixtures/app-host.ts';
import { PHONES, launchChromium, screenshot } from './browser.ts';

// Generous: five helpers share two cores here, and each step waits on the real runtime.
const WAIT = { timeout: 120_000 };

/** Pairs a fresh page from an offer link, approved on the host, and waits for the sessions screen. */
async function pair(app: AppHost, context: BrowserContext): Promise<Page> {
  const offer = app.host.relay.newOffer();
  const page = await context.newPage();
  await page.goto(offer.link);
  const approval = await app.nextApproval();
  assert.ok(app.host.relay.approvals.approve(approval.id));
  await page.getByRole('region', { name: 'Sessions' }).waitFor(WAIT);
  await page.getByRole('status').filter({ hasText: 'Connected' }).waitFor(WAIT);
  return page;
}

/** The `<dd>` after the `<dt>` named `term`. */
const figure = (panel: Locator, term: string) => panel.locator(`dt:text-is("${term}") + dd`);

/** Resolves once every task the runtime started has ended, so the host's counts stop moving. */
async function settled(app: AppHost, atLeast: { started: number; aborted: number }): Promise<MetricsSnapshot> {
  for (let i = 0; i < 1800; i++) {
    const s = app.host.metrics.snapshot();
    const c = s.counters;
    const ended = c.tasks_succeeded_total.total + c.tasks_failed_total.total + c.tasks_aborted_total.total;
    if (c.tasks_started_total.total >= atLeast.started && c.tasks_aborted_total.total >= atLeast.aborted && ended === c.tasks_started_total.total) return s;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`the host's task counters did not settle: ${JSON.stringify(app.host.metrics.snapshot().counters)}`);
}

describe('the health panel with a host that records metrics', { timeout: 900_000 }, () => {
  let app: AppHost;
  let browser: Browser;
  let page: Page;
  const pageErrors: string[] = [];

  before(async () => {
    [app, browser] = await Promise.all([startAppHost({ fakeModel: { chunkDelayMs: 15, slowDelayMs: 150 } }), launchChromium()]);
    const context = await browser.newContext({ ...PHONES.pixel7 });
    context.on('weberror', (err) => pageErrors.push(String(err.error())));
    page = await pair(app, context);
  });

  after(async () => {
    await browser?.close();
    await app?.close();
  });

  it('runs a task that finishes, one whose command is denied, and one that is stopped', async () => {
    await page.getByRole('textbox', { name: 'New task' }).fill('Count for me [text:5]');
    await page.getByRole('button', { name: 'Start task' }).click();
    const conversation = page.getByRole('list', { name: 'Conversation' });
    await conversation.getByText(scriptedText(5).trim()).waitFor(WAIT);
    await page.getByRole('status').filter({ hasText: 'Idle' }).waitFor(WAIT);

    await page.getByRole('textbox', { name: 'Follow-up' }).fill('[bash:echo never]');
    await page.getByRole('button', { name: 'Send' }).click();
    const sheet = page.getByRole('dialog', { name: 'Allow this command?' });
    await sheet.getByRole('button', { name: 'Deny' }).click();
    await conversation.getByText('Denied', { exact: true }).waitFor(WAIT);
    await page
      .getByRole('status')
      .filter({ hasText: /Idle|Failed/ })
      .waitFor(WAIT);

    await page.getByRole('link', { name: 'All sessions' }).click();
    await page.getByRole('textbox', { name: 'New task' }).fill('Take your time [slow]');
    await page.getByRole('button', { name: 'Start task' }).click();
    await page.getByRole('list', { name: 'Conversation' }).getByText('w3 ').waitFor(WAIT);
    await page.getByRole('button', { name: 'Stop' }).click();
    await page.getByRole('list', { name: 'Conversation' }).getByText('Stopped.').waitFor(WAIT);
  });

  it("shows today's tasks and the headline figures exactly as the host counted them", async () => {
    const before = await settled(app, { started: 3, aborted: 1 });
    await page.getByRole('link', { name: 'Settings' }).click();
    const panel = page.getByRole('region', { name: 'Activity on this computer' });
    await panel.getByText(/^Updated /).waitFor(WAIT);
    const host = app.host.metrics.snapshot();
    assert.deepEqual(host.counters, before.counters, 'nothing was counted while the panel loaded');
    const c = host.counters;

    const chart = panel.getByRole('list', { name: 'Tasks in the last 7 days' });
    assert.equal(await chart.getByRole('listitem').count(), 7);
    const today = host.daily.at(-1)!;
    const [y, m, d] = today.date.split('-').map(Number) as [number, number, number];
    const label = new Date(y, m - 1, d).toLocaleDateString('en-GB', { weekday: 'short', day: 'numeric', month: 'short' });
    // What a screen reader gets for the day (the bars, count and weekday are aria-hidden).
    const text = await chart.getByRole('listitem').last().ariaSnapshot();
    const said = /^- listitem: "?(\w{3} \d{1,2} \w{3}) \(today\): (\d+) tasks?, (\d+) failed(?:, (\d+) stopped)?(?:, (\d+) connection failures?)?"?$/.exec(text.trim());
    assert.ok(said, `today's sentence reads as expected: ${JSON.stringify(text)}`);
    assert.equal(said[1], label);
    assert.equal(Number(said[2]), today.counts.tasks_started_total);
    assert.equal(Number(said[3]), today.counts.tasks_failed_total);
    assert.equal(Number(said[4] ?? 0), today.counts.tasks_aborted_total);
    assert.equal(Number(said[5] ?? 0), today.counts.connection_failures_total);
    assert.ok(today.counts.tasks_started_total >= 3 && today.counts.tasks_aborted_total >= 1);

    const tasks = await figure(panel, 'Tasks').innerText();
    assert.ok(tasks.startsWith(`${c.tasks_started_total.total} started, ${c.tasks_succeeded_total.total} finished, ${c.tasks_failed_total.total} failed`), tasks);
    assert.ok(tasks.endsWith(`, ${c.tasks_aborted_total.total} stopped`), tasks);
    assert.equal(await figure(panel, 'Connections').innerText(), `${c.connections_opened_total.total} opened, ${host.gauges.open_connections} open now`);
    const failures = await figure(panel, 'Connection failures').innerText();
    if (c.connection_failures_total.total) assert.ok(failures.startsWith(`${c.connection_failures_total.total}: `), failures);
    else assert.equal(failures, 'None');
    assert.equal(await figure(panel, 'Pairing attempts').innerText(), `${c.pairing_attempts_total.total}: ${c.pairing_attempts_total.total} approved`);
    assert.equal(await figure(panel, 'Permission prompts').innerText(), String(c.permission_prompts_total.total));
    assert.ok(c.permission_prompts_total.total >= 1);
    const denied = c.permission_answers_total.series.find((s) => s.labels.answer === 'reject')?.value;
    assert.equal(await figure(panel, 'Permission answers').innerText(), `${c.permission_answers_total.total}: ${denied} denied`);
    assert.ok((await figure(panel, 'Reconnects').innerText()).startsWith(String(c.reconnects_total.total)));
    assert.equal(await figure(panel, 'Counting since').count(), 1);

    const small = await panel.evaluate((el) => [...el.querySelectorAll('button')].filter((b) => b.getBoundingClientRect().height < 44).map((b) => b.textContent));
    assert.deepEqual(small, [], 'every button in the panel is a 44 px touch target');
    await panel.scrollIntoViewIfNeeded();
    await screenshot(page, 'metrics-pixel7-health');
    await page.emulateMedia({ colorScheme: 'dark' });
    await screenshot(page, 'metrics-pixel7-health-dark');
    await page.emulateMedia({ colorScheme: 'light' });
  });

  it('fetches again on Refresh, and keeps the last figures, saying how old, when the computer is out of reach', async () => {
    const panel = page.getByRole('region', { name: 'Activity on this computer' });
    const prompts = figure(panel, 'Permission prompts');
    const shown = Number(await prompts.innerText());
    assert.equal(shown, app.host.metrics.snapshot().counters.permission_prompts_total.total);
    // Counted on the host behind the panel's back: only a new request can show it.
    app.host.metrics.inc('permission_prompts_total');
    await panel.getByRole('button', { name: 'Refresh figures' }).click();
    await prompts.filter({ hasText: new RegExp(`^${shown + 1}$`) }).waitFor(WAIT);

    // New relay sockets go nowhere; Reconnect now drops the working one.
    await page.context().routeWebSocket(/\/relay$/, () => {});
    try {
      await page.getByRole('region', { name: 'Connection health' }).getByRole('button', { name: 'Reconnect now' }).click();
      await panel.getByText(/^Saved figures from (just now|\d+ min ago): this phone cannot reach the computer right now\.$/).waitFor(WAIT);
      await panel.getByRole('button', { name: 'Refresh figures' }).click();
      await panel
        .getByRole('alert')
        .filter({ hasText: /^Not connected to .+ right now/ })
        .waitFor(WAIT);
      assert.equal(await prompts.innerText(), String(shown + 1), 'the last figures stay');
      await panel.scrollIntoViewIfNeeded();
      await screenshot(page, 'metrics-pixel7-health-offline');
    } finally {
      await page.context().unrouteAll();
    }
  });

  it('ran without script errors', () => {
    assert.deepEqual(pageErrors, []);
  });
});

describe('the health panel with a host run with --no-metrics', { timeout: 400_000 }, () => {
  let app: AppHost;
  let browser: Browser;

  before(async () => {
    [app, browser] = await Promise.all([startAppHost({ metrics: false }), launchChromium()]);
  });

  after(async () => {
    await browser?.close();
    await app?.close();
  });

  it('says recording is off and how to turn it on', async () => {
    assert.equal(app.host.metrics.snapshot().enabled, false);
    const page = await pair(app, await browser.newContext({ ...PHONES.pixel7, colorScheme: 'dark' }));
    await page.getByRole('link', { name: 'Settings' }).click();
    const panel = page.getByRole('region', { name: 'Activity on this computer' });
    await panel.getByText(/^Recording is off: .*--no-metrics.*To turn it on, start it again without that option/).waitFor(WAIT);
    assert.equal(await panel.getByRole('list', { name: 'Tasks in the last 7 days' }).count(), 0, 'no chart of nothing');
    assert.equal(await figure(panel, 'Tasks').count(), 0);
    await panel.scrollIntoViewIfNeeded();
    await screenshot(page, 'metrics-pixel7-recording-off-dark');
  });
});
