/**
 * Installed app or browser tab: on iOS a Home Screen app has storage of its own, apart from
 * Safari's, and a QR scanned with the system camera opens Safari. So a pairing made in a tab does
 * not carry over to the installed app: say how to install it and pair it too.
 * @module
 */

/** sessionStorage flag: this tab just paired, show the hint once on the sessions screen. */
export const PAIRED_IN_TAB = 'relay.pairedInTab';

export function isStandalone(win: Window = window): boolean {
  return win.matchMedia?.('(display-mode: standalone)').matches || (win.navigator as { standalone?: boolean }).standalone === true;
}

export function isIos(win: Window = window): boolean {
  return /iPhone|iPad|iPod/.test(win.navigator.userAgent);
}

export function installHint(win: Window = window): string {
  const how = isIos(win) ? 'Share → “Add to Home Screen”' : 'browser menu → “Install app”';
  return `Paired in this browser tab. For the app on your home screen (${how}), pair it too from inside it: it keeps its own storage.`;
}
