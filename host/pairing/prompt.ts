/**
 * The person at the host decides pairing requests here: with a terminal, each request is shown
 * with its verification code and answered with one key — y approves with every scope (read, run,
 * approve), r approves it to read only, n declines — and p makes a fresh pairing offer; without
 * one, the log says that a request waits and how to answer it. Scopes can be changed later with
 * `npm start -- devices scopes` or on the admin page.
 *
 * The name and platform come from the device, so they could try to draw a fake "Verification
 * code" line over the host's own (with `\r`, cursor moves, concealed text). They are shown through
 * safeText, cut to fit one line, each on a line the host labels, and the code follows on its own
 * line that only the host writes, after everything the device sent.
 * @module
 */
import { safeText } from '../../shared/text/safe-text.ts';
import type { LogGate, Logger } from '../log.ts';
import type { Scope } from '../../shared/protocol/messages.ts';
import { DEFAULT_SCOPES, type Approvals, type PendingApproval } from './approvals.ts';
import type { TextOut } from './qr.ts';

export interface KeyInput {
  isTTY?: boolean;
  setRawMode?(raw: boolean): unknown;
  setEncoding(encoding: BufferEncoding): unknown;
  on(event: 'data', listener: (chunk: string) => void): unknown;
  off(event: 'data', listener: (chunk: string) => void): unknown;
  resume(): unknown;
  pause(): unknown;
}

export interface PromptOptions {
  approvals: Approvals;
  input: KeyInput;
  output: TextOut;
  log: Logger;
  /** Key p: make and show a new pairing offer. */
  newOffer: () => void;
  /** Ctrl-C while the terminal is in raw mode; by default the SIGINT the terminal would have sent. */
  interrupt?: () => void;
  /** Holds log lines while a request waits at the terminal, so none lands inside the prompt. */
  logGate?: Pick<LogGate, 'hold' | 'release'>;
}

export interface Prompt {
  close(): void;
}

const READ_ONLY: readonly Scope[] = ['read'];

/** A device field's length in the prompt: with its label it fits an 80-column line, so it cannot wrap onto the next one. */
const FIELD_MAX = 48;

/** A device-supplied field as the prompt shows it. */
const field = (text: string) => safeText(text, FIELD_MAX);

/** The prompt for one request: the device's own words first, labelled, then the host's code. */
export function formatRequest(p: Pick<PendingApproval, 'name' | 'platform' | 'remoteAddress' | 'code'>): string {
  return (
    `\nA device at ${field(p.remoteAddress)} asks to pair. It says:\n` +
    `  name:     "${field(p.name)}"\n` +
    `  platform: ${p.platform ? field(p.platform) : '(none given)'}\n` +
    `Verification code from this host: ${p.code.slice(0, 3)} ${p.code.slice(3)} (the phone must show the same code)\n` +
    `Approve this device? [y = yes, r = read only, n = no] `
  );
}

export function startApprovalPrompt(opts: PromptOptions): Prompt {
  return opts.input.isTTY ? terminalPrompt(opts) : logOnly(opts);
}

function terminalPrompt(opts: PromptOptions): Prompt {
  const { approvals, input, output } = opts;
  const interrupt = opts.interrupt ?? (() => process.kill(process.pid, 'SIGINT'));
  let shown: PendingApproval | undefined;

  const showHead = (pending: PendingApproval[]) => {
    if (shown && !pending.some((p) => p.id === shown!.id)) {
      output.write(`\nThe pairing request from "${field(shown.name)}" is no longer waiting.\n`);
      shown = undefined;
    }
    if (shown) return;
    // What was held while the last request waited comes out now, before the next one is asked.
    opts.logGate?.release();
    if (pending.length === 0) return;
    shown = pending[0]!;
    opts.logGate?.hold();
    output.write(formatRequest(shown));
  };

  /** `scopes` undefined: decline. */
  const decide = (key: string, scopes: readonly Scope[] | undefined) => {
    const current = shown;
    if (!current) return;
    shown = undefined;
    output.write(!scopes ? `${key}\nDeclined.\n` : scopes === DEFAULT_SCOPES ? `${key}\nApproved.\n` : `${key}\nApproved to ${scopes.join(', ')} only.\n`);
    // Either call triggers onChange, which shows the next request.
    if (scopes) approvals.approve(current.id, scopes);
    else approvals.decline(current.id);
  };

  const onData = (chunk: string) => {
    for (const key of chunk) {
      if (key === '\u0003') interrupt();
      else if (key === 'y' || key === 'Y') decide('y', DEFAULT_SCOPES);
      else if (key === 'r' || key === 'R') decide('r', READ_ONLY);
      else if (key === 'n' || key === 'N') decide('n', undefined);
      else if (key === 'p' || key === 'P') opts.newOffer();
    }
  };

  input.setRawMode?.(true);
  input.setEncoding('utf8');
  input.on('data', onData);
  input.resume();
  const unsubscribe = approvals.onChange(showHead);
  showHead(approvals.list());
  return {
    close() {
      unsubscribe();
      opts.logGate?.release();
      input.off('data', onData);
      input.setRawMode?.(false);
      input.pause();
    },
  };
}

function logOnly(opts: PromptOptions): Prompt {
  const announced = new Set<string>();
  const announce = (pending: PendingApproval[]) => {
    for (const p of pending) {
      if (announced.has(p.id)) continue;
      announced.add(p.id);
      opts.log.warn(
        'a device asks to pair and waits for approval; no terminal is attached to answer it, so start the host in a ' +
          'terminal and press y there, or approve it on the admin page (run npm start -- admin on this computer for a link); ' +
          'the request expires with its offer',
        { name: p.name, platform: p.platform, code: p.code, remoteAddress: p.remoteAddress },
      );
    }
    for (const id of announced) if (!pending.some((p) => p.id === id)) announced.delete(id);
  };
  announce(opts.approvals.list());
  return { close: opts.approvals.onChange(announce) };
}
