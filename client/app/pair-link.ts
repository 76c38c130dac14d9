/**
 * A pairing link opened by the phone's camera app arrives as `/#pair=<offer>`. The offer holds a
 * secret, so it is taken out of the address bar (and the history) at once and handed to the
 * pairing screen in memory.
 * @module
 */

export function takePairLink(win: Window = window): string | undefined {
  const hash = win.location.hash;
  if (!/^#\/?pair=/.test(hash)) return undefined;
  win.history.replaceState(win.history.state, '', '#/pair');
  return hash.slice(1);
}

/** The same pairing link, opening the app at `origin` instead (the offer stays unused until then). */
export function pairLinkAt(origin: string, link: string): string {
  const at = link.indexOf('pair=');
  if (at < 0) throw new RangeError('link: not a pairing link (no "pair=" part)');
  return `${origin.replace(/\/+$/, '')}/#${link.slice(at)}`;
}
