/**
 * The phone app against the REAL host and the REAL OpenCode runtime (fake model at the provider
 * boundary), in Chromium at phone sizes, driven by role and name: pairing from the QR link (and a
 * refusal), with a typed code, with the in-app scanner on a fake camera; a task streaming in
 * order; a permission allowed once and one denied; a stop; the cached state shown before the host
 * answers; a task already running when a new phone opens the app shown as running; a long
 * session kept to a bounded DOM; the health panel. Screenshots of the main
 * screens go to test-results/screenshots/.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright';
import type { RelayRuntimeEvent } from '../shared/protocol/runtime-events.ts';
import { scriptedText } from './fixtures/fake-model.ts';
import { startAppHost, type AppHost } from './fixtures/app-host.ts';
import { writeQrVideo } from './fixtures/qr-video.ts';
import { PHONES, launchChromium, screenshot } from './browser.ts';

const WAIT = { timeout: 30_000 };
const spaced = (code: string) => `${code.slice(0, 3)} ${code.slice(3)}`;
/** Deltas in the first task's answer. */
const STREAMED = 150;
const NAMED_ROLES = new Set(['button', 'link', 'textbox', 'checkbox', 'combobox', 'radio', 'switch', 'tab', 'menuitem']);

/** Controls without an accessible name, and buttons or fields smaller than a 44 px touch target. */
async function a11yProblems(page: Page): Promise<string[]> {
  const cdp = await page.context().newCDPSession(page);
  try {
    const { nodes } = (await cdp.send('Accessibility.getFullAXTree')) as { nodes: { ignored: boolean; role?: { value: string }; name?: { value: string } }[] };
    const unnamed = nodes.filter((n) => !n.ignored && NAMED_ROLES.has(n.role?.value ?? '') && !n.name?.value?.trim()).map((n) => `unnamed ${n.role!.value}`);
    const small = await page.evaluate(() =>
      [...document.querySelectorAll<HTMLElement>('button, select, textarea, input, a.button')]
        // Hidden for everyone but assistive technology (the file picker behind Attach): no target to tap.
        .filter((el) => el.offsetParent !== null && !el.closest('dialog:not([open])') && !el.matches('.visually-hidden'))
        .filter((el) => el.getBoundingClientRect().height < 44)
        .map((el) => `small ${el.tagName.toLowerCase()} "${el.textContent?.trim() ?? ''}"`),
    );
    return [...unnamed, ...small];
  } finally {
    await cdp.detach();
  }
}

