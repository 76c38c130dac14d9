/**
 * Page side of the service worker: registers /sw.js (production builds only) and runs the update
 * prompt. A new version waits until the person taps Reload; only then is the worker told to skip
 * waiting, and the page reloads when it takes control. The page never reloads by itself while
 * someone is typing or has typed text that would be lost.
 * @module
 */
import { createStore } from 'solid-js/store';
import { Workbox } from 'workbox-window';
import type { SwMessage } from './messages.ts';

export type UpdateStatus =
  /** Nothing to offer. */
  | 'none'
  /** A new version is installed and waiting for consent. */
  | 'waiting'
  /** Reload was tapped while text would be lost; ask once more. */
  | 'confirm-discard'
  /** Consent given; waiting for the new worker to take control. */
  | 'activating'
  /** The new version took control (another tab agreed, or text appeared meanwhile); a reload shows it. */
  | 'ready'
  /** The person said "Later". */
  | 'dismissed';

export interface UpdateBridge {
  readonly state: { readonly status: UpdateStatus };
  /** Registers the worker and starts watching for updates; a no-op in development. */
  register(): Promise<void>;
  /** The person tapped Reload (`discard`: and confirmed that typed text may be lost). */
  reload(opts?: { discard?: boolean }): void;
  dismiss(): void;
}

const TEXT_INPUT_EXCLUDED = new Set(['button', 'checkbox', 'color', 'file', 'hidden', 'image', 'radio', 'range', 'reset', 'submit']);

function isTextField(el: Element | null): el is HTMLInputElement | HTMLTextAreaElement {
  if (el instanceof HTMLTextAreaElement) return true;
  return el instanceof HTMLInputElement && !TEXT_INPUT_EXCLUDED.has(el.type);
}

/** True while a text field has focus or any text field holds text the page did not put there. */
export function isEditingText(doc: Document): boolean {
  const active = doc.activeElement;
  if (isTextField(active) || (active instanceof HTMLElement && active.isContentEditable)) return true;
  for (const el of doc.querySelectorAll('input, textarea')) {
    if (isTextField(el) && el.value !== el.defaultValue) return true;
  }
  return false;
}

export function createUpdateBridge(win: Window = window): UpdateBridge {
  const [state, setState] = createStore<{ status: UpdateStatus }>({ status: 'none' });
  const setStatus = (status: UpdateStatus) => setState('status', status);
  let registration: ServiceWorkerRegistration | undefined;
  /** Set by the Reload tap: a controller change after it may reload the page. */
  let consent: 'none' | 'reload' | 'discard' = 'none';

  const reloadNow = () => win.location.reload();

  /** Offers a waiting version, unless an offer is already on screen or under way. */
  const offer = () => {
    if (state.status === 'none' || state.status === 'dismissed') setStatus('waiting');
  };
  const offerIfWaiting = () => {
    if (registration?.waiting && win.navigator.serviceWorker.controller) offer();
  };

  return {
    state,

    async register() {
      if (!import.meta.env.PROD || !('serviceWorker' in win.navigator)) return;
      const sw = win.navigator.serviceWorker;
      // The first install takes control of an uncontrolled page (clients.claim): not an update.
      let hadController = sw.controller !== null;
      sw.addEventListener('controllerchange', () => {
        if (!hadController) {
          hadController = true;
          return;
        }
        if (consent === 'discard' || (consent === 'reload' && !isEditingText(win.document))) reloadNow();
        else setStatus('ready');
      });

      const wb = new Workbox(`${import.meta.env.BASE_URL}sw.js`);
      // Fires for our own registration and for updates found later (workbox calls those "external").
      wb.addEventListener('waiting', offer);
      registration = await wb.register();
      offerIfWaiting();
      // Phones keep the app open for days: look for a new version whenever it comes back to the front.
      win.document.addEventListener('visibilitychange', () => {
        if (win.document.visibilityState !== 'visible') return;
        offerIfWaiting();
        wb.update().catch(() => {}); // offline: try again next time
      });
    },

    reload(opts = {}) {
      if (state.status === 'none' || state.status === 'activating') return;
      if (!opts.discard && isEditingText(win.document)) {
        setStatus('confirm-discard');
        return;
      }
      if (state.status === 'ready' || !registration?.waiting) {
        reloadNow();
        return;
      }
      consent = opts.discard ? 'discard' : 'reload';
      setStatus('activating');
      const message: SwMessage = { type: 'skip-waiting' };
      registration.waiting.postMessage(message);
    },

    dismiss() {
      setStatus('dismissed');
    },
  };
}
