/**
 * The phone app when one of the host's workspaces cannot answer, against the REAL host and
 * runtime: OpenCode 1.18 cannot boot the instance of a workspace whose opencode.json is broken
 * (deleting a workspace's directory does not do it: the runtime keeps answering for it). The
 * sessions screen lists the other workspace's sessions and names the broken one, with why.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright';
import { startAppHost, type AppHost } from './fixtures/app-host.ts';
import { PHONES, launchChromium, screenshot } from './browser.ts';

const WAIT = { timeout: 60_000 };

describe('a workspace that cannot answer', { timeout: 240_000 }, () => {
  let app: AppHost;
  let browser: Browser;
  let page: Page;
  const pageErrors: string[] = [];

  before(async () => {
    [app, browser] = await Promise.all([
      startAppHost({
        extraWorkspaces: async (sandbox) => {
          const broken = await sandbox.addWorkspace('broken');
          await writeFile(join(broken, 'opencode.json'), '{ not json');
          return [broken];
        },
        waitForStreams: false,
      }),
      launchChromium(),
    ]);
    await app.host.runtime.bridge.createSession('Listed anyway');
  });

  after(async () => {
    await browser?.close();
    await app?.close();
  });

  it('leaves the other workspace’s sessions listed and says which one is missing and why', async () => {
    const context = await browser.newContext({ ...PHONES.pixel7 });
    context.on('weberror', (err) => pageErrors.push(String(err.error())));
    page = await context.newPage();
    await page.goto(app.host.relay.newOffer().link);
    app.host.relay.approvals.approve((await app.nextApproval()).id, ['read', 'run', 'approve']);
    await page.getByRole('region', { name: 'Sessions' }).waitFor(WAIT);

    await page.getByRole('list', { name: 'Recent sessions' }).getByText('Listed anyway').waitFor(WAIT);
    const note = page.getByRole('note', { name: 'Sessions not loaded' });
    await note.waitFor(WAIT);
    assert.match(await note.innerText(), /^Sessions in broken could not be loaded: \S+\/broken\/opencode\.json is not valid JSON; fix it, then restart the host\./);
    assert.equal(await page.getByRole('alert').count(), 0, 'not an error of the whole list');
    await screenshot(page, 'sessions-workspace-unavailable');

    // Asked again, the host still cannot list it: the note stays, the list stays.
    await note.getByRole('button', { name: 'Try again' }).click();
    await note.getByRole('button', { name: 'Try again' }).and(page.locator(':enabled')).waitFor(WAIT);
    assert.equal(await note.count(), 1);
    await page.getByRole('list', { name: 'Recent sessions' }).getByText('Listed anyway').waitFor(WAIT);
  });

  it('ran without script errors', () => {
    assert.deepEqual(pageErrors, []);
  });
});
