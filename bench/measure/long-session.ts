/**
 * 6. Long sessions on the phone (issue 18, item 2): a session of 2,000 messages with 5 MB of tool
 * output, served by the real host and runtime (seeded with the runtime's own import,
 * live/long-session.ts), opened in the app (Chromium, Pixel 7 profile, CPU 4× slower):
 *   - first paint from the phone's cache: a fresh page on the session list, the host out of reach,
 *     the session tapped; the clock stops at the first frame painted after its newest message is
 *     in the page;
 *   - first paint from the host: the same with the cached copy deleted and the host reachable;
 *   - a key press in the composer while a new answer streams in, from the key's event to the
 *     next paint (the Event Timing API's duration), p95, against the same in a new session;
 *   - the page's JavaScript heap after a garbage collection, with the session open.
 * @module
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { BrowserContext, CDPSession, Page } from 'playwright';
import { cuttableProxy } from '../../e2e/browser.ts';
import { phoneThroughProxy } from '../lib/phone.ts';
import { profileTable, summarizeProfile, type CpuProfile, type ProfileSummary } from '../lib/profile-summary.ts';
import { freePort } from '../../e2e/fixtures/spawn-host.ts';
import { appForMeasurement } from '../lib/app-build.ts';
import type { Measurement } from '../lib/context.ts';
import { prepareHostData } from '../lib/fleet.ts';
import { startHostProcess } from '../lib/host-process.ts';
import { atMost, mb, section } from '../lib/report.ts';
import { median, percentile } from '../lib/stats.ts';
import { seedLongSession } from '../live/long-session.ts';
import { liveSandbox } from '../live/sandbox.ts';
import { stampDirective } from '../live/stamping-model.ts';

const THROTTLE = 4;
const MESSAGES = 2000;
const TOOL_OUTPUT_BYTES = 5 * 2 ** 20;
const OPENS = 3;
/** The answer streamed while keys are pressed: long enough to outlast the typing. */
const DELTAS = 1000;
const GAP_MS = 25;
const KEYS = 40;
const KEY_GAP_MS = 120;
const WAIT = { timeout: 120_000 };
/**
 * Prompt sent → its first delta on screen. The runtime sends the whole 5.6 MB history to the model
 * and asks it about 1.3 s after the prompt (measured here, machine idle); the rest is the host and the page.
 */
const ANSWER_WAIT = { timeout: 60_000 };

// Page-side code goes in as text: tsx would wrap named functions in a helper the page lacks.

/** Resolves (page clock) at the first frame painted once `text` is in the page. */
const PAINTED_WITH = (text: string) => `new Promise((resolve) => {
  const has = () => document.body.textContent.includes(${JSON.stringify(text)});
  const painted = () => requestAnimationFrame(() => setTimeout(() => resolve(performance.now()), 0));
  if (has()) return painted();
  const observer = new MutationObserver(() => { if (has()) { observer.disconnect(); painted(); } });
  observer.observe(document.body, { subtree: true, childList: true, characterData: true });
})`;

/**
 * Collects keydown Event Timing entries (durations of 16 ms and more are reported). The long
 * session is typed in on the same document as the new one (a hash navigation): the earlier
 * observer is stopped, or it would count each key a second time.
 */
const WATCH_KEYS = `(() => {
  window.__keysObserver?.disconnect();
  window.__keys = [];
  window.__keysObserver = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) if (e.name === 'keydown') window.__keys.push(e.duration);
  });
  window.__keysObserver.observe({ type: 'event', durationThreshold: 16 });
})()`;

interface Open {
  source: 'cache' | 'host';
  /** Tap → first frame painted with the newest message. */
  ms: number;
}

async function throttled(context: BrowserContext, page: Page): Promise<CDPSession> {
  const cdp = await context.newCDPSession(page);
  await cdp.send('Emulation.setCPUThrottlingRate', { rate: THROTTLE });
  return cdp;
}

