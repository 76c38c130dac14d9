/**
 * Pairing at the host's terminal: shows an offer (QR code, link, typed code) and answers
 * approval requests with y / n; p shows a fresh offer. The composition root starts this once.
 * @module
 */
import type { LogGate, Logger } from '../log.ts';
import type { Approvals } from './approvals.ts';
import { startApprovalPrompt, type KeyInput } from './prompt.ts';
import type { OfferView } from './offers.ts';
import { showPairingOffer, type TextOut } from './qr.ts';

export interface PairingConsoleOptions {
  /** Makes a new offer (Relay.newOffer). */
  newOffer: () => OfferView;
  approvals: Approvals;
  input: KeyInput;
  output: TextOut;
  log: Logger;
  /** Holds log lines while a request waits at the terminal. */
  logGate?: Pick<LogGate, 'hold' | 'release'>;
}

export interface PairingConsole {
  /** Makes and shows a new offer. */
  showOffer(): Promise<void>;
  close(): void;
}

export function startPairingConsole(opts: PairingConsoleOptions): PairingConsole {
  const showOffer = async () => {
    await showPairingOffer(opts.newOffer(), opts.output);
  };
  const prompt = startApprovalPrompt({
    approvals: opts.approvals,
    input: opts.input,
    output: opts.output,
    log: opts.log,
    logGate: opts.logGate,
    newOffer: () => void showOffer().catch((err) => opts.log.error('could not show a pairing offer', { err })),
  });
  return { showOffer, close: () => prompt.close() };
}
