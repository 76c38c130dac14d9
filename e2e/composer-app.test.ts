/**
 * The composer drives the whole agent (issue 15, items 2 and 3), in Chromium at Pixel 7 size
 * against the real host and the real OpenCode runtime on the fake model: it offers the runtime's
 * primary agents and the configured models with their variants (the defaults marked); a task
 * runs with the agent, model and variant chosen, as the model server sees; the choice is
 * remembered for the session across a reload; typing `/` lists the runtime's commands, the
 * workspace's own among them, and choosing one runs it through the runtime's command route.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, Page } from 'playwright';
import { startAppHost, type AppHost } from './fixtures/app-host.ts';
import { PHONES, launchChromium, screenshot } from './browser.ts';
import { scriptedText } from './fixtures/fake-model.ts';
import { until } from './fixtures/poll.ts';

const WAIT = { timeout: 60_000 };

describe('the composer: agent, model, variant and commands', { timeout: 300_000 }, () => {
  let app: AppHost;
  let browser: Browser;
  let page: Page;
  const pageErrors: string[] = [];

  before(async () => {
    [app, browser] = await Promise.all([startAppHost(), launchChromium()]);
    const context = await browser.newContext({ ...PHONES.pixel7 });
    context.on('weberror', (err) => pageErrors.push(String(err.error())));
    page = await context.newPage();
    await page.goto(app.host.relay.newOffer().link);
    app.host.relay.approvals.approve((await app.nextApproval()).id, ['read', 'run', 'approve']);
    await page.getByRole('region', { name: 'Sessions' }).waitFor(WAIT);
    await page.getByRole('status').filter({ hasText: 'Connected' }).waitFor(WAIT);
    await page.getByRole('textbox', { name: 'New task' }).fill('First [text:2]');
    await page.getByRole('button', { name: 'Start task' }).click();
    await page.getByRole('list', { name: 'Conversation' }).getByText(scriptedText(2).trim()).waitFor(WAIT);
  });

  after(async () => {
    await browser?.close();
    await app?.close();
  });

  /** The chat requests of turns (not the runtime's title requests), newest last. */
  const turns = () => app.sandbox.fakeModel.requests.filter((r) => r.kind !== 'title');

  it('offers the primary agents and the models with the defaults marked; a task runs with the chosen agent, model and variant', async () => {
    const agent = page.getByRole('combobox', { name: 'Agent' });
    const model = page.getByRole('combobox', { name: 'Model' });
    await agent.waitFor(WAIT);
    const agents = await agent.locator('option').allInnerTexts();
    assert.ok(agents.includes('build · default') && agents.includes('plan'), `primary agents offered: ${agents.join(', ')}`);
    assert.ok(!agents.some((a) => /explore|general|title|compaction/.test(a)), 'no subagent or hidden agent');
    const models = await model.locator('option').allInnerTexts();
    assert.ok(models.includes('Fake model · default') && models.includes('Fake smart model'), `models offered: ${models.join(', ')}`);
    assert.equal(await page.getByRole('combobox', { name: 'Effort' }).count(), 0, 'the default model has no variants');

    await agent.selectOption('plan');
    await model.selectOption('fake/fake-smart');
    const effort = page.getByRole('combobox', { name: 'Effort' });
    // The runtime adds the reasoning efforts it knows to the config's own.
    const efforts = await effort.locator('option').allInnerTexts();
    assert.ok(efforts[0] === 'Default' && efforts.includes('low') && efforts.includes('high'), `variants offered: ${efforts.join(', ')}`);
    await effort.selectOption('high');
    await screenshot(page, 'composer-pixel7-choices');

    const before = turns().length;
    await page.getByRole('textbox', { name: 'Follow-up' }).fill('Chosen [text:3]');
    await page.getByRole('button', { name: 'Send' }).click();
    await page.getByRole('list', { name: 'Conversation' }).getByText(scriptedText(3).trim()).waitFor(WAIT);
    const sent = turns()
      .slice(before)
      .find((r) => r.lastUserText.includes('Chosen'));
    assert.ok(sent, 'the model server got the turn');
    assert.equal(sent.body.model, 'fake-smart', 'the chosen model');
    assert.equal(sent.body.reasoning_effort, 'high', 'the chosen variant');
    const system = JSON.stringify((sent.body.messages as unknown[])[0]);
    assert.match(system, /plan/i, "the plan agent's instructions");

    // Remembered for this session on the phone.
    await page.reload();
    await page.getByRole('combobox', { name: 'Model' }).waitFor(WAIT);
    assert.equal(await page.getByRole('combobox', { name: 'Agent' }).inputValue(), 'plan');
    assert.equal(await page.getByRole('combobox', { name: 'Model' }).inputValue(), 'fake/fake-smart');
    assert.equal(await page.getByRole('combobox', { name: 'Effort' }).inputValue(), 'high');
  });

  it('lists the runtime\'s commands on "/", the workspace\'s own among them, and runs the chosen one once', async () => {
    const field = page.getByRole('textbox', { name: 'Follow-up' });
    await field.fill('/');
    const commands = page.getByRole('list', { name: 'Commands' });
    await commands.waitFor(WAIT);
    await commands.getByRole('button', { name: /\/init/ }).waitFor(WAIT);
    await field.fill('/gr');
    const greet = commands.getByRole('button', { name: /\/greet/ });
    assert.match(await greet.innerText(), /Greet someone by name/);
    assert.equal(await commands.getByRole('button').count(), 1, 'filtered by what is typed');
    await screenshot(page, 'composer-pixel7-commands');
    await greet.click();
    assert.equal(await field.inputValue(), '/greet ');
    await field.pressSequentially('Ada');

    const before = turns().length;
    await page.getByRole('button', { name: 'Send' }).click();
    // The command's template, with its arguments, is what the model is asked.
    await until('the command to reach the model', () =>
      turns()
        .slice(before)
        .some((r) => r.lastUserText.includes('Say hello to Ada')),
    );
    await page.getByRole('list', { name: 'Conversation' }).getByText(scriptedText(2).trim()).last().waitFor(WAIT);
    await page.getByRole('status').filter({ hasText: 'Idle' }).waitFor(WAIT);
    const ran = turns()
      .slice(before)
      .filter((r) => r.lastUserText.includes('Say hello to Ada') && r.kind === 'text');
    assert.equal(ran.length, 1, 'run once');
    assert.equal(ran[0]!.body.model, 'fake-smart', "with the session's chosen model");
  });

  it('ran without script errors', () => {
    assert.deepEqual(pageErrors, []);
  });
});