/**
 * With `--profile`, the page's JavaScript CPU profile from now until the returned function is
 * called, written to `<dir>/page-<name>.cpuprofile` (open it in Chromium's DevTools, Performance).
 */
async function pageProfile(cdp: CDPSession, dir: string | undefined, name: string): Promise<() => Promise<CpuProfile | undefined>> {
  if (!dir) return async () => undefined;
  await cdp.send('Profiler.enable');
  // 200 µs between samples (the default is 1 ms): a key press's whole handling is a few ms.
  await cdp.send('Profiler.setSamplingInterval', { interval: 200 });
  await cdp.send('Profiler.start');
  return async () => {
    const { profile } = await cdp.send('Profiler.stop');
    await writeFile(join(dir, `page-${name}.cpuprofile`), JSON.stringify(profile));
    return profile;
  };
}

/** Deletes the cached transcripts (IndexedDB, in the app's own database), so the host must send it. */
const FORGET_TRANSCRIPTS = `new Promise((resolve, reject) => {
  const req = indexedDB.open('openwork-relay');
  req.onsuccess = () => {
    const tx = req.result.transaction('transcripts', 'readwrite');
    tx.objectStore('transcripts').clear();
    tx.oncomplete = () => { req.result.close(); resolve(undefined); };
    tx.onerror = () => reject(tx.error);
  };
  req.onerror = () => reject(req.error);
})`;

