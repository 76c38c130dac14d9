/**
 * Interrupted tasks are a state, not a hang (issue 14): the host as a person runs it (`npm start`,
 * with its own runtime on a fake model that streams slowly) is stopped with Ctrl-C (SIGINT) while
 * a task's answer streams, and started again on the same port and data directory. Its runtime
 * went down with it, so the turn can never finish: the phone must show it as interrupted with the
 * partial answer kept (also after a reload, and on a second phone), run the follow-up that was
 * queued behind it, run it again on Retry, and never show a session running while the runtime
 * itself (`GET /session/status`) says none is. And the runtime alone killed mid-answer (the host
 * restarts it): the same, with why.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { Page } from 'playwright';
import { loadOrCreateIdentity } from '../host/identity.ts';
import { openDeviceRegistry } from '../host/devices/registry.ts';
import { silentLogger } from '../host/log.ts';
import { PHONES, ensureBuilt, launchChromium } from './browser.ts';
import { fileCleanup } from './fixtures/cleanup.ts';
import { startAppHost } from './fixtures/app-host.ts';
import { scriptedText } from './fixtures/fake-model.ts';
import { startMainHost, type MainHost } from './fixtures/main-host.ts';
import { openPairedApp, registerPhone } from './fixtures/paired-phone.ts';
import { until } from './fixtures/poll.ts';
import { createRuntimeSandbox } from './fixtures/runtime.ts';
import { freePort } from './fixtures/spawn-host.ts';

const { cleanups } = fileCleanup('relay-interrupted-');
const WAIT = { timeout: 60_000 };
/** Long enough (about 200 × 80 ms) to stop the host in the middle of it. */
const FIRST = 'interrupt-1 [text:200]';
const FOLLOW_UP = 'interrupt-2 [text:5]';

type Stored = { info: { id: string; role: string; parentID?: string; time: { completed?: number } }; parts: Array<{ type: string; text?: string }> };

const connectedPill = (page: Page) => page.getByRole('status').filter({ hasText: /^Connected/ });

/** Asks the runtime itself (not the host). */
async function runtimeGet<T>(host: MainHost, path: string, directory: string): Promise<T> {
  const { url, headers } = host.runtime();
  const res = await fetch(`${url}${path}${path.includes('?') ? '&' : '?'}directory=${encodeURIComponent(directory)}`, { headers });
  if (!res.ok) throw new Error(`GET ${path} answered HTTP ${res.status}`);
  return (await res.json()) as T;
}

const prompts = (messages: Stored[], text: string) => messages.filter((m) => m.info.role === 'user' && m.parts.some((p) => p.type === 'text' && p.text === text));
const answered = (messages: Stored[], prompt: Stored) =>
  messages.some((m) => m.info.parentID === prompt.info.id && m.info.time.completed !== undefined && m.parts.some((p) => p.type === 'text' && p.text));

