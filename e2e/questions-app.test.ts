/**
 * The agent's questions (OpenCode's `question` tool) on the phone, against the REAL host and
 * runtime with the fake model asking (`[question]`), in Chromium: the sheet with the options and
 * their descriptions, several choices and a typed answer; "Later" leaves a banner and a badge; a
 * reloaded app is asked again; the answer reaches the model in the tool result and the agent
 * continues; the transcript shows the questions and the answers, not JSON; a read-only phone is
 * never asked; a dismissal ends the turn; a question nobody answers counts down and reads timed out.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright';
import type { Scope } from '../shared/protocol/messages.ts';
import { PHONES, launchChromium, screenshot } from './browser.ts';
import { startAppHost, type AppHost } from './fixtures/app-host.ts';
import { QUESTIONS, TOOL_DONE_TEXT, type FakeModelRequest } from './fixtures/fake-model.ts';
import { until } from './fixtures/poll.ts';

const WAIT = { timeout: 60_000 };
/** Long enough to answer in, short enough to watch run out. */
const TIMEOUT_SECONDS = 30;

/** The tool result the model got back, in the request that followed the question. */
function toolResult(request: FakeModelRequest): string {
  const messages = request.body.messages as Array<{ role?: string; content?: unknown }>;
  const last = messages.at(-1);
  return last?.role === 'tool' && typeof last.content === 'string' ? last.content : '';
}

