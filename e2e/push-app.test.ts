/**
 * Notifications in the phone app, in Chromium, against the real host and runtime: the host pushes
 * (to a receiver on 127.0.0.1, which decrypts it) only while the app is not on screen; that push,
 * delivered to the app's service worker (DevTools `ServiceWorker.deliverPushMessage`: no push
 * service is reachable here), shows a notification with Allow once and Deny; the worker's Allow
 * answers over the device's own encrypted channel and the task continues. Settings explains why
 * notifications cannot work on plain HTTP and on an iPhone whose app is not on the Home Screen.
 * @module
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page, Worker } from 'playwright';
import { DEFAULT_PUSH_SETTINGS, parsePushPayload } from '../shared/protocol/push.ts';
import { startPushReceiver, type PushReceiver } from '../test-support/push-receiver.ts';
import { startAppHost, type AppHost } from './fixtures/app-host.ts';
import { until } from './fixtures/poll.ts';
import { PHONES, launchChromium, screenshot } from './browser.ts';

const WAIT = { timeout: 30_000 };
const spaced = (code: string) => `${code.slice(0, 3)} ${code.slice(3)}`;

describe('notifications in the phone app', { timeout: 240_000 }, () => {
  let app: AppHost;
  let receiver: PushReceiver;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;

  before(async () => {
    receiver = await startPushReceiver();
    [app, browser] = await Promise.all([
      startAppHost({ fakeModel: { chunkDelayMs: 5 }, push: { policy: { localReceiver: true }, sender: { backoffMs: 50 } } }),
      launchChromium({ args: ['--host-resolver-rules=MAP relay-host.test 127.0.0.1'] }),
    ]);
    context = await browser.newContext({ ...PHONES.pixel7 });
    await context.grantPermissions(['notifications'], { origin: app.origin });
  });

  after(async () => {
    await browser?.close();
    await app?.close();
    await receiver?.close();
  });

  it('pushes a waiting permission only while the app is hidden; the worker shows it and its Allow answers it', async () => {
    const offer = app.host.relay.newOffer();
    page = await context.newPage();
    await page.goto(offer.link);
    const approval = await app.nextApproval();
    await page.getByText(spaced(approval.code)).waitFor(WAIT);
    assert.ok(app.host.relay.approvals.approve(approval.id));
    await page.getByRole('status').filter({ hasText: 'Connected' }).waitFor(WAIT);
    // Headless Chromium has no push service to subscribe with: the subscription is the receiver's, as the phone would send it.
    const device = app.host.relay.devices.list()[0]!;
    app.host.relay.push.subscribe(device, receiver.subscription(), DEFAULT_PUSH_SETTINGS);

    // On screen: the request shows in the app, and nothing is pushed.
    await page.getByRole('textbox', { name: 'New task' }).fill('[bash:echo shown-in-app]');
    await page.getByRole('button', { name: 'Start task' }).click();
    const sheet = page.getByRole('dialog', { name: 'Allow this command?' });
    await sheet.waitFor(WAIT);
    await app.host.relay.push.sender.settled();
    assert.equal(receiver.received.length, 0, 'no push while the app is visible');
    await sheet.getByRole('button', { name: 'Allow once' }).click();
    await page.getByRole('status').filter({ hasText: /Idle/ }).waitFor(WAIT);

    // The phone is put away: the page becomes hidden and says so.
    await page.evaluate(() => {
      Object.defineProperty(document, 'visibilityState', { value: 'hidden', configurable: true });
      document.dispatchEvent(new Event('visibilitychange'));
    });
    const marker = join(app.sandbox.workspace, 'from-notification.txt');
    // Requests on one connection are handled in order: the host knows before the task starts.
    await page.getByRole('textbox', { name: 'Follow-up' }).fill(`[bash:touch ${marker}]`);
    await page.getByRole('button', { name: 'Send' }).click();
    await until('the permission request', () => app.host.relay.permissions.pending().length === 1, WAIT.timeout);
    const [waiting] = app.host.relay.permissions.pending();
    await until(
      'the push',
      async () => {
        await app.host.relay.push.sender.settled();
        return receiver.received.length > 0;
      },
      WAIT.timeout,
    );
    assert.deepEqual(receiver.rejected, []);
    assert.equal(receiver.received.length, 1, 'exactly one push');
    const payload = parsePushPayload(receiver.received[0]!.payload);
    assert.equal(payload.type === 'show' && payload.requestId, waiting!.requestId);
    assert.equal(payload.body, `touch ${marker}`);

    // Delivered to the service worker as the push service would.
    await page.evaluate(() => navigator.serviceWorker.ready.then(() => undefined));
    const cdp = await context.newCDPSession(page);
    const registrationId = new Promise<string>((resolve) =>
      cdp.on('ServiceWorker.workerRegistrationUpdated', (e) => {
        const r = e.registrations.find((x) => x.scopeURL.startsWith(app.origin) && !x.isDeleted);
        if (r) resolve(r.registrationId);
      }),
    );
    await cdp.send('ServiceWorker.enable');
    await cdp.send('ServiceWorker.deliverPushMessage', { origin: app.origin, registrationId: await registrationId, data: JSON.stringify(receiver.received[0]!.payload) });
    await cdp.detach();
    const sw: Worker = context.serviceWorkers()[0] ?? (await context.waitForEvent('serviceworker'));
    const shown = () =>
      sw.evaluate(async () => {
        const list = await (globalThis as unknown as { registration: ServiceWorkerRegistration }).registration.getNotifications();
        return list.map((n) => ({
          title: n.title,
          body: n.body,
          tag: n.tag,
          actions: ((n as unknown as { actions: Array<{ action: string; title: string }> }).actions ?? []).map((a) => [a.action, a.title]),
        }));
      });
    await until('the notification', async () => (await shown()).length === 1, WAIT.timeout);
    assert.deepEqual(await shown(), [
      {
        title: payload.title,
        body: `touch ${marker}`,
        tag: `${app.host.relay.identity.hostId}:${waiting!.sessionId}`,
        actions: [
          ['allow', 'Allow once'],
          ['deny', 'Deny'],
        ],
      },
    ]);
    assert.match(payload.title, /^Allow\? · /);

    // What a tap on Allow once does, called as the click would call it (a synthetic click event; headless Chromium has no notification UI).
    await sw.evaluate(async () => {
      const scope = globalThis as unknown as {
        registration: ServiceWorkerRegistration;
        dispatchEvent(e: Event): boolean;
        NotificationEvent: new (type: string, init: object) => Event;
      };
      const [notification] = await scope.registration.getNotifications();
      try {
        scope.dispatchEvent(new scope.NotificationEvent('notificationclick', { notification, action: 'allow' }));
      } catch {
        // waitUntil refuses an untrusted event after the handler started; the handler runs on.
      }
    });
    await until('the allowed command to run', () => existsSync(marker), WAIT.timeout);
    assert.equal(app.host.relay.permissions.pending().length, 0, 'answered');
    await until('the outcome shown', async () => (await shown()).some((n) => n.title === 'Allowed once' && n.actions.length === 0), WAIT.timeout);
  });

  it('Settings says notifications need HTTPS on plain HTTP, and link to the certificate guide', async () => {
    const p = await context.newPage();
    await p.goto(`http://relay-host.test:${app.port}/#/settings`);
    assert.equal(await p.evaluate(() => window.isSecureContext), false);
    const section = p.getByRole('region', { name: 'Notifications' });
    await section.getByText('Notifications need HTTPS').waitFor(WAIT);
    assert.equal(await section.getByRole('link', { name: 'Set up HTTPS for your computer' }).getAttribute('href'), '/trust');
    await screenshot(p, 'push-settings-http');
    await p.close();
  });

  it('Settings says an iPhone needs the app on the Home Screen', async () => {
    const iphone = await browser.newContext({ ...PHONES.iphone });
    const p = await iphone.newPage();
    await p.goto(`${app.origin}/#/settings`);
    const section = p.getByRole('region', { name: 'Notifications' });
    await section.getByText('On iPhone and iPad, notifications work only for an app on the Home Screen').waitFor(WAIT);
    assert.equal(await section.getByRole('button', { name: 'Notify me' }).count(), 0);
    await screenshot(p, 'push-settings-iphone');
    await iphone.close();
  });
});
