import { createUniqueId, Show, type JSX } from 'solid-js';
import { TRUST_URL } from './links.ts';

/**
 * On a page that is not a secure context (plain HTTP to a LAN address): what the browser holds
 * back, in plain words, and the guide to HTTPS, instead of features failing silently. Nothing
 * on a secure page. `children`: actions offered with it.
 */
export function SecureContextNote(props: { children?: JSX.Element }) {
  const id = createUniqueId();
  return (
    <Show when={!window.isSecureContext}>
      <section class="note insecure" aria-labelledby={id}>
        <h2 class="section-title" id={id}>
          This page is not secure (plain HTTP)
        </h2>
        <p>Pairing and your messages are still end-to-end encrypted. What plain HTTP takes away:</p>
        <ul class="allowed">
          <li>installing the app on your home screen,</li>
          <li>opening it offline,</li>
          <li>scanning QR codes with the camera inside the app.</li>
        </ul>
        <p>
          <a href={TRUST_URL}>Set up HTTPS for your computer</a>
        </p>
        {props.children}
      </section>
    </Show>
  );
}
