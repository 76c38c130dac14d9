/**
 * Shows a pairing offer at the host: a QR code in the terminal (when there is one to draw it
 * in) and, always, the link and the typed code as text, so a log file or a screen reader still
 * has everything.
 * @module
 */

import type { OfferView } from './offers.ts';

/** What is shown of an offer (its id is not). */
export type OfferDisplay = Omit<OfferView, 'id'>;

export interface TextOut {
  write(text: string): unknown;
  isTTY?: boolean;
}

export async function showPairingOffer(offer: OfferDisplay, out: TextOut, now: number = Date.now()): Promise<void> {
  // Loaded only for a terminal: a host run as a service never draws one.
  const qr = out.isTTY ? await (await import('qrcode')).default.toString(offer.link, { type: 'terminal', small: true, errorCorrectionLevel: 'L' }) : '';
  out.write(formatOfferText(offer, now, qr));
}

export function formatOfferText(offer: OfferDisplay, now: number, qr = ''): string {
  const minutes = Math.max(1, Math.round((offer.expiresAt - now) / 60_000));
  const at = new Date(offer.expiresAt).toTimeString().slice(0, 5);
  const intro = qr ? ['Pair a phone: scan this QR code with its camera', qr.trimEnd(), 'or open this link on it:'] : ['Pair a phone: open this link on it:'];
  return [
    '',
    ...intro,
    `  ${offer.link}`,
    `No camera? Open ${offer.origin} on the phone and type this code:`,
    `  ${offer.code}`,
    `The offer works once and expires in ${minutes} min (at ${at}).${qr ? ' Press p for a new one.' : ''}`,
    '',
  ].join('\n');
}