describe('a task cut short by a restart', { timeout: 600_000 }, () => {
  it('reads Interrupted with its partial answer, lets the queued follow-up run, runs again on Retry, and no session stays running', async () => {
    await ensureBuilt();
    const sandbox = await createRuntimeSandbox({ fakeModel: { chunkDelayMs: 80 } });
    cleanups.push(() => sandbox.dispose());
    const dataDir = join(sandbox.root, 'relay-data');
    const identity = loadOrCreateIdentity(dataDir, silentLogger);
    const registry = openDeviceRegistry({ dataDir, log: silentLogger });
    const port = await freePort();
    const origin = `http://127.0.0.1:${port}`;
    const phones = [0, 1].map(() => registerPhone({ registry, host: identity, addresses: [origin], workspace: sandbox.workspace }));
    registry.close();
    let host = await startMainHost({ sandbox, dataDir, port, cleanups });

    const browser = await launchChromium();
    cleanups.push(() => browser.close());
    const context = await browser.newContext({ ...PHONES.pixel7 });
    const page = await openPairedApp(context, origin, phones[0]!);
    await connectedPill(page).waitFor(WAIT);
    await page.getByRole('textbox', { name: 'New task' }).fill(FIRST);
    await page.getByRole('button', { name: 'Start task' }).click();
    await page.waitForURL(/#\/session\/[^/]+$/, { timeout: 120_000 });
    const sessionId = decodeURIComponent(new URL(page.url()).hash.replace('#/session/', ''));
    const conversation = page.getByRole('list', { name: 'Conversation' });
    await conversation.getByText(/w5 /).waitFor(WAIT);

    // A follow-up written while the task runs waits behind it.
    await page.getByRole('textbox', { name: 'Follow-up' }).fill(FOLLOW_UP);
    await page.getByRole('button', { name: 'Send' }).click();
    const queued = page.getByRole('list', { name: 'Queued tasks' });
    await queued.getByText(FOLLOW_UP).waitFor(WAIT);

    // Ctrl-C in the host's terminal, mid-answer; the runtime goes down with the host.
    await host.interrupt();
    assert.match(host.output(), /Ctrl-C: stopping the host and its runtime/);
    const shownBefore = (await conversation.innerText()).match(/w\d+ /g)?.length ?? 0;
    assert.ok(shownBefore >= 6 && shownBefore < 200, `the answer was cut short (${shownBefore} of 200 words shown)`);
    await connectedPill(page).waitFor({ state: 'hidden', ...WAIT });
    host = await startMainHost({ sandbox, dataDir, port, cleanups });

    // The cut turn reads Interrupted, with what it had written so far, and offers Retry.
    const interrupted = conversation.getByRole('note').filter({ hasText: /^Interrupted/ });
    await interrupted.waitFor({ timeout: 90_000 });
    await conversation.getByText(/w5 /).waitFor(WAIT);
    assert.equal(await interrupted.getByRole('button', { name: 'Retry' }).count(), 1);

    // The follow-up queued behind it goes, and finishes.
    const followUpDone = async () => {
      const messages = await runtimeGet<Stored[]>(host, `/session/${sessionId}/message`, sandbox.workspace);
      const asked = prompts(messages, FOLLOW_UP);
      return asked.length === 1 && answered(messages, asked[0]!);
    };
    await until('the queued follow-up to run to its end', followUpDone, 90_000);
    await queued.waitFor({ state: 'hidden', ...WAIT });

    // A reload keeps the partial answer and the state; a second phone shows the same.
    await page.reload();
    await interrupted.waitFor(WAIT);
    await conversation.getByText(/w5 /).waitFor(WAIT);
    const other = await openPairedApp(await browser.newContext({ ...PHONES.pixel7 }), origin, phones[1]!);
    await connectedPill(other).waitFor(WAIT);
    await other.goto(`${origin}/#/session/${encodeURIComponent(sessionId)}`);
    const otherConversation = other.getByRole('list', { name: 'Conversation' });
    await otherConversation
      .getByRole('note')
      .filter({ hasText: /^Interrupted/ })
      .waitFor(WAIT);
    // It never saw the answer stream (the runtime stores none of a text until it ends): the host kept it.
    await otherConversation.getByText(/w5 /).waitFor(WAIT);

    // Retry runs the same task again, as a new task, to its end.
    await interrupted.getByRole('button', { name: 'Retry' }).click();
    await until(
      'the retried task to run to its end',
      async () => {
        const messages = await runtimeGet<Stored[]>(host, `/session/${sessionId}/message`, sandbox.workspace);
        const asked = prompts(messages, FIRST);
        return asked.length === 2 && answered(messages, asked[1]!);
      },
      120_000,
    );
    await conversation.getByText(scriptedText(200).trim()).waitFor(WAIT);

    // Nothing is left running: the runtime says so, and both screens of both phones agree with it.
    assert.deepEqual(await runtimeGet<Record<string, unknown>>(host, '/session/status', sandbox.workspace), {});
    for (const p of [page, other]) {
      await p.locator('.session-bar__status').getByText('Idle').waitFor(WAIT);
      assert.equal(await p.getByRole('button', { name: 'Stop' }).count(), 0, 'no Stop for a session that is not running');
      await p.goto(`${origin}/#/sessions`);
      const row = p.locator(`a.session-row[href*="${sessionId}"]`);
      await row.getByText('Done', { exact: true }).waitFor(WAIT);
      assert.equal(await p.getByText('Running').count(), 0, 'no session listed as running');
    }
    const messages = await runtimeGet<Stored[]>(host, `/session/${sessionId}/message`, sandbox.workspace);
    const order = [prompts(messages, FIRST)[0]!, prompts(messages, FOLLOW_UP)[0]!, prompts(messages, FIRST)[1]!].map((m) => m.info.id);
    assert.deepEqual([...order].sort(), order, 'the follow-up ran after the interrupted task, the retry after both');
    await host.interrupt();
  });

  it('the runtime killed mid-answer and restarted by the host: the turn reads Interrupted and says why', async () => {
    const app = await startAppHost({ fakeModel: { chunkDelayMs: 80 } });
    cleanups.push(() => app.close());
    const registry = app.host.relay.devices;
    const phone = registerPhone({ registry, host: app.host.relay.identity, addresses: [app.origin], workspace: app.sandbox.workspace });
    const browser = await launchChromium();
    cleanups.push(() => browser.close());
    const page = await openPairedApp(await browser.newContext({ ...PHONES.pixel7 }), app.origin, phone);
    await connectedPill(page).waitFor(WAIT);
    await page.getByRole('textbox', { name: 'New task' }).fill(FIRST);
    await page.getByRole('button', { name: 'Start task' }).click();
    await page.waitForURL(/#\/session\/[^/]+$/, { timeout: 120_000 });
    const sessionId = decodeURIComponent(new URL(page.url()).hash.replace('#/session/', ''));
    const conversation = page.getByRole('list', { name: 'Conversation' });
    await conversation.getByText(/w5 /).waitFor(WAIT);
    const stop = page.getByRole('button', { name: 'Stop' });
    await stop.waitFor(WAIT);

    const supervisor = app.host.runtime.supervisor;
    const before = supervisor.state.restarts;
    process.kill(-supervisor.state.pid!, 'SIGKILL');
    await until('the runtime to be restarted', () => supervisor.state.status === 'ready' && supervisor.state.restarts > before, 90_000);
    const interrupted = conversation.getByRole('note').filter({ hasText: /^Interrupted: the coding runtime stopped \(the runtime was killed by SIGKILL/ });
    await interrupted.waitFor(WAIT);
    await conversation.getByText(/w5 /).waitFor(WAIT);
    await page.locator('.session-bar__status').getByText('Interrupted').waitFor(WAIT);
    assert.equal(await stop.count(), 0, 'nothing runs: no Stop');
    assert.equal((await app.host.runtime.bridge.sessionStatus(sessionId)).type, 'idle', 'as the runtime says');
  });
});
