/**
 * Reviewing and managing a session from the phone app in Chromium, against the REAL host and
 * runtime with a fake model that writes two files: the session's changes list both with their
 * counts and show their diffs; undo (after a confirmation naming both files) removes them from
 * disk and "bring back" restores them; a 5,000-line diff is highlighted and windowed; "Revert to
 * here" on a message of the conversation lists what it changes back, reverts, is refused while
 * the agent works, and is undone; rename, compact, fork and delete act on the runtime and
 * a second paired device sees the rename and the deletion; search finds a session the phone does
 * not list yet, and scrolling reaches the 150th older session. The session shows its context and
 * token use and cost, the review panel the workspace's branch and uncommitted files, and a task's
 * sub-agent opens from its session and streams live.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright';
import { startAppHost, type AppHost } from './fixtures/app-host.ts';
import { PHONES, launchChromium, screenshot } from './browser.ts';
import { SECOND_CONTENT, WRITE_CONTENT, numberedLines } from './fixtures/fake-model.ts';
import { fileCleanup } from './fixtures/cleanup.ts';
import { pairDevice } from './fixtures/paired-device.ts';
import { until } from './fixtures/poll.ts';

const WAIT = { timeout: 60_000 };
const { cleanups } = fileCleanup('relay-review-app-');

describe("a session's changes and actions on the phone", { timeout: 300_000 }, () => {
  let app: AppHost;
  let browser: Browser;
  let page: Page;
  let sessionId: string;
  let one: string;
  let two: string;
  const pageErrors: string[] = [];

  before(async () => {
    [app, browser] = await Promise.all([
      startAppHost({
        // Writes go ahead without asking: the permission flow is not what is tested here.
        prepare: async (dataDir) => writeFileSync(join(dataDir, 'config.json'), JSON.stringify({ permission: { edit: 'allow' } })),
        extraWorkspaces: async (sandbox) => {
          // OpenCode keeps snapshots (what diffs and undo use) for git projects with a commit only.
          execFileSync('git', ['init', '-q', sandbox.workspace]);
          execFileSync('git', ['-C', sandbox.workspace, '-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-q', '--allow-empty', '-m', 'root']);
          return [];
        },
      }),
      launchChromium(),
    ]);
    one = join(app.sandbox.workspace, 'one.txt');
    two = join(app.sandbox.workspace, 'two.txt');
  });

  after(async () => {
    await browser?.close();
    await app?.close();
  });

  it('lists both changed files with their counts and shows their diffs', async () => {
    const context = await browser.newContext({ ...PHONES.pixel7 });
    context.on('weberror', (err) => pageErrors.push(String(err.error())));
    // What loads while the session screen is open (its usage, the changes, the version control)
    // loads in place: nothing of the screen is taken out of the page meanwhile (a composer taken out
    // loses what is being typed).
    await context.addInitScript(`window.__blanked = [];
      new MutationObserver((records) => {
        for (const r of records) for (const n of r.removedNodes)
          if (n.nodeType === 1) for (const part of ['.session-composer', '.review', '.vcs']) if (n.matches(part) || n.querySelector(part)) window.__blanked.push(part);
      }).observe(document, { childList: true, subtree: true });`);
    page = await context.newPage();
    await page.goto(app.host.relay.newOffer().link);
    app.host.relay.approvals.approve((await app.nextApproval()).id, ['read', 'run', 'approve']);
    await page.getByRole('region', { name: 'Sessions' }).waitFor(WAIT);

    await page.getByLabel('New task').fill(`Edit both [write2:${one},${two}]`);
    await page.getByRole('button', { name: 'Start task' }).click();
    await until('both files written', () => existsSync(one) && existsSync(two));
    sessionId = await until('the session', async () => (await app.host.runtime.bridge.listSessions()).sessions[0]?.id);
    await until('the turn ended', async () => ((await app.host.runtime.bridge.sessionStatus(sessionId)).type === 'idle' ? true : undefined));
    await page.waitForURL(/#\/session\//, WAIT);

    // The session's usage, as of the turn that just ended: two model calls of 10 tokens in and 10 out, priced.
    await page.getByText(/^Context 20 of 100k \(0%\) · \$0\.00006$/).waitFor(WAIT);

    await page.getByRole('button', { name: 'Changes and actions' }).click();
    const panel = page.getByRole('region', { name: 'Changes and session actions' });
    await panel.getByRole('button', { name: 'one.txt' }).waitFor(WAIT);
    // The workspace's version control, read-only: its branch and uncommitted files.
    const vcs = panel.getByRole('region', { name: 'Version control' });
    const branch = execFileSync('git', ['-C', app.sandbox.workspace, 'branch', '--show-current'], { encoding: 'utf8' }).trim();
    await vcs.getByText(`On branch ${branch}`).waitFor(WAIT);
    await vcs.getByRole('button', { name: 'Refresh' }).click();
    await vcs.getByRole('button', { name: 'Refresh' }).and(page.locator(':enabled')).waitFor(WAIT);
    const uncommitted = await vcs.getByRole('list', { name: 'Uncommitted changes' }).getByRole('listitem').allInnerTexts();
    for (const [file, lines] of [
      ['one.txt', 1],
      ['two.txt', 3],
    ] as const) {
      assert.ok(
        uncommitted.some((t) => t.replace(/\s+/g, ' ').includes(`${file} new +${lines} −0`)),
        JSON.stringify(uncommitted),
      );
    }
    const files = await panel.locator('.review__file').allInnerTexts();
    assert.deepEqual(files.map((t) => t.replace(/\s+/g, '')).sort(), ['one.txt+1−0', 'two.txt+3−0']);
    await panel.getByRole('button', { name: 'two.txt' }).click();
    const diff = panel.getByRole('region', { name: /^two\.txt: \d+ lines/ });
    await diff.waitFor(WAIT);
    assert.match(await diff.innerText(), /1\s*\+ second[\s\S]*3\s*\+ here/);
    await screenshot(page, 'review-changes');
  });

  it('undoes the turn after listing both files, and brings it back', async () => {
    const panel = page.getByRole('region', { name: 'Changes and session actions' });
    await panel.getByRole('button', { name: 'Undo…' }).click();
    const confirm = panel.getByRole('alertdialog', { name: 'Confirm undo' });
    await confirm.waitFor(WAIT);
    const listed = await confirm.getByRole('listitem').allInnerTexts();
    assert.deepEqual(listed.sort(), ['one.txt', 'two.txt']);
    await confirm.getByRole('button', { name: 'Undo these changes' }).click();
    await until('both files removed', () => !existsSync(one) && !existsSync(two));
    await panel.getByRole('button', { name: 'Bring back undone changes' }).click();
    await until('both files back', () => existsSync(one) && existsSync(two));
    assert.equal(readFileSync(one, 'utf8'), WRITE_CONTENT);
    assert.equal(readFileSync(two, 'utf8'), SECOND_CONTENT);
    await panel.getByRole('button', { name: 'two.txt' }).waitFor(WAIT);
    assert.deepEqual(await page.evaluate('window.__blanked'), [], 'the session screen stayed in the page while its parts loaded');
  });

  it('highlights a diff as its language and windows a 5,000-line one: few rows in the page, the last line reached by scrolling', async () => {
    const big = join(app.sandbox.workspace, 'big.ts');
    await page.getByRole('textbox', { name: 'Follow-up' }).fill(`Make a big file [lines:${big},5000]`);
    await page.getByRole('button', { name: 'Send', exact: true }).click();
    await until('the big file', () => existsSync(big) && readFileSync(big, 'utf8') === numberedLines(5000));
    await until('the turn ended', async () => ((await app.host.runtime.bridge.sessionStatus(sessionId)).type === 'idle' ? true : undefined));
    // Opened again: the changes as they are now.
    await page.getByRole('button', { name: 'Hide changes and actions' }).click();
    await page.getByRole('button', { name: 'Changes and actions' }).click();
    const panel = page.getByRole('region', { name: 'Changes and session actions' });
    await panel.getByRole('button', { name: 'big.ts' }).click();
    const diff = panel.getByRole('region', { name: /^big\.ts: \d+ lines/ });
    await diff.waitFor(WAIT);
    const lines = Number(/: (\d+) lines/.exec((await diff.getAttribute('aria-label'))!)![1]);
    assert.ok(lines >= 5000, `every line of the diff is counted (${lines})`);
    const rows = () => diff.locator('.review-diff__row').count();
    assert.ok((await rows()) < 120, `only the rows in view are in the page (${await rows()} of ${lines})`);
    await diff.locator('.hljs-keyword').first().waitFor(WAIT);
    assert.equal(await diff.locator('.hljs-keyword').first().innerText(), 'let', 'highlighted as TypeScript');
    await diff.evaluate((box) => box.scrollTo({ top: box.scrollHeight }));
    await diff.getByText('let x5000 = 5000;').waitFor(WAIT);
    assert.ok((await rows()) < 120, `still few rows at the end (${await rows()})`);
    await screenshot(page, 'review-big-diff');
  });

  it('reverts to a message from the conversation after listing the files it changes back, refuses while the agent works, and undoes the revert', async () => {
    const big = join(app.sandbox.workspace, 'big.ts');
    const conversation = page.getByRole('list', { name: 'Conversation' });
    const message = conversation.locator('li.part--user').filter({ hasText: 'Make a big file' });
    await message.getByRole('button', { name: 'Revert to here…' }).click();
    const confirm = message.getByRole('alertdialog', { name: 'Confirm revert' });
    await confirm.waitFor(WAIT);
    assert.deepEqual(await confirm.getByRole('listitem').allInnerTexts(), ['big.ts'], 'only what this message and the later ones changed');
    await confirm.getByRole('button', { name: 'Revert', exact: true }).click();
    await until('the big file removed', () => !existsSync(big));
    assert.ok(existsSync(one) && existsSync(two), 'the earlier turn’s files stay');
    await message.getByText('Reverted: this message and everything after it are undone.').waitFor(WAIT);
    await message.getByRole('button', { name: 'Undo revert' }).click();
    await until('the big file back', () => existsSync(big));
    await message.getByRole('button', { name: 'Revert to here…' }).waitFor(WAIT);

    // While a turn runs: refused, with a message saying so.
    await page.getByRole('textbox', { name: 'Follow-up' }).fill('Take your time [slow]');
    await page.getByRole('button', { name: 'Send', exact: true }).click();
    await page.getByRole('button', { name: 'Stop' }).waitFor(WAIT);
    await message.getByRole('button', { name: 'Revert to here…' }).click();
    await message.getByRole('alert').filter({ hasText: 'Not while the agent is working' }).waitFor(WAIT);
    assert.equal(await message.getByRole('alertdialog').count(), 0, 'no confirmation offered');
    assert.ok(existsSync(big), 'nothing reverted');
    await page.getByRole('button', { name: 'Stop' }).click();
    await until('the turn ended', async () => ((await app.host.runtime.bridge.sessionStatus(sessionId)).type === 'idle' ? true : undefined));
  });

  it('renames, compacts, forks and deletes; another device sees the rename and the deletion', async () => {
    const other = await pairDevice(app.host.relay, `ws://127.0.0.1:${app.port}/relay`, cleanups);
    const panel = page.getByRole('region', { name: 'Changes and session actions' });
    await panel.getByLabel('Title').fill('Renamed on the phone');
    await panel.getByRole('button', { name: 'Rename' }).click();
    await other.waitFor('session.updated', (e) => e.sessionId === sessionId && e.title === 'Renamed on the phone');
    assert.equal((await app.host.runtime.bridge.getSession(sessionId)).title, 'Renamed on the phone');

    const before = (await app.host.runtime.bridge.messages(sessionId)).length;
    await panel.getByRole('button', { name: 'Compact' }).click();
    await until('the summary', async () => ((await app.host.runtime.bridge.messages(sessionId)).length > before ? true : undefined));

    const sessionsBefore = (await app.host.runtime.bridge.listSessions()).sessions.length;
    await panel.getByRole('button', { name: 'Fork' }).click();
    await page.waitForURL((url) => url.hash.startsWith('#/session/') && !url.hash.endsWith(sessionId), WAIT);
    const forkId = decodeURIComponent(new URL(page.url()).hash.split('/')[2]!);
    assert.equal((await app.host.runtime.bridge.listSessions()).sessions.length, sessionsBefore + 1);

    await page.getByRole('button', { name: 'Changes and actions' }).click();
    await page.getByRole('button', { name: 'Delete…' }).click();
    await page.getByRole('alertdialog', { name: 'Confirm delete' }).getByRole('button', { name: 'Delete session' }).click();
    await page.waitForURL(/#\/sessions$/, WAIT);
    await other.waitFor('session.deleted', (e) => e.sessionId === forkId);
    assert.equal(
      (await app.host.runtime.bridge.listSessions()).sessions.some((s) => s.id === forkId),
      false,
    );
  });

  it('finds a session by title on the host, reaches the 150th older session as the list scrolls, and finds a session by cached text', async () => {
    await app.host.runtime.bridge.createSession('Oldest needle', app.sandbox.workspace);
    for (let i = 1; i <= 150; i++) await app.host.runtime.bridge.createSession(`bulk ${i}`, app.sandbox.workspace);
    await page.goto(`${app.origin}/#/sessions`);
    await page.reload();
    const recent = page.getByRole('list', { name: 'Recent sessions' });
    await recent.getByText('bulk 150', { exact: true }).waitFor(WAIT);

    // Not among the newest 100 this phone lists: the host finds it.
    assert.equal(await recent.getByText('Oldest needle').count(), 0);
    await page.getByRole('searchbox', { name: 'Search sessions' }).fill('needle');
    await page.getByRole('list', { name: 'Search results' }).getByText('Oldest needle').waitFor(WAIT);
    await page.getByRole('searchbox', { name: 'Search sessions' }).fill('');

    // Scrolling to the end loads the older ones.
    await until('the oldest session listed', async () => {
      await recent.locator('li').last().scrollIntoViewIfNeeded();
      return (await recent.getByText('Oldest needle').count()) > 0 ? true : undefined;
    });
    assert.ok((await recent.locator('li').count()) >= 152, 'every session, the 150 bulk ones included');
    await recent.getByText('bulk 1', { exact: true }).waitFor(WAIT);

    // Text said in a session this phone opened before (its transcript is cached), in no title.
    await page.getByRole('searchbox', { name: 'Search sessions' }).fill('write2');
    await page.getByRole('list', { name: 'Search results' }).getByText('Renamed on the phone').waitFor(WAIT);
  });

  it("opens a task's sub-agent from its session and watches it stream", async () => {
    const parent = (await app.host.runtime.bridge.createSession('Delegating', app.sandbox.workspace)).id;
    await page.goto(`${app.origin}/#/session/${parent}`);
    await page.getByLabel('Follow-up').fill('Delegate [slowtask]');
    await page.getByRole('button', { name: 'Send' }).click();
    const subAgents = page.getByRole('navigation', { name: 'Sub-agents' });
    await subAgents.getByRole('link', { name: /Look around/ }).click();
    await page.waitForURL((url) => url.hash.startsWith('#/session/') && !url.hash.endsWith(parent), WAIT);
    await page.getByText('Sub-agent of Delegating').waitFor(WAIT);
    // Its own conversation, live: the sub-agent's reply grows while the phone watches.
    const reply = page.getByText(/^w0 w1 w2 /);
    await reply.waitFor(WAIT);
    const first = (await reply.innerText()).length;
    await until('more of the reply', async () => ((await reply.innerText()).length > first ? true : undefined));
    await screenshot(page, 'review-subagent');
    const child = decodeURIComponent(new URL(page.url()).hash.split('/')[2]!);
    assert.equal((await app.host.runtime.bridge.getSession(child)).parentID, parent);
    for (const id of [child, parent]) await app.host.runtime.bridge.abort(id);
  });

  it('ran without script errors', () => {
    assert.deepEqual(pageErrors, []);
  });
});
