/**
 * The composer drives the whole agent (issue 15, items 2 and 3), in Chromium at Pixel 7 size
 * against the real host and the real OpenCode runtime on the fake model: it offers the runtime's
 * primary agents and the configured models with their variants (the defaults marked); a task
 * runs with the agent, model and variant chosen, as the model server sees; the choice is
 * remembered for the session across a reload; typing `/` lists the runtime's commands, the
 * workspace's own among them, and choosing one runs it through the runtime's command route; a
 * photo is attached (item 4). The new-task composer on the sessions screen offers the same choice,
 * Attach and commands, so a task can start with a choice and a photo, or as a command; its choice
 * is kept for the computer, across reloads.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, Page } from 'playwright';
import { startAppHost, type AppHost } from './fixtures/app-host.ts';
import { PHONES, launchChromium, screenshot } from './browser.ts';
import { scriptedText } from './fixtures/fake-model.ts';
import { until } from './fixtures/poll.ts';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';

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

  it('attaches a photo: made smaller on the phone, refused up front for a model without image input, reaching the model as an image, shown from the host after a reload', async () => {
    // A 4000 × 3000 PNG, as a phone camera's photo might be.
    const png = await photo(page, 4000, 3000);
    assert.deepEqual(pngSize(Buffer.from(png, 'base64')), { width: 4000, height: 3000 });

    await page.getByRole('combobox', { name: 'Model' }).selectOption('fake/fake-model');
    await page.getByLabel('Attach photos or files').setInputFiles({ name: 'photo.png', mimeType: 'image/png', buffer: Buffer.from(png, 'base64') });
    const attached = page.getByRole('list', { name: 'Attached files' });
    await attached.getByText('photo.png').waitFor(WAIT);
    await page.getByRole('alert').filter({ hasText: 'Fake model does not read images' }).waitFor(WAIT);
    await page.getByRole('textbox', { name: 'Follow-up' }).fill('Look at this photo [text:2]');
    assert.equal(await page.getByRole('button', { name: 'Send' }).isDisabled(), true, 'not sent to a model that reads no images');

    await page.getByRole('combobox', { name: 'Model' }).selectOption('fake/fake-smart');
    await screenshot(page, 'composer-pixel7-attachment');
    const before = turns().length;
    await page.getByRole('button', { name: 'Send' }).click();
    const conversation = page.getByRole('list', { name: 'Conversation' });
    await until('the turn to reach the model', () =>
      turns()
        .slice(before)
        .some((r) => r.lastUserText.includes('Look at this photo')),
    ).finally(() => screenshot(page, 'composer-pixel7-attachment-sent'));
    await conversation.getByRole('img', { name: 'Attached: photo.png' }).waitFor(WAIT);
    const sent = turns()
      .slice(before)
      .filter((r) => r.lastUserText.includes('Look at this photo') && r.kind === 'text');
    assert.equal(sent.length, 1, 'sent once');
    const messages = sent[0]!.body.messages as Array<{ role: string; content: unknown }>;
    const content = [...messages].reverse().find((m) => m.role === 'user')!.content as Array<{ type: string; image_url?: { url: string } }>;
    const image = content.find((c) => c.type === 'image_url');
    assert.ok(image?.image_url, `an image part in the model request: ${JSON.stringify(content.map((c) => c.type))}`);
    // What the phone sent, as the host holds it: the longest side made 2,048 px on the phone.
    const stored = (await readdir(join(app.dataDir, 'attachments'))).filter((f) => f.endsWith('.bin'));
    assert.equal(stored.length, 1);
    assert.deepEqual(pngSize(await readFile(join(app.dataDir, 'attachments', stored[0]!))), { width: 2048, height: 1536 });
    // The model gets that picture as an image input. OpenCode 1.18 scales images to at most 2,000 px
    // itself before the provider call, so the model sees it a little smaller, still 4:3.
    const [head, data] = image.image_url.url.split(',');
    assert.equal(head, 'data:image/png;base64');
    assert.deepEqual(pngSize(Buffer.from(data!, 'base64')), { width: 2000, height: 1500 }, "the phone's 2048 × 1536 picture, as the runtime passes it on");
    await page.getByRole('status').filter({ hasText: 'Idle' }).waitFor(WAIT);
    // Read back from the host: after a reload this phone no longer holds the picture, and the
    // transcript shows it from the host's copy, named with its size; tapping shows it whole.
    await page.reload();
    await conversation.getByText('photo.png').waitFor(WAIT);
    const thumb = conversation.getByRole('img', { name: 'Attached: photo.png' });
    await thumb.waitFor(WAIT);
    await until('the picture to load', () => thumb.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth > 0));
    assert.deepEqual(
      await thumb.evaluate((img: HTMLImageElement) => ({ width: img.naturalWidth, height: img.naturalHeight })),
      { width: 2000, height: 1500 },
      "the runtime's stored copy (scaled to 2,000 px as it passed it on), not the phone's 2048 × 1536 one",
    );
    await page.getByRole('button', { name: 'Show photo.png' }).click();
    const whole = page.getByRole('dialog', { name: 'photo.png' });
    await whole.getByRole('img', { name: 'photo.png' }).waitFor(WAIT);
    await screenshot(page, 'composer-pixel7-attachment-from-host');
    await whole.getByRole('button', { name: 'Close' }).click();
    await whole.waitFor({ ...WAIT, state: 'hidden' });
  });

  it('starts a task from the sessions screen with a chosen model and a photo: the model gets both, the session opens and keeps the choice', async () => {
    await page.getByRole('link', { name: 'All sessions' }).click();
    const sessions = page.getByRole('region', { name: 'Sessions' });
    await sessions.waitFor(WAIT);
    const model = sessions.getByRole('combobox', { name: 'Model' });
    await model.waitFor(WAIT);
    assert.equal(await model.inputValue(), '', "the runtime's default until chosen");
    await sessions.getByLabel('Attach photos or files').setInputFiles({ name: 'start.png', mimeType: 'image/png', buffer: Buffer.from(await photo(page, 640, 480), 'base64') });
    await sessions.getByRole('list', { name: 'Attached files' }).getByText('start.png').waitFor(WAIT);
    // The default model reads no images: said before the task is started.
    await sessions.getByRole('alert').filter({ hasText: 'Fake model does not read images' }).waitFor(WAIT);
    await sessions.getByRole('textbox', { name: 'New task' }).fill('Start with a photo [text:4]');
    assert.equal(await sessions.getByRole('button', { name: 'Start task' }).isDisabled(), true);

    await model.selectOption('fake/fake-smart');
    await screenshot(page, 'composer-pixel7-new-task');
    const before = turns().length;
    const opened = page.url();
    await sessions.getByRole('button', { name: 'Start task' }).click();
    await page.waitForURL((url) => /#\/session\/ses_/.test(url.hash) && url.href !== opened, WAIT);
    const conversation = page.getByRole('list', { name: 'Conversation' });
    await conversation.getByText(scriptedText(4).trim()).waitFor(WAIT);
    const sent = turns()
      .slice(before)
      .filter((r) => r.lastUserText.includes('Start with a photo') && r.kind === 'text');
    assert.equal(sent.length, 1, 'sent once');
    assert.equal(sent[0]!.body.model, 'fake-smart', 'the chosen model');
    const messages = sent[0]!.body.messages as Array<{ role: string; content: unknown }>;
    const content = [...messages].reverse().find((m) => m.role === 'user')!.content as Array<{ type: string }>;
    assert.ok(
      content.some((c) => c.type === 'image_url'),
      `an image part in the model request: ${JSON.stringify(content.map((c) => c.type))}`,
    );
    await conversation.getByRole('img', { name: 'Attached: start.png' }).waitFor(WAIT);
    // The new session's composer offers the choice the task started with.
    await page.getByRole('combobox', { name: 'Model' }).waitFor(WAIT);
    assert.equal(await page.getByRole('combobox', { name: 'Model' }).inputValue(), 'fake/fake-smart');
  });

  it('runs a command as a new task from the sessions screen with the model last chosen there: "/" lists the same commands, and the new session opens on its turn', async () => {
    await page.getByRole('link', { name: 'All sessions' }).click();
    const sessions = page.getByRole('region', { name: 'Sessions' });
    await sessions.waitFor(WAIT);
    // The new-task composer keeps its choice for this computer, across a reload too.
    await page.reload();
    const model = sessions.getByRole('combobox', { name: 'Model' });
    await model.waitFor(WAIT);
    await until('the last choice for new tasks', async () => (await model.inputValue()) === 'fake/fake-smart');
    const field = sessions.getByRole('textbox', { name: 'New task' });
    await field.fill('/');
    const commands = sessions.getByRole('list', { name: 'Commands' });
    await commands.getByRole('button', { name: /\/init/ }).waitFor(WAIT);
    await field.fill('/gr');
    const greet = commands.getByRole('button', { name: /\/greet/ });
    assert.match(await greet.innerText(), /Greet someone by name/);
    await greet.click();
    assert.equal(await field.inputValue(), '/greet ');
    await field.pressSequentially('Grace');

    const before = turns().length;
    const opened = page.url();
    await sessions.getByRole('button', { name: 'Start task' }).click();
    await page.waitForURL((url) => /#\/session\/ses_/.test(url.hash) && url.href !== opened, WAIT);
    // The command's template, with its arguments, is what the model is asked: not the text as typed.
    await until('the command to reach the model', () =>
      turns()
        .slice(before)
        .some((r) => r.lastUserText.includes('Say hello to Grace')),
    );
    await page.getByRole('status').filter({ hasText: 'Idle' }).waitFor(WAIT);
    const ran = turns().slice(before);
    assert.equal(ran.filter((r) => r.lastUserText.includes('Say hello to Grace') && r.kind === 'text').length, 1, 'run once');
    assert.ok(!ran.some((r) => r.lastUserText.includes('/greet')), 'never sent as a plain prompt');
    assert.equal(ran.find((r) => r.lastUserText.includes('Say hello to Grace') && r.kind === 'text')!.body.model, 'fake-smart', 'with the model chosen for new tasks');
  });

  it('ran without script errors', () => {
    assert.deepEqual(pageErrors, []);
  });
});

/** A PNG drawn in the page, base64: a stand-in for a photo from the phone's camera. */
function photo(page: Page, width: number, height: number): Promise<string> {
  return page.evaluate(
    async ([w, h]) => {
      const canvas = new OffscreenCanvas(w, h);
      const ctx = canvas.getContext('2d')!;
      ctx.fillStyle = '#2a6';
      ctx.fillRect(0, 0, w, h);
      ctx.fillStyle = '#fc3';
      ctx.fillRect(w / 4, h / 4, w / 2, h / 2);
      const bytes = new Uint8Array(await (await canvas.convertToBlob({ type: 'image/png' })).arrayBuffer());
      let text = '';
      for (const b of bytes) text += String.fromCharCode(b);
      return btoa(text);
    },
    [width, height] as const,
  );
}

/** A PNG's dimensions, from its IHDR chunk. */
function pngSize(png: Buffer): { width: number; height: number } {
  assert.equal(png.subarray(12, 16).toString('latin1'), 'IHDR', 'a PNG');
  return { width: png.readUInt32BE(16), height: png.readUInt32BE(20) };
}
