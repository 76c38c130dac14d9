import { createEffect, createSignal, createUniqueId, Match, onCleanup, Show, Switch } from 'solid-js';
import { useApp } from '../../app/context.ts';
import { troubleshootingUrl } from '../../app/links.ts';
import { SecureContextNote } from '../../app/SecureContextNote.tsx';
import { currentDeviceIdentity } from '../../net/device-name.ts';
import type { ScreenProps } from '../../routes.ts';
import { Button } from '../../ui/Button.tsx';
import { Screen } from '../../ui/Screen.tsx';
import { at, createPairFlow } from './flow.ts';
import { PAIRED_IN_TAB, isStandalone } from './install.ts';
import { Scanner } from './Scanner.tsx';

/** What the person at the computer approves, in plain words. */
function Allowed(props: { host: string }) {
  return (
    <>
      <p>Once {props.host} approves, this phone can:</p>
      <ul class="allowed">
        <li>see your sessions and what the agent writes,</li>
        <li>start tasks and stop them in the computer’s workspaces,</li>
        <li>allow or deny the commands and file changes the agent asks for.</li>
      </ul>
      <p class="hint">Everything between the phone and the computer is end-to-end encrypted.</p>
    </>
  );
}

/**
 * Pairing: from a QR link the camera app opened (`/#pair=…`), the in-app scanner, or a typed
 * code. Shows the code to compare, waits for approval, and says what to do when it fails.
 */
