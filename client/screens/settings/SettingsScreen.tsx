import { createSignal, createUniqueId, Show } from 'solid-js';
import { SecureContextNote } from '../../app/SecureContextNote.tsx';
import { Button } from '../../ui/Button.tsx';
import { Screen } from '../../ui/Screen.tsx';
import { Sheet } from '../../ui/Sheet.tsx';
import { HealthPanel } from './HealthPanel.tsx';
import { HostsSection } from './HostsSection.tsx';
import { NotificationsSection } from './NotificationsSection.tsx';
import { enterNewline, setEnterNewline } from '../../state/preferences.ts';
import { resetApp, type ResetResult } from './reset.ts';

export default function SettingsScreen() {
  const ids = { forget: createUniqueId(), forgetHint: createUniqueId() };
  const offline = 'serviceWorker' in navigator && navigator.serviceWorker.controller !== null;
  const [confirming, setConfirming] = createSignal(false);
  const [forgetHosts, setForgetHosts] = createSignal(false);
  const [busy, setBusy] = createSignal(false);
  const [result, setResult] = createSignal<ResetResult>();
  const [error, setError] = createSignal('');

  const reset = async () => {
    setBusy(true);
    setError('');
    try {
      setResult(await resetApp({ forgetHosts: forgetHosts() }));
      setConfirming(false);
    } catch (err) {
      setError(`Reset failed: ${err instanceof Error ? err.message : String(err)}. Close other tabs of this app and try again.`);
    } finally {
      setBusy(false);
    }
  };

  return (
    <Screen title="Settings">
      <HealthPanel />
      <HostsSection />
      <NotificationsSection />
      <h2 class="section-title">Typing</h2>
      <div class="checkbox checkbox--tap">
        <input id="enter-newline" type="checkbox" checked={enterNewline()} onChange={(e) => setEnterNewline(e.currentTarget.checked)} />
        <label for="enter-newline">Enter starts a new line (send with the Send button)</label>
      </div>
      <h2 class="section-title">About</h2>
      <dl class="facts">
        <dt>App</dt>
        <dd>OpenWork Relay</dd>
        <dt>Version</dt>
        <dd>{__APP_VERSION__}</dd>
        <dt>Works offline</dt>
        <dd>{offline ? 'Yes' : 'No'}</dd>
      </dl>
      <SecureContextNote />

      <h2 class="section-title">Troubleshooting</h2>
      <p>If the app misbehaves after an update, reset it: it is downloaded again from your computer.</p>
      <Button variant="danger" onClick={() => setConfirming(true)}>
        Reset app
      </Button>
      <Show when={result()}>
        <p class="note" role="status">
          App reset{result()!.forgotHosts ? ', paired computers forgotten' : ''}. Reload while your computer is reachable to download the app again.
        </p>
      </Show>

      <Sheet title="Reset app?" open={confirming()} onClose={() => setConfirming(false)}>
        <p>This removes the app's offline copy and its service worker.</p>
        <div class="checkbox">
          <input id={ids.forget} type="checkbox" checked={forgetHosts()} onChange={(e) => setForgetHosts(e.currentTarget.checked)} aria-describedby={ids.forgetHint} />
          <label for={ids.forget}>Also forget paired hosts</label>
        </div>
        <p id={ids.forgetHint} class="hint">
          You will need to pair this phone again. Messages not yet sent are lost.
        </p>
        <Show when={error()}>
          <p class="note note--error" role="alert">
            {error()}
          </p>
        </Show>
        <div class="sheet__actions">
          <Button variant="secondary" onClick={() => setConfirming(false)} disabled={busy()}>
            Cancel
          </Button>
          <Button variant="danger" onClick={() => void reset()} disabled={busy()}>
            Reset
          </Button>
        </div>
      </Sheet>
    </Screen>
  );
}
