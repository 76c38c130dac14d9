/**
 * The phone's outbox against the REAL host and the REAL OpenCode runtime (fake model), in
 * Chromium with a profile on disk: tasks written offline are kept through closing the app and
 * restarting the browser, can be edited and cancelled while queued, and run exactly once and in
 * order once the phone is back online, checked against what OpenCode itself stored (and what the
 * model was asked); a new task's photo waits with it and goes with it, once, to the model chosen
 * offline from the composer options the phone kept. A task the host refuses shows as not sent,
 * with Retry and Delete.
 *
 * Offline is Chromium's own (`context.setOffline`), what a phone without signal looks like to the
 * app: `navigator.onLine` false, no new connections, the shell from the service worker. Each
 * offline spell starts on a fresh page, because setOffline does not close a WebSocket already
 * open (it holds its messages instead: browser-testing.md).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright';
import { startAppHost, type AppHost } from './fixtures/app-host.ts';
import { PHONES, launchPersistentChromium, screenshot } from './browser.ts';
import { DB_VERSION } from '../client/storage/db.ts';

const WAIT = { timeout: 60_000 };

interface Stored {
  info: { id: string; role: string; parentID?: string; time: { completed?: number } };
  parts: { type: string; text?: string }[];
}

const textOf = (m: Stored) =>
  m.parts
    .filter((p) => p.type === 'text')
    .map((p) => p.text ?? '')
    .join('');

describe('the outbox with a real host and runtime', { timeout: 300_000 }, () => {
  let app: AppHost;
  let profile: string;
  let context: BrowserContext | undefined;
  let page: Page;
  let sessionId = '';
  const pageErrors: string[] = [];

  before(async () => {
    profile = await mkdtemp(join(tmpdir(), 'relay-outbox-profile-'));
    app = await startAppHost({ fakeModel: { chunkDelayMs: 10 } });
  });

  after(async () => {
    await context?.close();
    await app?.close();
    if (profile) await rm(profile, { recursive: true, force: true });
  });

  /** Starts the browser on the test's profile (again), offline from the first request when asked. */
  async function launch(offline: boolean): Promise<void> {
    context = await launchPersistentChromium(profile, { ...PHONES.pixel7 });
    context.on('weberror', (err) => pageErrors.push(String(err.error())));
    if (offline) await context.setOffline(true);
    page = context.pages()[0] ?? (await context.newPage());
  }

  /** A fresh page on `hash`: the old page, and its connection, go away. */
  async function reopen(hash: string): Promise<void> {
    const old = page;
    page = await context!.newPage();
    await old.close();
    await page.goto(`${app.origin}/${hash}`);
  }

  const sessions = async () => (await app.host.runtime.bridge.listSessions()).sessions;
  const stored = async (id: string) => (await app.host.runtime.bridge.messages(id)) as unknown as Stored[];
  /** Every user message OpenCode stored, in every session, with the reply it got (if any). */
  async function transcript() {
    const all = [];
    for (const s of await sessions()) {
      const messages = await stored(s.id);
      for (const m of messages.filter((x) => x.info.role === 'user')) {
        const reply = messages.find((x) => x.info.role === 'assistant' && x.info.parentID === m.info.id);
        all.push({ sessionId: s.id, id: m.info.id, text: textOf(m), answered: Boolean(reply?.info.time.completed) });
      }
    }
    return all.sort((a, b) => (a.id < b.id ? -1 : 1));
  }

  async function until<T>(what: string, read: () => Promise<T>, ok: (v: T) => boolean): Promise<T> {
    const deadline = Date.now() + WAIT.timeout;
    for (;;) {
      const v = await read();
      if (ok(v)) return v;
      if (Date.now() > deadline) assert.fail(`${what}: still ${JSON.stringify(v)}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }

  const pill = () => page.getByRole('status').filter({ hasText: /Offline|Connect|Reconnecting|Catching up/ });
  const queuedItem = (text: string) => page.getByRole('list', { name: 'Queued tasks' }).getByRole('listitem').filter({ hasText: text });

  it('pairs and runs a first task online', async () => {
    await launch(false);
    const offer = app.host.relay.newOffer();
    await page.goto(offer.link);
    app.host.relay.approvals.approve((await app.nextApproval()).id);
    await page.getByRole('region', { name: 'Sessions' }).waitFor(WAIT);
    // What the runtime offers the composer, kept on the phone for the offline spells below.
    await page.getByRole('combobox', { name: 'Model' }).waitFor(WAIT);
    await page.getByRole('textbox', { name: 'New task' }).fill('first [text:3]');
    await page.getByRole('button', { name: 'Start task' }).click();
    await page.getByRole('list', { name: 'Conversation' }).getByText('w2').waitFor(WAIT);
    await page.getByRole('status').filter({ hasText: 'Idle' }).waitFor(WAIT);
    sessionId = decodeURIComponent(new URL(page.url()).hash.replace('#/session/', ''));
    assert.match(sessionId, /^ses_/);
    // Offline pages come from the service worker: it must control the app first.
    await page.waitForFunction(() => navigator.serviceWorker.controller !== null, undefined, WAIT);
  });

  it('queues tasks offline, edits one and cancels one; the queue survives a browser restart', async () => {
    await context!.setOffline(true);
    await reopen(`#/session/${sessionId}`);
    await pill().filter({ hasText: 'Offline' }).waitFor(WAIT);
    // Opened offline: the session's composer still offers the choice it was offered online.
    await page.getByRole('combobox', { name: 'Model' }).waitFor(WAIT);
    const follow = page.getByRole('textbox', { name: 'Follow-up' });
    await page.getByText(/stays on this phone and is sent when/).waitFor(WAIT);
    await follow.fill('alpha [text:3]');
    await page.getByRole('button', { name: 'Send' }).click();
    await queuedItem('alpha').getByText('Queued').waitFor(WAIT);

    await page.getByRole('link', { name: 'All sessions' }).click();
    await page.getByRole('textbox', { name: 'New task' }).fill('bravo [text:3]');
    // A new task carries a photo too: kept on the phone with it.
    const png = await page.evaluate(async () => {
      const canvas = new OffscreenCanvas(64, 48);
      canvas.getContext('2d')!.fillRect(0, 0, 32, 24);
      const bytes = new Uint8Array(await (await canvas.convertToBlob({ type: 'image/png' })).arrayBuffer());
      return btoa(String.fromCharCode(...bytes));
    });
    await page.getByLabel('Attach photos or files').setInputFiles({ name: 'bravo.png', mimeType: 'image/png', buffer: Buffer.from(png, 'base64') });
    await page.getByRole('list', { name: 'Attached files' }).getByText('bravo.png').waitFor(WAIT);
    // A page opened offline still offers the models it was offered last time, and knows which read
    // images: the photo goes to one that does, not to the default that does not.
    await page.getByRole('alert').filter({ hasText: 'Fake model does not read images' }).waitFor(WAIT);
    assert.equal(await page.getByRole('button', { name: 'Start task' }).isDisabled(), true);
    await page.getByRole('combobox', { name: 'Model' }).selectOption('fake/fake-smart');
    await page.getByRole('button', { name: 'Start task' }).click();
    await queuedItem('bravo').getByText('Queued').waitFor(WAIT);
    await queuedItem('bravo').getByText('bravo.png').waitFor(WAIT);
    assert.equal(new URL(page.url()).hash, '#/sessions', 'a queued new task stays in the list');

    await page.goto(`${app.origin}/#/session/${sessionId}`);
    for (const text of ['charlie [text:3]', 'delta [text:3]']) {
      await follow.fill(text);
      await page.getByRole('button', { name: 'Send' }).click();
      await queuedItem(text).waitFor(WAIT);
    }
    await queuedItem('alpha').getByRole('button', { name: 'Edit' }).click();
    await page.getByRole('textbox', { name: 'Edit queued task' }).fill('alpha edited [text:3]');
    await page.getByRole('button', { name: 'Save' }).click();
    await queuedItem('alpha edited').waitFor(WAIT);
    await queuedItem('delta').getByRole('button', { name: 'Cancel task' }).click();
    await queuedItem('delta').waitFor({ state: 'hidden', ...WAIT });
    await pill().filter({ hasText: '3 queued' }).waitFor(WAIT);
    await screenshot(page, 'outbox-pixel7-queued');

    // Close the app and the browser; start again, still offline.
    await context!.close();
    context = undefined;
    await launch(true);
    await page.goto(`${app.origin}/#/session/${sessionId}`);
    await queuedItem('alpha edited').getByText('Queued').waitFor(WAIT);
    await queuedItem('charlie').waitFor(WAIT);
    await page.getByRole('link', { name: 'All sessions' }).click();
    await queuedItem('bravo').getByText('bravo.png').waitFor(WAIT);
    await page.goto(`${app.origin}/#/session/${sessionId}`);
    assert.equal(await queuedItem('delta').count(), 0);
    await pill().filter({ hasText: 'Offline' }).filter({ hasText: '3 queued' }).waitFor(WAIT);
    assert.deepEqual(
      (await transcript()).map((m) => m.text),
      ['first [text:3]'],
      'nothing reached the computer while offline',
    );
  });

  it('back online, the three run exactly once and in order, as OpenCode stored them', async () => {
    await context!.setOffline(false);
    await page.getByRole('list', { name: 'Queued tasks' }).waitFor({ state: 'hidden', ...WAIT });
    const done = await until('every task answered', transcript, (all) => all.length >= 4 && all.every((m) => m.answered));
    assert.deepEqual(
      done.map((m) => m.text),
      ['first [text:3]', 'alpha edited [text:3]', 'bravo [text:3]', 'charlie [text:3]'],
      'each once, in the order queued',
    );
    assert.deepEqual(
      done.map((m) => m.sessionId === sessionId),
      [true, true, false, true],
      'follow-ups in their session, the new task in a session of its own',
    );
    assert.equal((await sessions()).length, 2, 'one new session for the new task');
    const bravo = (await stored(done[2]!.sessionId)).filter((m) => m.info.role === 'user');
    assert.deepEqual(
      bravo.map((m) => m.parts.filter((p) => p.type === 'file').length),
      [1],
      "the new task's photo reached the runtime with it, once",
    );
    assert.equal((await readdir(join(app.dataDir, 'attachments'))).filter((f) => f.endsWith('.bin')).length, 1, 'the host got the photo once');
    // Each turn asked the model once, in order: none was folded into another.
    const asked = app.sandbox.fakeModel.requests.filter((r) => r.kind !== 'title').map((r) => r.lastUserText);
    assert.deepEqual(
      asked.map((text) => text.split('\n')[0]),
      ['first [text:3]', 'alpha edited [text:3]', 'bravo [text:3]', 'charlie [text:3]'],
    );
    // Chosen offline from the options kept on the phone: a model that reads images gets the photo as one.
    const bravoAsked = app.sandbox.fakeModel.requests.find((r) => r.kind !== 'title' && r.lastUserText.startsWith('bravo'))!;
    assert.equal(bravoAsked.body.model, 'fake-smart');
    const bravoMessages = bravoAsked.body.messages as Array<{ role: string; content: unknown }>;
    const bravoContent = [...bravoMessages].reverse().find((m) => m.role === 'user')!.content as Array<{ type: string }>;
    assert.ok(
      bravoContent.some((c) => c.type === 'image_url'),
      `an image part: ${JSON.stringify(bravoContent.map((c) => c.type))}`,
    );
    const conversation = page.getByRole('list', { name: 'Conversation' });
    await conversation.getByText('charlie [text:3]').waitFor(WAIT);
    await pill()
      .filter({ hasText: /^Connected/ })
      .waitFor(WAIT);
    assert.equal(await pill().filter({ hasText: 'queued' }).count(), 0);
  });

  it('a task the computer refuses shows as not sent, with Retry and Delete', async () => {
    const device = app.host.relay.devices.list()[0]!;
    await context!.setOffline(true);
    await reopen(`#/session/${sessionId}`);
    await pill().filter({ hasText: 'Offline' }).waitFor(WAIT);
    for (const text of ['refused one [text:3]', 'refused two [text:3]']) {
      await page.getByRole('textbox', { name: 'Follow-up' }).fill(text);
      await page.getByRole('button', { name: 'Send' }).click();
      await queuedItem(text).waitFor(WAIT);
    }
    assert.equal(app.host.relay.devices.setAccess(device.id, { scopes: ['read'] }).ok, true);
    await context!.setOffline(false);

    const one = queuedItem('refused one');
    await one.getByRole('alert').filter({ hasText: 'not allowed to do that' }).waitFor(WAIT);
    await one.getByText('Not sent').waitFor(WAIT);
    await one.getByRole('button', { name: 'Retry' }).waitFor(WAIT);
    await queuedItem('refused two').getByText('Queued').waitFor(WAIT);
    await pill().filter({ hasText: '1 not sent' }).waitFor(WAIT);
    await screenshot(page, 'outbox-pixel7-refused');

    await one.getByRole('button', { name: 'Delete' }).click();
    await one.waitFor({ state: 'hidden', ...WAIT });
    const two = queuedItem('refused two');
    await two.getByRole('alert').filter({ hasText: 'not allowed to do that' }).waitFor(WAIT);
    assert.equal(app.host.relay.devices.setAccess(device.id, { scopes: ['read', 'run', 'approve'] }).ok, true);
    await two.getByRole('button', { name: 'Retry' }).click();
    await two.waitFor({ state: 'hidden', ...WAIT });
    const all = await until('the retried task answered', transcript, (list) => list.some((m) => m.text.startsWith('refused two') && m.answered));
    assert.deepEqual(
      all.filter((m) => m.text.startsWith('refused')).map((m) => m.text),
      ['refused two [text:3]'],
      'the deleted one never ran',
    );
  });

  it('keeps a task queued by an app whose database was still at version 1, and sends it', async () => {
    // /healthz is the host's, not the app's (the service worker leaves it alone): a page of the
    // app's origin with no app in it, to write the old database while nothing holds it open.
    const blank = await context!.newPage();
    for (const p of context!.pages()) if (p !== blank) await p.close();
    await blank.goto(`${app.origin}/healthz`);
    // A string, not a function: the test's compiler would add helpers the page does not have.
    await blank.evaluate(`(async (sessionId) => {
      const done = (r) => new Promise((resolve, reject) => ((r.onsuccess = () => resolve(r.result)), (r.onerror = () => reject(r.error))));
      const db = await done(indexedDB.open('openwork-relay'));
      const read = db.transaction(['hosts', 'meta']);
      const hosts = await done(read.objectStore('hosts').getAll());
      const metaKeys = await done(read.objectStore('meta').getAllKeys());
      const metaValues = await done(read.objectStore('meta').getAll());
      db.close();
      await done(indexedDB.deleteDatabase('openwork-relay'));
      const opening = indexedDB.open('openwork-relay', 1);
      opening.onupgradeneeded = () => {
        const v1 = opening.result;
        v1.createObjectStore('hosts', { keyPath: 'hostId' });
        v1.createObjectStore('sessions', { keyPath: ['hostId', 'sessionId'] });
        v1.createObjectStore('messages', { keyPath: ['hostId', 'sessionId', 'messageId'] });
        v1.createObjectStore('outbox', { keyPath: 'key' }).createIndex('byHost', 'hostId');
        v1.createObjectStore('meta');
      };
      const v1 = await done(opening);
      const write = v1.transaction(['hosts', 'meta', 'outbox'], 'readwrite');
      for (const h of hosts) write.objectStore('hosts').put(h);
      metaKeys.forEach((k, i) => write.objectStore('meta').put(metaValues[i], k));
      // A version 1 outbox record: no order, no state.
      write.objectStore('outbox').put({ key: 'tsk_from_version_1', hostId: hosts[0].hostId, sessionId, text: 'from version one [text:3]', createdAt: Date.now() });
      await new Promise((resolve) => (write.oncomplete = resolve));
      v1.close();
    })(${JSON.stringify(sessionId)})`);
    page = blank;
    // Offline first, to look at the upgraded record before it is sent.
    await context!.setOffline(true);
    await page.goto(`${app.origin}/#/session/${sessionId}`);
    await queuedItem('from version one').getByText('Queued').waitFor(WAIT);
    const upgraded = await page.evaluate(`new Promise((resolve) => {
      const open = indexedDB.open('openwork-relay');
      open.onsuccess = () => {
        const get = open.result.transaction('outbox').objectStore('outbox').get('tsk_from_version_1');
        get.onsuccess = () => (open.result.close(), resolve({ version: open.result.version, record: get.result }));
      };
    })`);
    const { version, record } = upgraded as { version: number; record: { order?: unknown; text?: string } };
    assert.equal(version, DB_VERSION, 'upgraded through every version since');
    assert.equal(typeof record.order, 'number', 'the upgrade gave the old item its place in the queue');
    assert.equal(record.text, 'from version one [text:3]');
    await context!.setOffline(false);
    const all = await until('the old task answered', transcript, (list) => list.some((m) => m.text.startsWith('from version one') && m.answered));
    assert.equal(all.filter((m) => m.text.startsWith('from version one')).length, 1);
    assert.equal(all.find((m) => m.text.startsWith('from version one'))!.sessionId, sessionId);
    await page.getByRole('list', { name: 'Conversation' }).getByText('from version one [text:3]').waitFor(WAIT);
  });

  it('ran without script errors', () => {
    assert.deepEqual(pageErrors, []);
  });
});
