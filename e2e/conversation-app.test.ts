/**
 * A conversation that behaves like the apps people know (issue 15, item 5), in Chromium at Pixel 7
 * size against the real host and runtime on the fake model: Enter sends and Shift+Enter starts a
 * line (or, by the setting, Enter starts a line); the box grows with its text up to a limit;
 * "Thinking…" between sending and the first token; the status and Stop stay in view while the
 * stream runs; scrolled up, a "New messages ↓" button instead of being moved; sending takes you
 * to your message; a tool call held by a permission request reads "Waiting for you", and a denial
 * can tell the agent why; Markdown (GFM) renders with raw HTML inert; the last message can be
 * edited and sent again; a session is never called by a timestamp; the text follows the browser's
 * font size and the composer works at 200 % zoom; the sessions list shows each session's state
 * (an icon and its name) and a preview of its last message.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, Page } from 'playwright';
import { startAppHost, type AppHost } from './fixtures/app-host.ts';
import { PHONES, launchChromium, screenshot } from './browser.ts';
import { scriptedText } from './fixtures/fake-model.ts';
import { until } from './fixtures/poll.ts';

const WAIT = { timeout: 60_000 };

describe('the conversation on a phone', { timeout: 300_000 }, () => {
  let app: AppHost;
  let browser: Browser;
  let page: Page;
  const pageErrors: string[] = [];

  before(async () => {
    // Slow deltas every 60 ms: a 600-word reply runs long enough to scroll around in.
    [app, browser] = await Promise.all([startAppHost({ fakeModel: { slowDelayMs: 60 } }), launchChromium()]);
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
    await page.getByRole('status').filter({ hasText: 'Idle' }).waitFor(WAIT);
  });

  after(async () => {
    await browser?.close();
    await app?.close();
  });

  const field = () => page.getByRole('textbox', { name: 'Follow-up' });
  const conversation = () => page.getByRole('list', { name: 'Conversation' });

  it('grows the box with its text up to a limit; Shift+Enter starts a line and Enter sends', async () => {
    const box = field();
    const empty = (await box.boundingBox())!.height;
    await box.click();
    await box.pressSequentially('one');
    for (const word of ['two', 'three', 'four']) {
      await box.press('Shift+Enter');
      await box.pressSequentially(word);
    }
    assert.equal(await box.inputValue(), 'one\ntwo\nthree\nfour', 'Shift+Enter is a new line');
    const grown = (await box.boundingBox())!.height;
    assert.ok(grown > empty + 20, `the box grew with its lines (${empty} → ${grown})`);
    // Chromium sizes it itself (field-sizing): no script measuring it, and laying the page out, per key.
    assert.equal(await box.evaluate((el) => el.style.height), '', 'sized by CSS, not by a script');
    await box.fill(Array.from({ length: 60 }, (_, i) => `line ${i}`).join('\n'));
    await box.dispatchEvent('input');
    const capped = (await box.boundingBox())!.height;
    const viewport = page.viewportSize()!.height;
    assert.ok(capped <= viewport * 0.36, `up to a limit (${capped} of ${viewport})`);

    await box.fill('Enter sends [text:3]');
    await box.press('Enter');
    await conversation().getByText('Enter sends [text:3]').waitFor(WAIT);
    await conversation().getByText(scriptedText(3).trim()).waitFor(WAIT);
    assert.equal(await box.inputValue(), '', 'sent, and the box emptied');
    await page.getByRole('status').filter({ hasText: 'Idle' }).waitFor(WAIT);
  });

  it('shows "Thinking…" until the first token, keeps the status and Stop in view, and offers "New messages ↓" when scrolled up', async () => {
    await field().fill('Take your time [slow]');
    await field().press('Enter');
    const thinking = page.getByRole('status').filter({ hasText: 'Thinking…' });
    await thinking.waitFor(WAIT);
    await conversation()
      .getByText(/w0 w1 w2/)
      .waitFor(WAIT);
    await thinking.waitFor({ state: 'detached', ...WAIT });

    // Followed while at the bottom: the newest words stay on screen, once there is more than a screenful.
    await page.waitForFunction(() => document.documentElement.scrollHeight > window.innerHeight + 400, undefined, WAIT);
    const followed = await page.evaluate(() => window.innerHeight + window.scrollY >= document.documentElement.scrollHeight - 150);
    assert.ok(followed, 'the view follows the stream at the bottom');
    const stop = page.getByRole('button', { name: 'Stop' });
    const bar = (await stop.boundingBox())!;
    assert.ok(bar.y >= 0 && bar.y + bar.height <= page.viewportSize()!.height, `Stop stays in view (${JSON.stringify(bar)})`);
    await screenshot(page, 'conversation-pixel7-streaming');

    // Scrolled up: not moved, but told.
    await page.evaluate(() => window.scrollTo({ top: 0 }));
    const unseen = page.getByRole('button', { name: 'New messages ↓' });
    await unseen.waitFor(WAIT);
    const y = await page.evaluate(() => window.scrollY);
    assert.ok(y < 50, `left where the reader is (${y})`);
    assert.ok(await page.getByRole('button', { name: 'Stop' }).isVisible(), 'Stop is still in view scrolled up');
    await screenshot(page, 'conversation-pixel7-new-messages');
    await unseen.click();
    await page.waitForFunction(() => window.innerHeight + window.scrollY >= document.documentElement.scrollHeight - 150, undefined, WAIT);
    await unseen.waitFor({ state: 'detached', ...WAIT });
    await page.getByRole('button', { name: 'Stop' }).click();
    await page
      .getByRole('status')
      .filter({ hasText: /Idle|Failed/ })
      .waitFor(WAIT);
  });

  it('takes you to your message when you send, from wherever you were reading', async () => {
    await page.evaluate(() => window.scrollTo({ top: 0 }));
    await field().fill('Back to the end [text:2]');
    await field().press('Enter');
    await conversation().getByText('Back to the end [text:2]').waitFor(WAIT);
    await page.waitForFunction(() => window.innerHeight + window.scrollY >= document.documentElement.scrollHeight - 150, undefined, WAIT);
    await page.getByRole('status').filter({ hasText: 'Idle' }).waitFor(WAIT);
  });

  it('reads "Waiting for you" on a tool call held by a permission request', async () => {
    await field().fill('[bash:echo waiting-card]');
    await field().press('Enter');
    const sheet = page.getByRole('dialog', { name: 'Allow this command?' });
    await sheet.waitFor(WAIT);
    // The agent's own words for the command, and what "for this session" covers, in words.
    await sheet.getByText('The agent says: Run a scripted command').waitFor(WAIT);
    assert.match(await sheet.innerText(), /“Always allow for this session” allows commands matching “echo \*” in this session, without asking again\./);
    await page.keyboard.press('Escape');
    await sheet.waitFor({ state: 'detached', ...WAIT }).catch(() => {});
    await conversation().locator('.tool .chip').filter({ hasText: 'Waiting for you' }).waitFor(WAIT);
    assert.equal(await conversation().locator('.tool .chip').filter({ hasText: 'Running' }).count(), 0);
    await screenshot(page, 'conversation-pixel7-waiting-card');

    // Denied with a reason: the agent is told it, and goes on.
    await page.getByRole('button', { name: /approvals? waiting/ }).click();
    await sheet.waitFor(WAIT);
    await sheet.getByRole('textbox', { name: /tell the agent why/ }).fill('use printf instead');
    await sheet.getByRole('button', { name: 'Deny' }).click();
    await until('the reason to reach the model', () => app.sandbox.fakeModel.requests.some((r) => JSON.stringify(r.body.messages).includes('use printf instead')));
    await page.getByRole('status').filter({ hasText: 'Idle' }).waitFor(WAIT);
  });

  it('renders GitHub-flavoured Markdown with raw HTML and script links inert; code blocks name their language, copy, highlight and scroll', async () => {
    await field().fill('Show me [markdown]');
    await field().press('Enter');
    const md = conversation().locator('.md').filter({ hasText: 'Some bold' }).last();
    await md.locator('table').waitFor(WAIT);
    await page.getByRole('status').filter({ hasText: 'Idle' }).waitFor(WAIT);
    assert.equal(await md.locator('strong').first().innerText(), 'bold');
    assert.equal(await md.locator('del').innerText(), 'struck');
    assert.equal(await md.getByRole('link', { name: 'https://example.test/auto' }).getAttribute('href'), 'https://example.test/auto', 'autolinked');
    const boxes = md.getByRole('checkbox');
    assert.deepEqual([await boxes.count(), await boxes.nth(0).isChecked(), await boxes.nth(1).isChecked()], [2, true, false], 'a task list as checkboxes');
    assert.deepEqual(await md.locator('li.md-task').allInnerTexts(), ['written the test', 'made it pass'], 'the boxes, not their Markdown');
    assert.deepEqual(await md.locator('th').allInnerTexts(), ['file', 'lines']);

    // Raw HTML is text, and nothing of it ran.
    assert.equal(await md.locator('script, img, [onerror]').count(), 0);
    await md.getByText('<script>window.pwned = "script"</script>').waitFor(WAIT);
    assert.equal(await md.getByRole('link', { name: 'click me' }).count(), 0, 'a javascript: link is not a link');
    assert.equal(await page.evaluate(() => (window as unknown as { pwned?: string }).pwned), undefined);

    const block = md.locator('.md-codeblock');
    assert.equal(await block.locator('.md-code__lang').innerText(), 'ts');
    await block.locator('code.hljs .hljs-keyword').first().waitFor(WAIT);
    const pre = block.locator('pre');
    assert.ok(await pre.evaluate((p) => p.scrollWidth > p.clientWidth), 'a long line scrolls within the block');
    await page.context().grantPermissions(['clipboard-read', 'clipboard-write']);
    await block.getByRole('button', { name: 'Copy ts code' }).click();
    await block.getByRole('button', { name: 'Copy ts code' }).filter({ hasText: 'Copied' }).waitFor(WAIT);
    assert.match(await page.evaluate(() => navigator.clipboard.readText()), /^const answer: number = 42;/);
    await screenshot(page, 'conversation-pixel7-markdown');
  });

  it('with the setting on, Enter starts a new line and only the button sends', async () => {
    await page.getByRole('link', { name: 'Settings' }).click();
    await page.getByRole('checkbox', { name: /Enter starts a new line/ }).check();
    await page.goBack();
    await field().click();
    await field().pressSequentially('a');
    await field().press('Enter');
    await field().pressSequentially('b');
    assert.equal(await field().inputValue(), 'a\nb');
  });

  it('puts the last message back into the box to edit and send again', async () => {
    await page.getByRole('status').filter({ hasText: 'Idle' }).waitFor(WAIT);
    const edit = conversation().getByRole('button', { name: 'Edit and ask again' });
    assert.equal(await edit.count(), 1, 'on the last message only');
    await edit.click();
    assert.equal(await field().inputValue(), 'Show me [markdown]');
    await field().fill('Show me again [text:4]');
    await page.getByRole('button', { name: 'Send', exact: true }).click();
    await conversation().getByText(scriptedText(4).trim()).waitFor(WAIT);
  });

  it('never calls a session by a timestamp: until OpenCode names it, by its first prompt\'s words, else "New session"', async () => {
    // A session the runtime made without a title keeps OpenCode's placeholder (`New session - <ISO time>`).
    const bare = await app.host.runtime.bridge.createSession(undefined);
    assert.match(bare.title, /^New session - \d{4}-/);
    await page.getByRole('link', { name: 'All sessions' }).click();
    const list = page.getByRole('list', { name: 'Recent sessions' });
    await list.getByRole('link', { name: /^New session/ }).waitFor(WAIT);
    assert.ok(!/\d{4}-\d{2}-\d{2}T/.test(await list.innerText()), 'no ISO timestamp in the list');
  });

  it('follows the browser’s text size, and stays usable with larger text and at 200 % zoom: nothing scrolls sideways, the composer is in view and sends', async () => {
    const cdp = await page.context().newCDPSession(page);
    const viewport = page.viewportSize()!;
    /** How far the page scrolls sideways, and the outermost elements that stick out (to name them when it does). */
    const overflow = () =>
      page.evaluate(() => {
        const width = document.documentElement.clientWidth;
        const out = [...document.body.querySelectorAll('*')].filter((el) => el.getBoundingClientRect().right > width + 1 && !el.parentElement?.closest('pre, .md-table'));
        const outer = out.filter((el) => !out.includes(el.parentElement!)).map((el) => `${el.tagName.toLowerCase()}.${[...el.classList].join('.')}`);
        return { px: document.documentElement.scrollWidth - width, outer: outer.slice(0, 5) };
      });
    const noOverflow = async (where: string) => {
      const o = await overflow();
      assert.ok(o.px <= 0, `${where} does not scroll sideways (${o.px} px: ${o.outer.join(', ')})`);
    };
    const inView = async (name: string, locator: ReturnType<Page['locator']>) => {
      const box = await locator.boundingBox();
      const size = page.viewportSize()!;
      assert.ok(
        box && box.x >= 0 && box.x + box.width <= size.width && box.y >= 0 && box.y + box.height <= size.height,
        `${name} is in view: ${JSON.stringify(box)} in ${JSON.stringify(size)}`,
      );
      return box;
    };
    try {
      // The usual size first; then larger text in the browser's settings; then 200 % zoom: half as many CSS pixels on the same screen.
      for (const { text, zoom } of [
        { text: 16, zoom: 1 },
        { text: 24, zoom: 1 },
        { text: 16, zoom: 2 },
      ]) {
        const how = `${text} px text at ${zoom * 100} %`;
        await cdp.send('Page.setFontSizes', { fontSizes: { standard: text, fixed: text - 3 } });
        await page.setViewportSize({ width: Math.round(viewport.width / zoom), height: Math.round(viewport.height / zoom) });
        assert.equal(await page.evaluate(() => getComputedStyle(document.documentElement).fontSize), `${text}px`, 'the root font size is the browser’s');
        await page.getByRole('textbox', { name: 'New task' }).waitFor(WAIT);
        await noOverflow(`the sessions screen (${how})`);

        await page.goBack();
        await page.getByRole('status').filter({ hasText: 'Idle' }).waitFor(WAIT);
        await screenshot(page, `conversation-pixel7-text${text}-zoom${zoom * 100}`);
        const box = (await inView(`the box (${how})`, field()))!;
        const send = page.getByRole('button', { name: 'Send', exact: true });
        await inView(`Send (${how})`, send);
        assert.ok(box.width >= page.viewportSize()!.width / 2, `the box keeps room to type (${how})`);
        await noOverflow(`the conversation (${how})`);
        await field().fill(`Bigger ${text} ${zoom} [text:2]`);
        await send.click();
        await conversation().getByText(`Bigger ${text} ${zoom} [text:2]`).waitFor(WAIT);
        await page.getByRole('status').filter({ hasText: 'Idle' }).waitFor(WAIT);
        await page.getByRole('link', { name: 'All sessions' }).click();
      }
    } finally {
      await cdp.send('Page.setFontSizes', { fontSizes: { standard: 16, fixed: 13 } });
      await cdp.detach();
      await page.setViewportSize(viewport);
    }
    await page.goBack();
    await field().waitFor(WAIT);
  });

  it('lists each session with its state, as an icon and in words, and a one-line preview of its last message', async () => {
    const sessionId = decodeURIComponent(new URL(page.url()).hash.split('/')[2]!);
    await page.getByRole('link', { name: 'All sessions' }).click();
    const row = (id: string) => page.locator(`a.session-row[href*="${id}"]`);
    const done = row(sessionId);
    await done.getByText('Done', { exact: true }).waitFor(WAIT);
    await done.locator('.session-row__preview').getByText(scriptedText(2).trim()).waitFor(WAIT);

    // Another session, run and stopped from the computer meanwhile: running, then stopped, live and after a reload.
    const bridge = app.host.runtime.bridge;
    const other = await bridge.createSession('Stopped later', app.sandbox.workspace);
    await bridge.prompt(other.id, 'Run long [slow]');
    const stopped = row(other.id);
    await stopped.getByText('Running', { exact: true }).waitFor(WAIT);
    await stopped.locator('.session-row__preview').getByText('Run long [slow]').waitFor(WAIT);
    await until('the reply under way', async () => ((await bridge.messages(other.id)).length >= 2 ? true : undefined));
    await bridge.abort(other.id);
    await stopped.getByText('Stopped', { exact: true }).waitFor(WAIT);
    await page.reload();
    await stopped.getByText('Stopped', { exact: true }).waitFor(WAIT);
    assert.notEqual(await stopped.locator('.session-row__preview').innerText(), '', 'a preview after a reload, from the host');
    const icon = (r: typeof done) => r.locator('svg.row-state__icon').evaluate((svg) => [svg.getAttribute('aria-hidden'), svg.innerHTML]);
    const [doneIcon, stoppedIcon] = [await icon(done), await icon(stopped)];
    assert.deepEqual([doneIcon[0], stoppedIcon[0]], ['true', 'true'], 'the icons are decoration: the words are read out');
    assert.notEqual(doneIcon[1], stoppedIcon[1], 'a distinct icon per state');
    assert.ok((await done.locator('.session-row__preview').evaluate((p) => p.scrollHeight <= p.clientHeight + 1)) === true, 'one line');
    await screenshot(page, 'sessions-pixel7-states');
  });

  it('ran without script errors', () => {
    assert.deepEqual(pageErrors, []);
  });
});
