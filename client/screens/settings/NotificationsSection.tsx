import { createEffect, createSignal, For, Show, type JSX } from 'solid-js';
import { useApp } from '../../app/context.ts';
import { TRUST_URL } from '../../app/links.ts';
import { fromBase64url, toBase64url } from '../../../shared/encoding.ts';
import { PUSH_KINDS, type PushKind, type PushSettings, type PushStatus } from '../../../shared/protocol/push.ts';
import { Button } from '../../ui/Button.tsx';
import { notificationSupport, pageFacts, type NotificationSupport } from './notification-support.ts';

const KIND_LABELS: Record<PushKind, string> = {
  permission: 'A request waits for my answer',
  finished: 'A task finished',
  failed: 'A task failed or stopped',
};

const WHY_NOT: Record<Exclude<NotificationSupport, { ok: true }>['reason'], () => JSX.Element> = {
  insecure: () => (
    <p>
      Notifications need HTTPS: this page was opened over plain HTTP, where browsers offer no notifications. <a href={TRUST_URL}>Set up HTTPS for your computer</a>, then open the
      app at its https:// address.
    </p>
  ),
  'ios-not-installed': () => (
    <p>
      On iPhone and iPad, notifications work only for an app on the Home Screen (iOS 16.4 or later): tap Share, then Add to Home Screen, open the app from there and turn
      notifications on in its Settings.
    </p>
  ),
  unsupported: () => <p>This browser cannot receive notifications from a web app. Chrome, Edge, Firefox and Safari can.</p>,
  denied: () => (
    <p>
      Notifications are blocked for this app. Allow them in the browser's site settings (the icon beside the address), or for an installed app in the phone's settings for this app;
      then come back here.
    </p>
  ),
};

/** Settings › Notifications: turn them on for the computer in use, choose what notifies, lock-screen privacy. */
export function NotificationsSection() {
  const { relay, connection } = useApp();
  const connected = () => connection.state.status === 'connected';
  const [support, setSupport] = createSignal(notificationSupport(pageFacts()));
  const [status, setStatus] = createSignal<PushStatus>();
  const [busy, setBusy] = createSignal(false);
  const [error, setError] = createSignal('');
  const settings = (): PushSettings => {
    const s = status()?.subscription;
    return s ? { kinds: s.kinds, private: s.private } : { kinds: { permission: true, finished: true, failed: true }, private: false };
  };

  createEffect(() => {
    if (!support().ok || !connected()) return;
    relay.request({ t: 'push.status' }).then(setStatus, (err: unknown) => setError(message(err)));
  });

  const act = async (fn: () => Promise<void>) => {
    setBusy(true);
    setError('');
    try {
      await fn();
    } catch (err) {
      setError(message(err));
    } finally {
      setBusy(false);
      setSupport(notificationSupport(pageFacts()));
    }
  };

  const turnOn = () =>
    act(async () => {
      if ((await Notification.requestPermission()) !== 'granted') return;
      const key = status()?.publicKey ?? (await relay.request({ t: 'push.status' })).publicKey;
      const registration = await navigator.serviceWorker.ready;
      const existing = await registration.pushManager.getSubscription();
      // A browser holds one subscription per app, tied to one computer's key: a new computer takes it over.
      const existingKey = existing?.options.applicationServerKey;
      if (existing && (!existingKey || toBase64url(new Uint8Array(existingKey)) !== key)) await existing.unsubscribe();
      const subscription = await registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: new Uint8Array(fromBase64url(key)) });
      const json = subscription.toJSON() as { endpoint: string; keys: { p256dh: string; auth: string } };
      setStatus(await relay.request({ t: 'push.subscribe', subscription: { endpoint: json.endpoint, keys: json.keys }, ...settings() }));
    });
  const change = (next: PushSettings) =>
    act(async () => {
      setStatus(await relay.request({ t: 'push.settings', ...next }));
    });
  const turnOff = () =>
    act(async () => {
      await relay.request({ t: 'push.unsubscribe' });
      setStatus((s) => s && { publicKey: s.publicKey });
    });

  return (
    <section aria-labelledby="notify-title">
      <h2 class="section-title" id="notify-title">
        Notifications
      </h2>
      <Show
        when={support().ok}
        fallback={
          <div class="note" role="note">
            {WHY_NOT[(support() as { reason: keyof typeof WHY_NOT }).reason]()}
          </div>
        }
      >
        <Show
          when={status()?.subscription}
          fallback={
            <>
              <p>Get a notification on this phone when the agent needs you or a task ends, also with the app closed.</p>
              <Button onClick={() => void turnOn()} disabled={busy() || !connected()}>
                Notify me
              </Button>
            </>
          }
        >
          <fieldset class="toggles">
            <legend>Notify me when</legend>
            <For each={PUSH_KINDS}>
              {(kind) => (
                <div class="checkbox">
                  <input
                    id={`notify-${kind}`}
                    type="checkbox"
                    checked={settings().kinds[kind]}
                    disabled={busy()}
                    onChange={(e) => void change({ ...settings(), kinds: { ...settings().kinds, [kind]: e.currentTarget.checked } })}
                  />
                  <label for={`notify-${kind}`}>{KIND_LABELS[kind]}</label>
                </div>
              )}
            </For>
          </fieldset>
          <div class="checkbox">
            <input
              id="notify-private"
              type="checkbox"
              checked={settings().private}
              disabled={busy()}
              onChange={(e) => void change({ ...settings(), private: e.currentTarget.checked })}
              aria-describedby="notify-private-hint"
            />
            <label for="notify-private">Hide details on the lock screen</label>
          </div>
          <p class="hint" id="notify-private-hint">
            Shows only “The agent needs you in &lt;session&gt;”, never the command.
          </p>
          <Button variant="secondary" onClick={() => void turnOff()} disabled={busy()}>
            Turn notifications off
          </Button>
        </Show>
      </Show>
      <Show when={error()}>
        <p class="note note--error" role="alert">
          {error()}
        </p>
      </Show>
    </section>
  );
}

function message(err: unknown): string {
  return `Notifications: ${err instanceof Error ? err.message : String(err)}`;
}