describe('the agent’s questions on the phone', { timeout: 420_000 }, () => {
  let app: AppHost;
  let browser: Browser;
  let phone: Page;
  let reader: Page;
  const pageErrors: string[] = [];

  before(async () => {
    [app, browser] = await Promise.all([
      startAppHost({ prepare: async (dir) => writeFileSync(join(dir, 'config.json'), JSON.stringify({ permissionTimeoutSeconds: TIMEOUT_SECONDS })) }),
      launchChromium(),
    ]);
  });

  after(async () => {
    await browser?.close();
    await app?.close();
    assert.deepEqual(pageErrors, []);
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

  async function startTask(page: Page, text: string): Promise<void> {
    await page.evaluate(() => (location.hash = '#/sessions'));
    await page.getByRole('textbox', { name: 'New task' }).fill(text);
    await page.getByRole('button', { name: 'Start task' }).click();
    await page.getByRole('list', { name: 'Conversation' }).getByText(text).waitFor(WAIT);
  }

  it('a question is answered from the phone and the agent continues with that answer', async () => {
    // One after the other: each takes the next pairing approval.
    phone = await pairedPhone(['read', 'run', 'approve']);
    reader = await pairedPhone(['read']);
    await startTask(phone, 'Plan the work [question]');
    const sessionId = decodeURIComponent(new URL(phone.url()).hash.replace('#/session/', ''));
    await reader.evaluate((id) => (location.hash = `#/session/${encodeURIComponent(id)}`), sessionId);

    const sheet = phone.getByRole('dialog', { name: 'The agent asks you' });
    // The runtime's first turn is slow to start on a loaded machine.
    await sheet.waitFor({ timeout: 90_000 });
    for (const q of QUESTIONS) {
      await sheet.getByRole('group', { name: new RegExp(q.question.replace('?', '\\?')) }).waitFor(WAIT);
      for (const o of q.options) await sheet.getByText(o.description).waitFor(WAIT);
    }
    await sheet.getByText('Choose one or more.').waitFor(WAIT);
    await sheet
      .getByRole('timer')
      .filter({ hasText: /^If nobody answers, .+ dismisses it in 0:[0-3]\d\.$/ })
      .waitFor(WAIT);
    assert.equal(await sheet.getByRole('button', { name: 'Send answer' }).isDisabled(), true, 'nothing chosen yet');
    await screenshot(phone, 'questions-pixel7-sheet');

    // "Later": the sheet closes, a banner and the badge say a question waits.
    await sheet.getByRole('button', { name: 'Decide later' }).click();
    await sheet.waitFor({ state: 'hidden', ...WAIT });
    await phone.getByRole('button', { name: '1 question waiting' }).waitFor(WAIT);
    const banner = phone.getByText(/^The agent asks “Which plan should I follow\?” and 1 more question/);
    await banner.waitFor(WAIT);
    await screenshot(phone, 'questions-pixel7-banner');

    // A read-only phone is never asked: no sheet, no banner, no badge.
    assert.equal(app.host.relay.questions.pending().length, 1);
    assert.equal(await reader.getByRole('dialog').count(), 0);
    assert.equal(await reader.getByRole('button', { name: /question waiting/ }).count(), 0);
    assert.equal(await reader.getByRole('button', { name: 'Answer' }).count(), 0);

    await phone.getByRole('button', { name: 'Answer' }).click();
    await sheet.waitFor(WAIT);
    // Kept across a reconnect: a reloaded app gets it back from the host and asks again.
    await phone.reload();
    await sheet.waitFor(WAIT);
    await sheet.getByRole('radio', { name: /^Refactor/ }).check();
    await sheet.getByRole('checkbox', { name: /^Unit tests/ }).check();
    await sheet.getByRole('textbox', { name: 'Or type your own answer' }).nth(1).fill('Docs too');
    const asked = app.sandbox.fakeModel.requests.length;
    await sheet.getByRole('button', { name: 'Send answer' }).click();
    await sheet.waitFor({ state: 'hidden', ...WAIT });

    // The model's next request carries the answer in the tool result; the agent goes on.
    await until('the model to hear the answer', () => app.sandbox.fakeModel.requests.slice(asked).some((r) => r.kind === 'tool-done'), 60_000);
    const result = toolResult(app.sandbox.fakeModel.requests.slice(asked).find((r) => r.kind === 'tool-done')!);
    assert.match(result, /"Which plan should I follow\?"="Refactor"/);
    assert.match(result, /"Which checks should run afterwards\?"="Unit tests, Docs too"/);
    const conversation = phone.getByRole('list', { name: 'Conversation' });
    await conversation.getByText(TOOL_DONE_TEXT).waitFor(WAIT);

    // The transcript: each question and the answer given, not the tool's JSON; on both phones.
    for (const page of [phone, reader]) {
      const list = page.getByRole('list', { name: 'Conversation' });
      await list.getByText('Answered', { exact: true }).waitFor(WAIT);
      await list.getByText('Which plan should I follow?').waitFor(WAIT);
      await list.getByText('Refactor', { exact: true }).waitFor(WAIT);
      await list.getByText('Unit tests, Docs too', { exact: true }).waitFor(WAIT);
      assert.equal(await list.getByText(/"questions"|"options"/).count(), 0, 'no JSON in the transcript');
    }
    await screenshot(phone, 'questions-pixel7-answered');
    assert.deepEqual(app.host.relay.questions.pending(), []);
  });

  it('dismissing a question ends the turn; the transcript says Dismissed', async () => {
    await startTask(phone, 'Ask me again [question]');
    const sheet = phone.getByRole('dialog', { name: 'The agent asks you' });
    await sheet.waitFor({ timeout: 90_000 });
    const asked = app.sandbox.fakeModel.requests.length;
    await sheet.getByRole('button', { name: 'Dismiss the question' }).click();
    await sheet.waitFor({ state: 'hidden', ...WAIT });
    const conversation = phone.getByRole('list', { name: 'Conversation' });
    await conversation.getByText('Dismissed', { exact: true }).waitFor(WAIT);
    await phone
      .getByRole('button', { name: 'Start task' })
      .or(phone.getByRole('button', { name: 'Send' }))
      .first()
      .waitFor(WAIT);
    assert.equal(app.sandbox.fakeModel.requests.slice(asked).filter((r) => r.kind === 'tool-done').length, 0, 'the model was not called again');
  });

  it('a question nobody answers counts down to the host dismissing it, then reads timed out', async () => {
    await startTask(phone, 'Nobody will answer [question]');
    const sheet = phone.getByRole('dialog', { name: 'The agent asks you' });
    await sheet.waitFor({ timeout: 90_000 });
    const timedOut = phone.getByRole('dialog', { name: 'This question timed out' });
    await timedOut.waitFor({ timeout: (TIMEOUT_SECONDS + 30) * 1000 });
    await timedOut.getByText(/^Timed out: nobody answered in time, so your computer dismissed it/).waitFor(WAIT);
    await screenshot(phone, 'questions-pixel7-timed-out');
    await timedOut.getByRole('button', { name: 'Dismiss' }).click();
    const conversation = phone.getByRole('list', { name: 'Conversation' });
    await conversation.getByText('Timed out', { exact: true }).waitFor(WAIT);
  });
});