export default function PairScreen(props: ScreenProps) {
  const { relay, router, pairLink, setPairLink, connection } = useApp();
  const ids = { code: createUniqueId(), codeHint: createUniqueId(), scanHint: createUniqueId(), error: createUniqueId() };
  // The camera, installing and the offline shell need a secure page: HTTPS, or localhost. A phone
  // reaching the computer at http://192.168.x.y is not one.
  const canScan = window.isSecureContext && 'mediaDevices' in navigator;
  const [code, setCode] = createSignal(props.param ?? '');
  const [codeError, setCodeError] = createSignal('');

  const flow = createPairFlow({
    origin: location.origin,
    device: () => currentDeviceIdentity(),
    async onPaired(record) {
      await relay.addHost(record);
      if (!isStandalone()) sessionStorage.setItem(PAIRED_IN_TAB, '1');
      router.navigate({ name: 'sessions' }, { replace: true });
    },
  });

  // The top bar says "Pairing" while the phone talks to the computer for it, not the state of
  // another link (or "Not paired").
  createEffect(() => {
    const p = flow.phase();
    connection.pairing(p.step === 'contacting' || p.step === 'confirm' ? p.host : undefined);
  });
  onCleanup(() => connection.pairing(undefined));

  // A link the app was opened with (or one that arrives while it runs): pair with it now.
  createEffect(() => {
    const link = pairLink();
    if (!link) return;
    setPairLink(undefined);
    flow.fromLink(link);
  });

  const submit = (event: SubmitEvent) => {
    event.preventDefault();
    const entered = code().trim();
    if (!entered) {
      setCodeError('Type the code shown on your computer first.');
      return;
    }
    setCodeError('');
    flow.fromCode(entered);
  };

  const hostOf = (origin: string) => new URL(origin).host;
  const spaced = (digits: string) => `${digits.slice(0, 3)} ${digits.slice(3)}`;

  return (
    <Screen title="Pair with your computer">
      <Switch>
        <Match when={flow.phase().step === 'start'}>
          <Show when={relay.hosts().length > 0}>
            <p class="note">
              Already paired with{' '}
              {relay
                .hosts()
                .map((h) => h.label)
                .join(', ')}
              . Pair another computer below, or <a href="#/sessions">go to your sessions</a>.
            </p>
          </Show>
          <p>
            On your computer, start OpenWork Relay with <code>npm start</code>. It shows a QR code and a pairing code. Use either one here.
          </p>

          <h2 class="section-title">Scan the QR code</h2>
          <Button variant="primary" disabled={!canScan} aria-describedby={ids.scanHint} onClick={() => flow.scan()}>
            Scan QR
          </Button>
          <p id={ids.scanHint} class="hint">
            {canScan
              ? 'Or scan it with your phone’s camera app: the link opens this app and pairs.'
              : 'Browsers only allow the camera on secure (HTTPS) pages, and this page is not one. Scan the QR with your phone’s camera app instead, or type the code below.'}
          </p>

          <h2 class="section-title">Or type the code</h2>
          <form class="stack" onSubmit={submit}>
            <label for={ids.code}>Pairing code</label>
            <input
              id={ids.code}
              name="code"
              value={code()}
              onInput={(e) => setCode(e.currentTarget.value)}
              autocomplete="one-time-code"
              autocapitalize="characters"
              spellcheck={false}
              enterkeyhint="go"
              aria-describedby={codeError() ? `${ids.codeHint} ${ids.error}` : ids.codeHint}
              aria-invalid={codeError() ? true : undefined}
            />
            <p id={ids.codeHint} class="hint">
              20 characters, printed under the QR code: XXXX-XXXX-XXXX-XXXX-XXXX.
            </p>
            <Show when={codeError()}>
              <p id={ids.error} class="note note--error" role="alert">
                {codeError()}
              </p>
            </Show>
            <Button type="submit" variant="secondary">
              Pair
            </Button>
          </form>

          <SecureContextNote />
          <Show when={!isStandalone()}>
            <p class="hint">Using the installed app? Pair it from inside the app too (Scan QR, or type a code): it keeps its own storage, apart from the browser’s.</p>
          </Show>
        </Match>

        <Match when={flow.phase().step === 'scanning'}>
          <Scanner onLink={(link) => flow.fromLink(link)} onCancel={() => flow.reset()} />
        </Match>

        <Match when={at(flow.phase(), 'contacting')}>
          {(p) => (
            <>
              <p class="waiting" role="status">
                Contacting {p().host}…
              </p>
              <Button variant="secondary" onClick={() => flow.reset()}>
                Cancel
              </Button>
            </>
          )}
        </Match>

        <Match when={at(flow.phase(), 'elsewhere')}>
          {(p) => (
            <>
              <h2 class="section-title">Open the app at {p().host}’s own address</h2>
              <p>
                This pairing link is for <strong>{hostOf(p().stable)}</strong>, but the app is open at <strong>{location.host}</strong>. A phone keeps its pairing with the address
                the app was opened from, and {hostOf(p().stable)} is the one that keeps working when the computer’s network address changes.
              </p>
              <div class="actions">
                <a class="button button--primary" href={p().link}>
                  Open {hostOf(p().stable)}
                </a>
                <Button variant="secondary" onClick={() => flow.pairHere()}>
                  Pair here anyway
                </Button>
              </div>
              <p class="hint">If {hostOf(p().stable)} does not open on this phone, pair here: it works at this address.</p>
            </>
          )}
        </Match>

        <Match when={at(flow.phase(), 'confirm')}>
          {(p) => (
            <>
              <h2 class="section-title">Check the code</h2>
              <p>
                Pairing with <strong>{p().host}</strong>. The computer shows a code too: it must be the same as this one.
              </p>
              <p class="pair-code">
                <span aria-hidden="true">{spaced(p().code)}</span>
                <span class="visually-hidden">Verification code {p().code.split('').join(' ')}</span>
              </p>
              <Allowed host={p().host} />
              <p class="waiting" role="status">
                Waiting for approval on {p().host}… Accept this phone there if the codes match.
              </p>
              <Button variant="secondary" onClick={() => flow.reset()}>
                Cancel
              </Button>
            </>
          )}
        </Match>

        <Match when={at(flow.phase(), 'done')}>
          {(p) => (
            <p class="note" role="status">
              Paired with {p().host}.
            </p>
          )}
        </Match>

        <Match when={at(flow.phase(), 'failed')}>
          {(p) => (
            <>
              <p class="note note--error" role="alert">
                {p().message}
              </p>
              <div class="actions">
                <Button variant="primary" onClick={() => flow.reset()}>
                  Start over
                </Button>
                <Show when={p().code}>
                  <a class="button button--quiet" href={troubleshootingUrl(p().code)}>
                    Troubleshooting
                  </a>
                </Show>
              </div>
            </>
          )}
        </Match>
      </Switch>
    </Screen>
  );
}
