/**
 * The phone for the browser measurements: Chromium with the Pixel 7 profile, reaching the host
 * only through the measurement's proxy (the one it can cut), never at the host's own address.
 * @module
 */
import type { Browser, BrowserContext } from 'playwright';
import { PHONES, launchChromium } from '../../e2e/browser.ts';
import type { BenchContext } from './context.ts';

/** `hostPort`: the host's own port, refused, since the host also tells the app its own address. */
export async function phoneThroughProxy(ctx: BenchContext, hostPort: number): Promise<{ browser: Browser; context: BrowserContext }> {
  const browser = await launchChromium();
  ctx.defer(() => browser.close());
  const context = await browser.newContext({ ...PHONES.pixel7 });
  // Otherwise the app would go around the proxy.
  await context.routeWebSocket(`ws://127.0.0.1:${hostPort}/**`, (ws) => ws.close({ code: 1001, reason: 'the bench reaches the host only through its proxy' }));
  return { browser, context };
}
