import { createSignal, createUniqueId, Show } from 'solid-js';
import type { ScreenProps } from '../../routes.ts';
import { Button } from '../../ui/Button.tsx';
import { Screen } from '../../ui/Screen.tsx';

/**
 * Welcome and pairing. Placeholder until the pairing protocol lands: it explains both ways to
 * pair and collects the code; a QR link opened by the phone's camera arrives as `#/pair/<code>`.
 */
export default function PairScreen(props: ScreenProps) {
  const ids = { code: createUniqueId(), codeHint: createUniqueId(), scanHint: createUniqueId() };
  // The camera is only available on secure pages: HTTPS, or localhost. A phone reaching the
  // computer at http://192.168.x.y is not one.
  const canScan = window.isSecureContext && 'mediaDevices' in navigator;
  const [code, setCode] = createSignal(props.param ?? '');
  const [note, setNote] = createSignal('');

  const submit = (event: SubmitEvent) => {
    event.preventDefault();
    const entered = code().trim();
    setNote(entered ? 'Pairing is not available in this preview yet.' : 'Type the code shown on your computer first.');
  };

  return (
    <Screen title="Pair with your computer">
      <p>
        On your computer, start OpenWork Relay with <code>npm start</code>. It shows a QR code and a
        pairing code. Use either one here.
      </p>

      <h2 class="section-title">Scan the QR code</h2>
      <Button
        variant="primary"
        disabled={!canScan}
        aria-describedby={canScan ? undefined : ids.scanHint}
        onClick={() => setNote('The QR scanner is not built yet. Type the code instead.')}
      >
        Scan QR
      </Button>
      <Show when={!canScan}>
        <p id={ids.scanHint} class="hint">
          Browsers only allow the camera on secure (HTTPS) pages, and this page is not one. Scan the QR
          with your phone's camera app instead, or type the code below.
        </p>
      </Show>

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
          aria-describedby={ids.codeHint}
        />
        <p id={ids.codeHint} class="hint">It is printed under the QR code.</p>
        <Button type="submit" variant="secondary">Pair</Button>
      </form>
      <Show when={note()}>
        <p class="note" role="status">{note()}</p>
      </Show>
    </Screen>
  );
}
