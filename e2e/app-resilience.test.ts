/**
 * Never lose a task (issue 6), in the phone app: the real host with the real OpenCode runtime
 * (fake model at the provider boundary) and Chromium at phone size, driven by role and name.
 * The phone reaches the host through proxies the tests cut (fixtures/flaky-proxy.ts), its
 * direct relay address blocked, so every drop is one the app has to get over by itself:
 * connections dropped at random while tasks stream (also right after a submission), a host
 * SIGKILLed mid-task and started again, a permission request raised while the phone was away,
 * one lost with its runtime, and a host whose first addresses are dead.
 */
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Socket } from 'node:net';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright';
import { loadOrCreateIdentity } from '../host/identity.ts';
import { openDeviceRegistry } from '../host/devices/registry.ts';
import { silentLogger } from '../host/log.ts';
import { PHONES, cuttableProxy, ensureBuilt, launchChromium } from './browser.ts';
import { startAppHost, type AppHost } from './fixtures/app-host.ts';
import { fileCleanup } from './fixtures/cleanup.ts';
import { scriptedText, type FakeModel } from './fixtures/fake-model.ts';
import { startFlakyProxy, type FlakyProxy } from './fixtures/flaky-proxy.ts';
import { blockRelay, openPairedApp, registerPhone } from './fixtures/paired-phone.ts';
import { startRuntimeFixture } from './fixtures/runtime.ts';
import { freePort, spawnHost } from './fixtures/spawn-host.ts';
import { until } from './fixtures/poll.ts';

const { cleanups } = fileCleanup('relay-app-resilience-');
const WAIT = { timeout: 60_000 };
/** Task texts are padded past this many bytes so a proxy can tell a submission from a heartbeat ping. */
const SUBMISSION_BYTES = 300;
const PADDING = 'Please answer with the scripted text for this test; this sentence only makes the request longer than a heartbeat. '.repeat(3);

type StoredMessage = { info: { id: string; role: string; parentID?: string; time: { completed?: number } }; parts: Array<{ id: string; type: string; text?: string }> };
type ShownPart = { key: string; user: boolean; text: string };

const norm = (text: string) => text.replace(/\s+/g, ' ').trim();

/** The runtime's stored transcript, as the conversation shows it: text parts in message order. */
function storedTranscript(messages: unknown): ShownPart[] {
  return [...(messages as StoredMessage[])]
    .sort((a, b) => (a.info.id < b.info.id ? -1 : 1))
    .flatMap((m) =>
      [...m.parts]
        .sort((a, b) => (a.id < b.id ? -1 : 1))
        .filter((p) => p.type === 'text' && norm(p.text ?? ''))
        .map((p) => ({ key: p.id, user: m.info.role === 'user', text: norm(p.text!) })),
    );
}

/** What the conversation on screen shows: its text parts, in order. */
function shownTranscript(page: Page): Promise<ShownPart[]> {
  return page.evaluate(() =>
    [...document.querySelectorAll<HTMLElement>('ol.timeline > li.part--text')]
      .map((li) => ({
        key: li.dataset.key ?? '',
        user: li.classList.contains('part--user'),
        text: (li.querySelector('.bubble, .assistant .md')?.textContent ?? '')
          .replace(/^You: /, '')
          .replace(/\s+/g, ' ')
          .trim(),
      }))
      .filter((p) => p.text),
  );
}

const userMessages = (messages: unknown, marker: string) =>
  (messages as StoredMessage[]).filter((m) => m.info.role === 'user' && m.parts.some((p) => p.type === 'text' && p.text?.startsWith(`${marker} `)));

/** The model requests that answered `marker`'s task (not title generation). */
const modelRuns = (model: FakeModel, marker: string) => model.requests.filter((r) => r.kind !== 'title' && r.lastUserText.startsWith(`${marker} `)).length;

/** The task's reply is complete in the runtime: an assistant message answering it, finished, with text. */
const taskDone = (messages: unknown, marker: string) => {
  const asked = userMessages(messages, marker)[0];
  return (
    !!asked &&
    (messages as StoredMessage[]).some((m) => m.info.parentID === asked.info.id && m.info.time.completed !== undefined && m.parts.some((p) => p.type === 'text' && p.text))
  );
};