describe('the phone app with a real host and runtime', { timeout: 170_000 }, () => {
  let app: AppHost;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let scratch: string;
  /** The session the first task made: its conversation is the one looked for in the saved copy. */
  let firstSession: string;
  const pageErrors: string[] = [];

  before(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'relay-app-test-'));
    [app, browser] = await Promise.all([startAppHost({ fakeModel: { chunkDelayMs: 15, slowDelayMs: 150 } }), launchChromium()]);
    context = await browser.newContext({ ...PHONES.pixel7 });
    context.on('weberror', (err) => pageErrors.push(String(err.error())));
    page = await context.newPage();
  });

  after(async () => {
    await browser?.close();
    await app?.close();
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  /** Opens a pairing link the way a phone's camera app does: a fresh page on the link. */
  async function openLink(link: string): Promise<Page> {
    const p = await context.newPage();
    await p.goto(link);
    return p;
  }

  it('says so when the person at the computer declines', async () => {
    const offer = app.host.relay.newOffer();
    const p = await openLink(offer.link);
    const approval = await app.nextApproval();
    await p.getByText(spaced(approval.code)).waitFor(WAIT);
    assert.equal(new URL(p.url()).hash, '#/pair', 'the offer secret left the address bar');
    assert.deepEqual(await a11yProblems(p), []);
    await p.getByRole('status').filter({ hasText: 'Waiting for approval' }).waitFor(WAIT);
    await screenshot(p, 'app-pixel7-pair-code');
    assert.ok(app.host.relay.approvals.decline(approval.id));
    await p.getByRole('alert').filter({ hasText: 'declined this phone' }).waitFor(WAIT);
    await p.getByRole('button', { name: 'Start over' }).waitFor(WAIT);
    await screenshot(p, 'app-pixel7-pair-declined');
    await p.close();
  });

  it('pairs from the QR link: code shown, approved on the host, lands on the sessions screen', async () => {
    const offer = app.host.relay.newOffer();
    page = await openLink(offer.link);
    const approval = await app.nextApproval();
    await page.getByText(spaced(approval.code)).waitFor(WAIT);
    await page.getByText('allow or deny the commands and file changes').waitFor(WAIT);
    assert.ok(app.host.relay.approvals.approve(approval.id));
    await page.getByRole('region', { name: 'Sessions' }).waitFor(WAIT);
    await page.getByRole('status').filter({ hasText: 'Connected' }).waitFor(WAIT);
    assert.equal(app.host.relay.devices.list().length, 1);
  });

  it('runs a task on the real runtime and streams its text into the view in order', async () => {
    // Record what the agent's text looked like after every change, to check it only ever grew;
    // watched from before the tap, so that a loaded machine cannot start the stream unobserved.
    await page.evaluate(() => {
      const seen: string[] = [];
      Object.assign(window, { seenTexts: seen });
      new MutationObserver(() => {
        const text = [...document.querySelectorAll('ol.timeline .assistant .md')].map((n) => n.textContent).join('|');
        if (text && text !== seen.at(-1)) seen.push(text);
      }).observe(document.body, { subtree: true, childList: true, characterData: true });
    });
    // 150 deltas 15 ms apart: a stream of over 2 s, so that a loaded machine opening the session
    // late still sees it grow (a 40-delta one was sometimes all there by the first paint).
    await page.getByRole('textbox', { name: 'New task' }).fill(`Count for me [text:${STREAMED}]`);
    await page.getByRole('button', { name: 'Start task' }).click();
    const conversation = page.getByRole('list', { name: 'Conversation' });
    await conversation.waitFor(WAIT);
    const expected = scriptedText(STREAMED).trim();
    await conversation.getByText(expected).waitFor(WAIT);
    await conversation.getByText(`Count for me [text:${STREAMED}]`).waitFor(WAIT);
    firstSession = decodeURIComponent(new URL(page.url()).hash.replace('#/session/', ''));
    const seen = (await page.evaluate(() => (window as unknown as { seenTexts: string[] }).seenTexts)).map((t) => t.trim());
    assert.ok(seen.length >= 3, `saw the text grow in steps (${seen.length})`);
    for (let i = 1; i < seen.length; i++) assert.ok(seen[i]!.startsWith(seen[i - 1]!), `step ${i} extends step ${i - 1}`);
    assert.equal(seen.at(-1), expected);
    await page.getByRole('status').filter({ hasText: 'Idle' }).waitFor(WAIT);
    assert.deepEqual(await a11yProblems(page), []);
    await screenshot(page, 'app-pixel7-session');
  });

  it('asks before running a command: Allow once runs it, Deny does not', async () => {
    const allowed = join(app.sandbox.workspace, 'allowed.txt');
    const denied = join(app.sandbox.workspace, 'denied.txt');
    const follow = page.getByRole('textbox', { name: 'Follow-up' });

    await follow.fill(`[bash:echo relay-allowed && touch ${allowed}]`);
    await page.getByRole('button', { name: 'Send' }).click();
    const sheet = page.getByRole('dialog', { name: 'Allow this command?' });
    await sheet.waitFor(WAIT);
    await sheet.getByText(`echo relay-allowed && touch ${allowed}`).waitFor(WAIT);
    assert.deepEqual(await a11yProblems(page), []);
    await screenshot(page, 'app-pixel7-permission');
    await sheet.getByRole('button', { name: 'Allow once' }).click();
    await sheet.waitFor({ state: 'hidden', ...WAIT });
    const conversation = page.getByRole('list', { name: 'Conversation' });
    await conversation.getByLabel('Output').filter({ hasText: 'relay-allowed' }).waitFor(WAIT);
    await conversation.getByText('Tool finished.').waitFor(WAIT);
    assert.equal(existsSync(allowed), true, 'the allowed command ran');

    await follow.fill(`[bash:touch ${denied}]`);
    await page.getByRole('button', { name: 'Send' }).click();
    await sheet.waitFor(WAIT);
    await sheet.getByRole('button', { name: 'Deny' }).click();
    await conversation.getByText('Denied', { exact: true }).waitFor(WAIT);
    await page
      .getByRole('status')
      .filter({ hasText: /Idle|Failed/ })
      .waitFor(WAIT);
    assert.equal(existsSync(denied), false, 'the denied command did not run');
  });

  it('shows a request from another screen as a badge and a banner, also after a reload', async () => {
    await page.getByRole('textbox', { name: 'Follow-up' }).fill(`[bash:echo later]`);
    await page.getByRole('button', { name: 'Send' }).click();
    const sheet = page.getByRole('dialog', { name: 'Allow this command?' });
    await sheet.waitFor(WAIT);
    await sheet.getByRole('button', { name: 'Decide later' }).click();
    await page.getByRole('link', { name: 'All sessions' }).click();
    await page.getByRole('region', { name: 'Sessions' }).waitFor(WAIT);
    await page.getByRole('button', { name: '1 approval waiting' }).waitFor(WAIT);
    await page.getByRole('status').filter({ hasText: 'The agent asks to run echo later' }).waitFor(WAIT);
    await page.getByRole('link', { name: /Waiting for you/ }).waitFor(WAIT);
    // A fresh connection learns about the waiting request from the host (resync), not from memory.
    await page.reload();
    await page.getByRole('button', { name: '1 approval waiting' }).waitFor(WAIT);
    assert.deepEqual(await a11yProblems(page), []);
    await screenshot(page, 'app-pixel7-sessions-waiting');
    await page.getByRole('button', { name: 'Review' }).click();
    await sheet.getByRole('button', { name: 'Allow once' }).click();
    await page.getByRole('button', { name: '1 approval waiting' }).waitFor({ state: 'hidden', ...WAIT });
  });

  it('stops a running task', async () => {
    await page.getByRole('textbox', { name: 'New task' }).fill('Take your time [slow]');
    await page.getByRole('button', { name: 'Start task' }).click();
    const conversation = page.getByRole('list', { name: 'Conversation' });
    await conversation.getByText('w3 ').waitFor(WAIT);
    await page.getByRole('status').filter({ hasText: 'Running' }).waitFor(WAIT);
    await page.getByRole('button', { name: 'Stop' }).click();
    await conversation.getByText('Stopped.').waitFor(WAIT);
    await page.getByRole('status').filter({ hasText: 'Idle' }).waitFor(WAIT);
    await page.getByRole('button', { name: 'Stop' }).waitFor({ state: 'hidden', ...WAIT });
  });

  it('shows the health panel', async () => {
    await page.getByRole('link', { name: 'Settings' }).click();
    const health = page.getByRole('region', { name: 'Connection health' });
    await health.getByText(/^Yes, \d+ ms round trip/).waitFor(WAIT);
    await health.getByText(/^Ready \(OpenCode \d/).waitFor(WAIT);
    await health.getByText('Configured: fake').waitFor(WAIT);
    await health.getByText(/^\d+ (s|min)$/).waitFor(WAIT);
    await health.getByText(/was stopped|finished/).waitFor(WAIT);
    await health.getByRole('button', { name: 'Reconnect now' }).click();
    await page.getByRole('status').filter({ hasText: 'Connected' }).waitFor(WAIT);
    assert.deepEqual(await a11yProblems(page), []);
    await screenshot(page, 'app-pixel7-health');
  });

  it('shows the saved sessions and messages before the host answers, after a reload and in a new page', async () => {
    // Hold every relay socket: the page gets no answer from the host at all. (WebSocket routes
    // outlive unrouteAll(), so the route itself lets sockets through again afterwards.)
    let hold = true;
    await context.routeWebSocket(/\/relay$/, (ws) => {
      if (!hold) ws.connectToServer();
    });
    try {
      await page.goto(`${app.origin}/#/sessions`);
      await page.reload();
      const sessions = page.getByRole('region', { name: 'Sessions' });
      await sessions
        .getByRole('link', { name: /Fake title/ })
        .first()
        .waitFor(WAIT);
      await page.getByRole('status').filter({ hasText: 'Saved copy from this phone' }).waitFor(WAIT);
      assert.notEqual(
        await page
          .getByRole('status')
          .filter({ hasText: /Connect/ })
          .first()
          .innerText(),
        'Connected',
      );

      const fresh = await context.newPage();
      await fresh.goto(app.origin);
      await fresh
        .getByRole('region', { name: 'Sessions' })
        .getByRole('link', { name: /Fake title/ })
        .first()
        .waitFor(WAIT);
      await fresh.locator(`a[href="#/session/${firstSession}"]`).click();
      await fresh
        .getByRole('list', { name: 'Conversation' })
        .getByText(scriptedText(STREAMED).trim())
        .waitFor(WAIT)
        .catch(async (err: Error) => {
          // Say what the page showed instead, so a failure here can be understood from the log.
          throw new Error(
            `${err.message}\nThe page showed: ${await fresh
              .locator('main')
              .innerText()
              .catch(() => '(nothing)')}`,
          );
        });
      await screenshot(fresh, 'app-pixel7-offline-session');
      await fresh.close();
    } finally {
      hold = false;
    }
    await page.reload();
    await page.getByRole('status').filter({ hasText: 'Connected' }).waitFor(WAIT);
  });

  it('lists a task that was already running when the app opened as running, before any further event', async () => {
    const bridge = app.host.runtime.bridge;
    const seen: RelayRuntimeEvent[] = [];
    const session = await bridge.createSession('Long job, started before the app opened');
    let streamed: () => void;
    const streaming = new Promise<void>((resolve, reject) => {
      streamed = resolve;
      setTimeout(() => reject(new Error(`the slow task sent no text within ${WAIT.timeout} ms; saw ${seen.map((e) => e.type).join(', ')}`)), WAIT.timeout).unref();
    });
    const stopWatching = bridge.onEvent((e) => {
      seen.push(e);
      if (e.type === 'message.text.delta' && e.sessionId === session.id) streamed();
    });
    // A new phone: nothing cached and nothing learned from events; only the host's list can tell.
    const phone = await browser.newContext({ ...PHONES.pixel7 });
    phone.on('weberror', (err) => pageErrors.push(String(err.error())));
    try {
      await bridge.prompt(session.id, 'Take your time [slow]');
      // Mid-stream the runtime has said "busy" already and says nothing more of the status until the end.
      await streaming;
      const statusEvents = () => seen.filter((e) => e.type === 'session.status' && e.sessionId === session.id).length;
      const before = statusEvents();

      const p = await phone.newPage();
      const offer = app.host.relay.newOffer();
      await p.goto(`${app.origin}/#/pair`);
      await p.getByRole('textbox', { name: 'Pairing code' }).fill(offer.code);
      await p.getByRole('button', { name: 'Pair', exact: true }).click();
      app.host.relay.approvals.approve((await app.nextApproval()).id);
      const sessions = p.getByRole('region', { name: 'Sessions' });
      // The title says nothing of the status: the badge does.
      await sessions.getByRole('link', { name: /^Long job, started before the app opened[\s\S]*Running/ }).waitFor(WAIT);
      assert.equal(statusEvents(), before, 'no status event reached the phone: the running state came with the list');
      await screenshot(p, 'app-pixel7-sessions-running');
    } finally {
      stopWatching();
      await phone.close();
      await bridge.abort(session.id);
    }
  });

  it('keeps far fewer parts in the DOM than a 2,000-message session has, and scrolling up reaches its first message', async () => {
    const hostId = await page.evaluate(async () => {
      const db = await new Promise<IDBDatabase>((resolve, reject) => {
        const req = indexedDB.open('openwork-relay');
        req.onsuccess = () => resolve(req.result);
        req.onerror = () => reject(req.error);
      });
      const hosts = await new Promise<{ hostId: string }[]>((resolve) => {
        const req = db.transaction('hosts').objectStore('hosts').getAll();
        req.onsuccess = () => resolve(req.result as { hostId: string }[]);
      });
      const hostId = hosts[0]!.hostId;
      const tx = db.transaction(['sessions', 'transcripts'], 'readwrite');
      const S = 'ses_zzzz_big';
      tx.objectStore('sessions').put({ hostId, sessionId: S, title: 'A very long session', createdAt: 1, updatedAt: 2, status: 'idle' });
      // A cached transcript, in the relay's shape (shared/protocol/transcript.ts).
      const messages = Array.from({ length: 2000 }, (_, i) => {
        const messageId = `msg_${String(i).padStart(6, '0')}`;
        const role = i % 2 ? 'assistant' : 'user';
        return {
          messageId,
          role,
          time: role === 'user' ? { created: i } : { created: i, completed: i },
          parts: [{ kind: 'text', partId: `prt_${messageId}`, text: `Part number ${i}`, done: true }],
        };
      });
      tx.objectStore('transcripts').put({ hostId, sessionId: S, transcript: { sessionId: S, state: { status: 'idle' }, messages, todos: [] } });
      await new Promise((resolve) => (tx.oncomplete = resolve));
      db.close();
      return hostId;
    });
    assert.ok(hostId);
    await page.goto(`${app.origin}/#/session/ses_zzzz_big`);
    const conversation = page.getByRole('list', { name: 'Conversation' });
    await conversation.getByText('Part number 1999', { exact: true }).waitFor(WAIT);
    const count = () => conversation.getByRole('listitem').count();
    assert.ok((await count()) <= 150, `at most 150 of the 2,000 parts in the DOM (${await count()})`);
    // Scrolling up, as a thumb does, until the first message shows: the window follows the scroll.
    // The first message is the person's: its bubble reads "You: Part number 0".
    const first = conversation.getByText('You: Part number 0', { exact: true });
    for (let i = 0; i < 400 && !(await first.count()); i++) {
      await page.evaluate(() => new Promise((frame) => (window.scrollTo({ top: 0 }), requestAnimationFrame(() => requestAnimationFrame(frame)))));
    }
    await first.waitFor(WAIT);
    await page.evaluate(() => window.scrollTo({ top: 0 }));
    const box = (await first.boundingBox())!;
    assert.ok(box.y >= 0 && box.y < page.viewportSize()!.height, `the first message is on screen at the top (${JSON.stringify(box)})`);
    assert.ok((await count()) <= 150, `still at most 150 parts in the DOM at the top (${await count()})`);
    await page.getByRole('button', { name: 'Jump to latest' }).click();
    await conversation.getByText('Part number 1999', { exact: true }).waitFor(WAIT);
  });

  it('pairs with a typed code', async () => {
    const offer = app.host.relay.newOffer();
    await page.goto(`${app.origin}/#/pair`);
    await page.getByRole('textbox', { name: 'Pairing code' }).fill(offer.code.toLowerCase());
    await page.getByRole('button', { name: 'Pair', exact: true }).click();
    const approval = await app.nextApproval();
    await page.getByText(spaced(approval.code)).waitFor(WAIT);
    app.host.relay.approvals.approve(approval.id);
    await page.getByRole('region', { name: 'Sessions' }).waitFor(WAIT);
    await page.getByRole('status').filter({ hasText: 'Connected' }).waitFor(WAIT);
  });

  it('pairs with the in-app scanner (fake camera), iPhone-sized and dark', async () => {
    const offer = app.host.relay.newOffer();
    const video = await writeQrVideo(offer.link, join(scratch, 'qr.y4m'));
    const camera = await launchChromium({ args: ['--use-fake-device-for-media-stream', `--use-file-for-fake-video-capture=${video}`] });
    try {
      const phone = await camera.newContext({ ...PHONES.iphone, colorScheme: 'dark', permissions: ['camera'] });
      const p = await phone.newPage();
      await p.goto(`${app.origin}/#/pair`);
      await p.getByRole('button', { name: 'Scan QR' }).click();
      const approval = await app.nextApproval();
      await p.getByText(spaced(approval.code)).waitFor(WAIT);
      await screenshot(p, 'app-iphone-pair-code-dark');
      app.host.relay.approvals.approve(approval.id);
      await p.getByRole('region', { name: 'Sessions' }).waitFor(WAIT);
      await p
        .getByRole('link', { name: /Fake title/ })
        .first()
        .waitFor(WAIT);
      await screenshot(p, 'app-iphone-sessions-dark');
      await p
        .getByRole('link', { name: /Fake title/ })
        .first()
        .click();
      await p.getByRole('list', { name: 'Conversation' }).getByRole('listitem').first().waitFor(WAIT);
      await screenshot(p, 'app-iphone-session-dark');
    } finally {
      await camera.close();
    }
  });

  it('ran without script errors', () => {
    assert.deepEqual(pageErrors, []);
  });
});