export const longSession: Measurement = {
  id: 'long-session',
  title: `6. Long sessions on the phone: ${MESSAGES.toLocaleString('en-US')} messages, 5 MB of tool output, CPU ${THROTTLE}× slower`,
  budgetMs: 600_000,
  async run(ctx) {
    const s = section(this.id, this.title);
    const app = await appForMeasurement(ctx);
    const { sandbox, model } = await liveSandbox(ctx);
    ctx.progress(`long-session: importing a ${MESSAGES}-message session into the runtime`);
    const seeded = performance.now();
    const long = await seedLongSession(sandbox, { messages: MESSAGES, toolOutputBytes: TOOL_OUTPUT_BYTES });
    const seedSeconds = (performance.now() - seeded) / 1000;
    const data = prepareHostData([]);
    ctx.defer(data.dispose);
    const port = await freePort();
    const proxy = await cuttableProxy(port);
    ctx.defer(() => proxy.close());
    const origin = proxy.url.replace(/\/$/, '');
    ctx.progress('long-session: starting the host and its OpenCode runtime');
    const host = await startHostProcess(
      { mode: 'real', dataDir: data.dataDir, workspace: sandbox.workspace, runtimeEnv: sandbox.env, port, publicUrl: origin, autoApprove: true, staticDir: app.dir },
      { cpuProfDir: ctx.cpuProfDir },
    );
    ctx.defer(() => host.stop());
    await host.call({ cmd: 'runtime' });
    const { links } = await host.call({ cmd: 'offers', count: 1 });

    const { browser, context } = await phoneThroughProxy(ctx, port);
    let page = await context.newPage();
    ctx.progress('long-session: pairing the app');
    await page.goto(links[0]!, WAIT);
    await page.getByRole('region', { name: 'Sessions' }).waitFor(WAIT);
    await page.getByRole('status').filter({ hasText: 'Connected' }).waitFor(WAIT);
    // Installed: a start with the host out of reach comes from the service worker.
    await page.evaluate(() => navigator.serviceWorker.ready.then(() => undefined));

    const listed = () => page.getByRole('region', { name: 'Sessions' }).getByRole('link', { name: new RegExp(long.title) });
    /** A fresh page on the session list, then the session tapped: tap → its newest message painted. */
    const open = async (source: Open['source']): Promise<number> => {
      await page.close();
      page = await context.newPage();
      await page.goto(`${origin}/#/sessions`, WAIT);
      if (source === 'host') await page.getByRole('status').filter({ hasText: 'Connected' }).waitFor(WAIT);
      await listed().waitFor(WAIT);
      const cdp = await throttled(context, page);
      const profiled = await pageProfile(cdp, ctx.cpuProfDir, `open-from-${source}-${opens.filter((o) => o.source === source).length + 1}`);
      try {
        await page.evaluate('window.__tapped = undefined; document.addEventListener("click", () => { window.__tapped ??= performance.now(); }, { capture: true })');
        const painted = page.evaluate(PAINTED_WITH(long.lastText.replace(/\*\*/g, ''))) as Promise<number>;
        await listed().click();
        const at = await Promise.race([
          painted,
          new Promise<never>((_, reject) =>
            setTimeout(async () => {
              const shown = await page
                .locator('.screen')
                .innerText()
                .catch(() => 'n/a');
              reject(
                new Error(`from the ${source}: the newest message was not painted within ${WAIT.timeout / 1000} s; the screen read: ${shown.slice(0, 300).replace(/\s+/g, ' ')}`),
              );
            }, WAIT.timeout),
          ),
        ]);
        const ms = at - ((await page.evaluate('window.__tapped')) as number);
        await profiled();
        return ms;
      } finally {
        await cdp.detach().catch(() => {});
      }
    };

    const opens: Open[] = [];
    /** A part that fails is reported, and the parts after it still run where they can. */
    const failures: string[] = [];
    const phase = async <T>(what: string, run: () => Promise<T>): Promise<T | undefined> => {
      try {
        return await run();
      } catch (err) {
        failures.push(`${what}: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`);
        return undefined;
      }
    };
    /** Resolves once the app has cached the whole session (it has every page of it). */
    const waitCachedWhole = async () => {
      const cachedCount = `new Promise((resolve) => {
        const req = indexedDB.open('openwork-relay');
        req.onsuccess = () => {
          const get = req.result.transaction('transcripts').objectStore('transcripts').getAll();
          get.onsuccess = () => { req.result.close(); resolve(Math.max(0, ...get.result.filter((r) => r.sessionId === ${JSON.stringify(long.sessionId)}).map((r) => r.transcript.messages.length))); };
        };
    })`;
      const cacheDeadline = performance.now() + WAIT.timeout;
      while (((await page.evaluate(cachedCount)) as number) < long.messages) {
        if (performance.now() > cacheDeadline) throw new Error(`the app had not cached the whole session ${WAIT.timeout / 1000} s after opening it`);
        await new Promise((r) => setTimeout(r, 500));
      }
    };
    // From the host first: it fills the cache the cache runs read.
    await phase('opening from the host', async () => {
      for (let i = 0; i < OPENS; i++) {
        ctx.progress(`long-session: open from the host ${i + 1} of ${OPENS}`);
        await page.evaluate(FORGET_TRANSCRIPTS);
        opens.push({ source: 'host', ms: await open('host') });
      }
    });
    // The app fetches the earlier messages after the newest are shown, and caches the whole once it has them.
    await phase('caching the whole session', async () => {
      ctx.progress('long-session: waiting for the app to cache the whole session');
      await waitCachedWhole();
    });
    await phase("opening from the phone's cache", async () => {
      await proxy.cut();
      for (let i = 0; i < OPENS; i++) {
        ctx.progress(`long-session: open from the phone's cache ${i + 1} of ${OPENS}`);
        opens.push({ source: 'cache', ms: await open('cache') });
      }
    });
    await proxy.restore();

    /** Keys pressed in the composer while a new answer streams in: each key's event → next paint. */
    const typeWhileStreaming = async (tag: string, first: boolean): Promise<{ durations: number[]; profile?: ProfileSummary }> => {
      let step = 'waiting to be connected';
      const cdp = await throttled(context, page);
      try {
        await page.getByRole('status').filter({ hasText: 'Connected' }).waitFor(WAIT);
        step = 'sending the task';
        const box = page.getByRole('textbox', { name: first ? 'New task' : 'Follow-up' });
        await box.fill(`Stream ${stampDirective(DELTAS, GAP_MS, tag)}`);
        await page.getByRole('button', { name: first ? 'Start task' : 'Send' }).click();
        step = 'waiting for the first delta on screen';
        await page.getByRole('list', { name: 'Conversation' }).getByText(`${tag}1@`).waitFor(ANSWER_WAIT);
        step = 'typing';
        const profiled = await pageProfile(cdp, ctx.cpuProfDir, `typing-${first ? 'new' : 'long'}-session`);
        // And a performance trace: where the frames go that the JavaScript profile calls "(program)" (style, layout, paint).
        if (ctx.cpuProfDir) await browser.startTracing(page, { path: join(ctx.cpuProfDir, `page-typing-${first ? 'new' : 'long'}-session.trace.json`), screenshots: false });
        await page.evaluate(WATCH_KEYS);
        const followUp = page.getByRole('textbox', { name: 'Follow-up' });
        await followUp.click();
        for (let k = 0; k < KEYS; k++) {
          await page.keyboard.press('abcdefghijklmnopqrstuvwxyz'[k % 26]!);
          await new Promise((r) => setTimeout(r, KEY_GAP_MS));
        }
        if (await page.getByRole('list', { name: 'Conversation' }).getByText(`${tag}${DELTAS}@`).count()) ctx.progress('long-session: the answer ended before the typing did');
        const profile = await profiled();
        if (ctx.cpuProfDir) await browser.stopTracing();
        const measured = (await page.evaluate('window.__keys')) as number[];
        // Entries under 16 ms are not reported: count those keys as 16 ms (an upper bound).
        const durations = [...measured, ...Array<number>(Math.max(0, KEYS - measured.length)).fill(16)];
        await followUp.fill('');
        return { durations, ...(profile ? { profile: summarizeProfile(profile) } : {}) };
      } catch (err) {
        // Where it stopped: the prompt not shown, the model never asked, or its deltas not shown.
        const prompted = await page
          .getByRole('list', { name: 'Conversation' })
          .getByText(`Stream ${stampDirective(DELTAS, GAP_MS, tag)}`)
          .count();
        // A prompt still in the outbox says why (waiting for the session, refused, failed).
        const queued = await page
          .locator('.queued')
          .allInnerTexts()
          .catch(() => []);
        throw new Error(
          `${step} (prompt on screen: ${prompted ? 'yes' : 'no'}; in the outbox: ${queued.join(' | ').replace(/\s+/g, ' ') || 'nothing'}; deltas the model wrote in all: ${model.written}): ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`,
        );
      } finally {
        await cdp.detach().catch(() => {});
      }
    };

    const empty = await phase('typing in a new session', async () => {
      ctx.progress('long-session: typing while an answer streams into a new session (baseline)');
      await page.close();
      page = await context.newPage();
      await page.goto(`${origin}/#/sessions`, WAIT);
      return typeWhileStreaming('ke', true);
    });
    const full = await phase('typing in the long session', async () => {
      ctx.progress('long-session: typing while an answer streams into the long session');
      // From the host, so that the heap is read once this page has every message (it caches them then).
      await page.evaluate(FORGET_TRANSCRIPTS);
      await page.goto(`${origin}/#/sessions`, WAIT);
      await listed().click();
      await page.getByText(long.lastText.replace(/\*\*/g, '')).waitFor(WAIT);
      return typeWhileStreaming('kl', false);
    });
    const heap = await phase('reading the heap', async () => {
      await waitCachedWhole();
      const cdp = await context.newCDPSession(page);
      await cdp.send('HeapProfiler.collectGarbage');
      const usage = (await cdp.send('Runtime.getHeapUsage')) as { usedSize: number; totalSize: number };
      await cdp.detach();
      return usage;
    });
    const domParts = await page.getByRole('list', { name: 'Conversation' }).getByRole('listitem').count();

    const p95 = (xs?: number[]) =>
      xs?.length
        ? percentile(
            [...xs].sort((a, b) => a - b),
            95,
          )
        : null;
    const mid = (xs?: number[]) => (xs?.length ? median(xs) : null);
    const most = (xs?: number[]) => (xs?.length ? Math.max(...xs) : null);
    const fromCache = opens.filter((o) => o.source === 'cache').map((o) => o.ms);
    const fromHost = opens.filter((o) => o.source === 'host').map((o) => o.ms);
    const ratio = p95(full?.durations) !== null && p95(empty?.durations) ? `${(p95(full?.durations)! / p95(empty?.durations)!).toFixed(2)}×` : 'n/a';
    s.data = {
      messages: long.messages,
      toolOutputBytes: long.toolOutputBytes,
      seedSeconds,
      throttle: THROTTLE,
      opens,
      keysEmpty: empty?.durations,
      keysLong: full?.durations,
      typingProfile: full?.profile,
      heap,
      domParts,
      failures,
    };
    s.tables.push({
      title: `Opening the session (tap → first frame with its newest message; median of ${OPENS}, ms)`,
      columns: ['from', 'median ms', 'each run ms'],
      rows: [
        ["the phone's cache (host out of reach)", mid(fromCache), fromCache.map((x) => x.toFixed(0)).join(', ')],
        ['the host (nothing cached)', mid(fromHost), fromHost.map((x) => x.toFixed(0)).join(', ')],
      ],
    });
    s.tables.push({
      title: `A key press in the composer while an answer streams (${DELTAS} deltas, one every ${GAP_MS} ms; ${KEYS} keys): key event → next paint`,
      columns: ['session', 'p95 ms', 'median ms', 'max ms'],
      rows: [
        ['a new session (baseline)', p95(empty?.durations), mid(empty?.durations), most(empty?.durations)],
        [`the ${MESSAGES}-message session`, p95(full?.durations), mid(full?.durations), most(full?.durations)],
        ['long ÷ baseline (p95)', ratio, '', ''],
      ],
    });
    // "(program)" is the renderer's own work (style, layout, paint), which a JavaScript profile does not break down.
    if (full?.profile) s.tables.push(profileTable(`The page while typing in the ${MESSAGES}-message session (--profile)`, full.profile));
    s.tables.push({
      title: 'The page with the long session open, after a garbage collection',
      columns: ['what', 'figure'],
      rows: [
        ['JavaScript heap used (MB)', heap ? mb(heap.usedSize) : null],
        ['conversation items in the DOM', domParts],
      ],
    });
    s.targets.push(atMost(`long session: first paint from the phone's cache at ${THROTTLE}× CPU`, mid(fromCache), 300, 'ms'));
    s.targets.push(atMost(`long session: first paint from the host at ${THROTTLE}× CPU`, mid(fromHost), 1000, 'ms'));
    s.targets.push(atMost(`long session: key press → paint while streaming, p95 (baseline ${p95(empty?.durations) ?? 'n/a'} ms)`, p95(full?.durations), 50, 'ms'));
    s.targets.push(atMost('long session: JavaScript heap', heap ? mb(heap.usedSize) : null, 150, 'MB'));
    s.notes.push(
      `Seeded with \`opencode import\` (${seedSeconds.toFixed(1)} s): ${long.messages} messages, ${(long.toolOutputBytes / 2 ** 20).toFixed(1)} MB of bash output in ${long.messages / 2} completed calls, no compaction: each seeded reply reports 20 tokens, so the runtime sees no overflow and sends the model the whole history (about 5.6 MB) with the new prompt; it asks the model about 1.3 s after the prompt (measured here with the machine idle). App measured: ${app.source}.`,
      'The answer streamed into the long session is a follow-up sent from the composer, through the host, to the real runtime, whose model (the stamping model) writes it.',
      "Key press timing is the Event Timing API's `duration` for `keydown` (event → next paint, in 8 ms steps); keys under its 16 ms reporting floor count as 16 ms. The baseline is the same typing while the same answer streams into a session that holds nothing else.",
      ...failures.map((f) => `failed: ${f}`),
    );
    return s;
  },
};