const connectedPill = (page: Page) => page.getByRole('status').filter({ hasText: /^Connected/ });

/** The session on screen (after "Start task" the app shows the new session; a runtime's first session can take long). */
async function sessionOnScreen(page: Page): Promise<string> {
  await page.waitForURL(/#\/session\/[^/]+$/, { timeout: 120_000 });
  return decodeURIComponent(new URL(page.url()).hash.replace('#/session/', ''));
}

describe('the phone app gets over lost connections, host and runtime restarts by itself', { timeout: 600_000 }, () => {
  let app: AppHost;
  let browser: Browser;

  before(async () => {
    [app, browser] = await Promise.all([startAppHost({ fakeModel: { chunkDelayMs: 40 } }), launchChromium()]);
    cleanups.push(
      () => app.close(),
      () => browser.close(),
    );
  });

  async function phoneContext(): Promise<BrowserContext> {
    const context = await browser.newContext({ ...PHONES.pixel7 });
    cleanups.push(() => context.close());
    return context;
  }

  /** A phone paired with the shared host that knows it only at `proxy` (the direct address is blocked). */
  async function phoneBehind(proxy: FlakyProxy): Promise<Page> {
    const context = await phoneContext();
    await blockRelay(context, app.origin);
    const record = registerPhone({
      registry: app.host.relay.devices,
      host: app.host.relay.identity,
      addresses: [`http://127.0.0.1:${proxy.port}`],
      workspace: app.sandbox.workspace,
    });
    const page = await openPairedApp(context, app.origin, record);
    await connectedPill(page).waitFor(WAIT);
    return page;
  }

  async function flakyProxy(): Promise<FlakyProxy> {
    const proxy = await startFlakyProxy(app.host.port);
    cleanups.push(() => proxy.close());
    return proxy;
  }

  it('races the known addresses: a closed port and a silent one do not hold it up, the loser is closed, the winner remembered', async () => {
    // A "computer" that accepts connections and never answers: without racing, a 10 s timeout.
    const held = new Set<Socket>();
    let tried = 0;
    let closedByPhone = 0;
    const hole = createServer((s: Socket) => {
      tried++;
      held.add(s);
      s.on('error', () => {})
        .on('close', () => (held.delete(s), closedByPhone++))
        .resume();
    });
    await new Promise<void>((r) => hole.listen(0, '127.0.0.1', r));
    // close() waits for open connections: end any the phone left open, or the file never exits.
    cleanups.push(() => new Promise((r) => (hole.close(r), held.forEach((s) => void s.destroy()))));
    const closedPort = await freePort();
    // The page comes from an origin that is not one of the host's addresses, so no address is favoured.
    const front = await cuttableProxy(app.host.port);
    cleanups.push(() => front.close());
    const context = await phoneContext();
    const record = registerPhone({
      registry: app.host.relay.devices,
      host: app.host.relay.identity,
      workspace: app.sandbox.workspace,
      addresses: [`http://127.0.0.1:${closedPort}`, `http://127.0.0.1:${(hole.address() as { port: number }).port}`, app.origin],
    });
    const page = await openPairedApp(context, front.url.replace(/\/$/, ''), record);
    await connectedPill(page).waitFor(WAIT);
    await until('the silent address to be tried and then closed by the phone', () => tried > 0 && closedByPhone === tried);
    const remembered = await page.evaluate((id) => localStorage.getItem(`relay.address.${id}`), record.hostId);
    assert.equal(remembered, app.origin, 'the winner is tried first next time');
  });

  it('drops the connection at random while tasks stream, also between a submission and its answer: each task runs once, the phone shows what the runtime stored', async () => {
    const proxy = await flakyProxy();
    const page = await phoneBehind(proxy);
    const TASKS = 6;
    let sessionId = '';
    let armed = 0;
    for (let k = 0; k < TASKS; k++) {
      const marker = `chaos-${k}`;
      const text = `${marker} ${PADDING}[text:60]`;
      let stopChaos = () => {};
      if (k === 0) {
        // The first task opens its session from a connected phone, so the test knows which one it is.
        await connectedPill(page).waitFor(WAIT);
        await page.getByRole('textbox', { name: 'New task' }).fill(text);
        await page.getByRole('button', { name: 'Start task' }).click();
        sessionId = await sessionOnScreen(page);
      } else {
        // Follow-ups are written and sent while the connection keeps dropping: the outbox resends until the host has them.
        stopChaos = proxy.chaos({ minMs: 150, maxMs: 600 });
        if (k % 2 === 1) {
          proxy.dropAfterNextRequest(SUBMISSION_BYTES); // the host gets the task, the phone never sees the answer
          armed++;
        }
        await page.getByRole('textbox', { name: 'Follow-up' }).fill(text);
        await page.getByRole('button', { name: 'Send' }).click();
      }
      try {
        await until(`${marker} to reach the runtime`, async () => userMessages(await app.host.runtime.bridge.messages(sessionId), marker).length > 0);
        if (k === 0) stopChaos = proxy.chaos({ minMs: 150, maxMs: 600 });
        await until(`${marker} to finish`, async () => taskDone(await app.host.runtime.bridge.messages(sessionId), marker));
      } finally {
        stopChaos();
      }
    }

    const messages = await app.host.runtime.bridge.messages(sessionId);
    for (let k = 0; k < TASKS; k++) {
      assert.equal(userMessages(messages, `chaos-${k}`).length, 1, `chaos-${k} has one user message`);
      assert.equal(modelRuns(app.sandbox.fakeModel, `chaos-${k}`), 1, `chaos-${k} reached the model once`);
    }
    const stored = storedTranscript(messages);
    assert.equal(stored.filter((p) => !p.user && p.text === norm(scriptedText(60))).length, TASKS);
    // The last events may still be on their way: wait for them, then compare (a timeout shows the difference).
    await until('the conversation on the phone to equal the runtime’s', async () => JSON.stringify(await shownTranscript(page)) === JSON.stringify(stored), 30_000).catch(() => {});
    const shown = await shownTranscript(page);
    assert.deepEqual(shown, stored, 'the phone shows exactly what the runtime stored: no gaps, no duplicates');
    assert.ok(proxy.drops >= TASKS + armed, `the proxy dropped ${proxy.drops} connections (${armed} right after a submission)`);
    await connectedPill(page).waitFor(WAIT);
  });

  it('a permission request raised while the phone is away is shown when it is back; Allow once answers it and the task completes', async () => {
    const proxy = await flakyProxy();
    const page = await phoneBehind(proxy);
    await page.getByRole('textbox', { name: 'New task' }).fill('away-0 [text:3]');
    await page.getByRole('button', { name: 'Start task' }).click();
    const sessionId = await sessionOnScreen(page);
    await until('the first task to finish', async () => taskDone(await app.host.runtime.bridge.messages(sessionId), 'away-0'));
    await page.getByRole('status').filter({ hasText: 'Idle' }).waitFor(WAIT);

    // The submission gets through, the connection dies right after, and the phone stays away.
    await proxy.refuse();
    proxy.dropAfterNextRequest(SUBMISSION_BYTES);
    await page.getByRole('textbox', { name: 'Follow-up' }).fill(`away-1 ${PADDING}[bash:echo asked-while-away]`);
    await page.getByRole('button', { name: 'Send' }).click();
    const asked = await until('the runtime to ask', () => app.host.relay.permissions.pending().find((p) => p.sessionId === sessionId));
    await connectedPill(page).waitFor({ state: 'hidden', ...WAIT });
    const sheet = page.getByRole('dialog', { name: 'Allow this command?' });
    assert.equal(await sheet.count(), 0, 'the phone has not seen the request yet');

    await proxy.restore();
    await sheet.waitFor(WAIT);
    await sheet.getByText('echo asked-while-away').waitFor(WAIT);
    await sheet.getByRole('button', { name: 'Allow once' }).click();
    await sheet.waitFor({ state: 'hidden', ...WAIT });
    const conversation = page.getByRole('list', { name: 'Conversation' });
    await conversation.getByLabel('Output').filter({ hasText: 'asked-while-away' }).waitFor(WAIT);
    await conversation.getByText('Tool finished.').waitFor(WAIT);
    await until('the task to finish', async () => taskDone(await app.host.runtime.bridge.messages(sessionId), 'away-1'));
    assert.ok(!app.host.relay.permissions.pending().some((p) => p.requestId === asked.requestId));
    assert.equal(userMessages(await app.host.runtime.bridge.messages(sessionId), 'away-1').length, 1, 'the task ran once');
  });

  it('the runtime dies while a permission request waits: answering is refused, not reported as done, and the request shows as expired with the reason', async () => {
    const context = await phoneContext();
    const record = registerPhone({ registry: app.host.relay.devices, host: app.host.relay.identity, addresses: [app.origin], workspace: app.sandbox.workspace });
    const page = await openPairedApp(context, app.origin, record);
    await connectedPill(page).waitFor(WAIT);
    await page.getByRole('textbox', { name: 'New task' }).fill('lost-1 [bash:echo never-runs]');
    await page.getByRole('button', { name: 'Start task' }).click();
    const sessionId = await sessionOnScreen(page);
    const sheet = page.getByRole('dialog', { name: 'Allow this command?' });
    await sheet.getByText('echo never-runs').waitFor(WAIT);

    const supervisor = app.host.runtime.supervisor;
    process.kill(-supervisor.state.pid!, 'SIGKILL');
    await until('the host to notice the runtime is gone', () => supervisor.state.status !== 'ready', 30_000);
    // The phone has not heard yet: the person answers, and must not be told it worked.
    await sheet.getByRole('button', { name: 'Allow once' }).click();
    await sheet.getByRole('alert').waitFor(WAIT);
    assert.match(await sheet.getByRole('alert').innerText(), /not ready|not delivered|no longer/);

    const expired = page.getByRole('dialog', { name: 'This request expired' });
    await expired.getByText(/Expired: the OpenCode runtime restarted .*SIGKILL/).waitFor({ timeout: 90_000 });
    await expired.getByText('echo never-runs').waitFor(WAIT);
    assert.equal(await expired.getByRole('button', { name: 'Allow once' }).count(), 0, 'an expired request cannot be answered');
    assert.equal(await page.getByRole('button', { name: /approvals? waiting/ }).count(), 0, 'nothing waits any more');
    await expired.getByRole('button', { name: 'Dismiss' }).click();
    await expired.waitFor({ state: 'hidden', ...WAIT });
    assert.doesNotMatch(JSON.stringify(await app.host.runtime.bridge.messages(sessionId)), /"output":"never-runs/, 'the command never ran');
  });

  it('the host is SIGKILLed during a running task and started again: the phone reconnects by itself and shows the outcome', async () => {
    await ensureBuilt();
    // The runtime outlives the host (attach mode), as a task should: the host is what dies.
    const runtime = await startRuntimeFixture({ fakeModel: { chunkDelayMs: 40 } });
    cleanups.push(() => runtime.stop());
    const dataDir = join(runtime.root, 'relay-data');
    const identity = loadOrCreateIdentity(dataDir, silentLogger);
    const registry = openDeviceRegistry({ dataDir, log: silentLogger });
    const port = await freePort();
    const origin = `http://127.0.0.1:${port}`;
    const record = registerPhone({ registry, host: identity, addresses: [origin], workspace: runtime.workspace });
    registry.close();
    let host = await spawnHost(runtime, dataDir, port, cleanups);

    const context = await phoneContext();
    const page = await openPairedApp(context, origin, record);
    await connectedPill(page).waitFor(WAIT);
    await page.getByRole('textbox', { name: 'New task' }).fill('restart-1 [text:150]');
    await page.getByRole('button', { name: 'Start task' }).click();
    const sessionId = await sessionOnScreen(page);
    const conversation = page.getByRole('list', { name: 'Conversation' });
    await conversation.getByText(/w5 /).waitFor(WAIT);

    host.process.kill('SIGKILL');
    await host.exited;
    await connectedPill(page).waitFor({ state: 'hidden', ...WAIT });
    host = await spawnHost(runtime, dataDir, port, cleanups);

    await conversation.getByText(scriptedText(150).trim()).waitFor({ timeout: 120_000 });
    await connectedPill(page).waitFor(WAIT);
    await page.getByRole('status').filter({ hasText: 'Idle' }).waitFor(WAIT);
    const messages = await runtime.bridge.messages(sessionId);
    assert.equal(userMessages(messages, 'restart-1').length, 1, 'the task ran once');
    assert.equal(modelRuns(runtime.fakeModel, 'restart-1'), 1);
    assert.deepEqual(await shownTranscript(page), storedTranscript(messages));
  });
});
