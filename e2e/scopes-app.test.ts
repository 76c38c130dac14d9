/**
 * The phone app hides what a device may not do (issue 7), against the REAL host and runtime: a
 * device approved read-only sees sessions and their progress but no composer, no "Start task" and
 * no "Stop", and a note saying what it may do and how to change that; a device approved without
 * `approve` is told so; a full device sees every control.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, Page } from 'playwright';
import type { Scope } from '../shared/protocol/messages.ts';
import { startAppHost, type AppHost } from './fixtures/app-host.ts';
import { PHONES, launchChromium, screenshot } from './browser.ts';

const WAIT = { timeout: 60_000 };

describe('controls follow the device’s scopes', { timeout: 300_000 }, () => {
  let app: AppHost;
  let browser: Browser;
  let full: Page;
  let reader: Page;
  let sessionId = '';
  const pageErrors: string[] = [];

  before(async () => {
    [app, browser] = await Promise.all([startAppHost({ fakeModel: { slowDelayMs: 150 } }), launchChromium()]);
  });

  after(async () => {
    await browser?.close();
    await app?.close();
  });

  /** A phone of its own (own storage), paired and approved with `scopes`. */
  async function pairedPhone(scopes: Scope[]): Promise<Page> {
    const context = await browser.newContext({ ...PHONES.pixel7 });
    context.on('weberror', (err) => pageErrors.push(String(err.error())));
    const page = await context.newPage();
    await page.goto(app.host.relay.newOffer().link);
    app.host.relay.approvals.approve((await app.nextApproval()).id, scopes);
    await page.getByRole('region', { name: 'Sessions' }).waitFor(WAIT);
    await page
      .getByRole('status')
      .filter({ hasText: /^Connected/ })
      .waitFor(WAIT);
    return page;
  }

  const note = (page: Page) => page.getByRole('note', { name: 'What this phone may do' });

  it('a full device sees the composer, Start task and Stop, and no note', async () => {
    full = await pairedPhone(['read', 'run', 'approve']);
    await full.getByRole('textbox', { name: 'New task' }).fill('Take your time [slow]');
    await full.getByRole('button', { name: 'Start task' }).click();
    const conversation = full.getByRole('list', { name: 'Conversation' });
    await conversation.getByText('Take your time [slow]').waitFor(WAIT);
    // The runtime's first turn is slow to start on a loaded machine.
    await conversation.getByText('w3 ').waitFor({ timeout: 90_000 });
    sessionId = decodeURIComponent(new URL(full.url()).hash.replace('#/session/', ''));
    await full.getByRole('button', { name: 'Stop' }).waitFor(WAIT);
    await full.getByRole('textbox', { name: 'Follow-up' }).waitFor(WAIT);
    await full.getByRole('button', { name: 'Send' }).waitFor(WAIT);
    assert.equal(await note(full).count(), 0);
  });

  it('a read-only device sees the running session but no composer, Start task or Stop, and the note', async () => {
    reader = await pairedPhone(['read']);
    // The list learns statuses from events, so a device that connects mid-task opens the session to see it.
    await reader.getByRole('link', { name: /Fake title|New session/ }).waitFor(WAIT);
    await note(reader).getByText('may only read sessions').waitFor(WAIT);
    await note(reader).getByText('npm start -- devices').waitFor(WAIT);
    assert.equal(await reader.getByRole('textbox', { name: 'New task' }).count(), 0);
    assert.equal(await reader.getByRole('button', { name: 'Start task' }).count(), 0);
    await screenshot(reader, 'scopes-pixel7-read-only-sessions');

    await reader.goto(`${reader.url().split('#')[0]}#/session/${sessionId}`);
    const conversation = reader.getByRole('list', { name: 'Conversation' });
    await conversation.getByText('Take your time [slow]').waitFor(WAIT);
    await reader.getByRole('status').filter({ hasText: 'Running' }).waitFor(WAIT);
    await note(reader).waitFor(WAIT);
    assert.equal(await reader.getByRole('button', { name: 'Stop' }).count(), 0, 'no Stop while the task runs');
    assert.equal(await reader.getByRole('textbox', { name: 'Follow-up' }).count(), 0);
    assert.equal(await reader.getByRole('button', { name: 'Send' }).count(), 0);
    await screenshot(reader, 'scopes-pixel7-read-only-session');

    // The full device stops it; the reader sees the outcome.
    await full.getByRole('button', { name: 'Stop' }).click();
    await conversation.getByText('Stopped.').waitFor(WAIT);
  });

  it('a device that may run tasks but not answer approvals keeps its composer and is told about approvals', async () => {
    const runner = await pairedPhone(['read', 'run']);
    await runner.getByRole('textbox', { name: 'New task' }).waitFor(WAIT);
    await note(runner).getByText('not answer approvals').waitFor(WAIT);
  });

  it('ran without script errors', () => {
    assert.deepEqual(pageErrors, []);
  });
});
