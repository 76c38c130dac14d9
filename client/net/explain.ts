/**
 * Failures in words a person can act on: what happened and what to do, never a bare code. The
 * code stays available for the troubleshooting guide's anchors (docs/troubleshooting.md).
 * @module
 */
import { RelayClosedError } from '../../shared/channel/errors.ts';
import { OfferError } from '../../shared/pairing/offer-error.ts';
import { isErrorCode, type ErrorCode } from '../../shared/protocol/errors.ts';

export interface Explained {
  message: string;
  code?: ErrorCode;
}

/** Codes after which trying again cannot help: the person has to pair again or update. */
export const FATAL_CODES: ReadonlySet<ErrorCode> = new Set(['device.unknown', 'device.revoked', 'protocol.version']);

/** The wire code of a RelayClosedError or RequestError (shared/channel/client.ts). */
export function errorCode(err: unknown): ErrorCode | undefined {
  const code = err instanceof Error ? (err as { code?: unknown }).code : undefined;
  return isErrorCode(code) ? code : undefined;
}

/** Why a connection to a paired computer ended or failed. */
export function explainConnection(err: unknown, host: string): Explained {
  const code = errorCode(err);
  const text: Partial<Record<ErrorCode, string>> = {
    'device.unknown': `${host} does not know this phone any more (was it reset?). Pair again.`,
    'device.revoked': `This phone was removed from ${host}. Pair again to use it.`,
    'protocol.version': `This app and ${host} speak different versions. Update the host, then reload the app from it.`,
    'host.shutting-down': `${host} is shutting down`,
    'device.access-changed': `${host} changed what this phone may do; reconnecting with the new access`,
    'connection.slow': 'The connection was too slow to keep up',
    'handshake.failed': `The secure handshake failed: the computer answering may not be ${host}`,
    'frame.auth': 'A message arrived damaged or tampered with',
    'protocol.invalid': `${host} and this app disagreed about a message; reload the app`,
  };
  if (code && text[code]) return { message: text[code]!, code };
  if (err instanceof ConnectTimeout) return { message: `${host} did not answer in time` };
  return { message: `Cannot reach ${host}`, ...(code ? { code } : {}) };
}

/** Why pairing did not complete, with what to do next. */
export function explainPairing(err: unknown, host: string): Explained {
  if (err instanceof OfferError) {
    if (err.reason === 'expired')
      return {
        message: 'This pairing code has expired. On your computer, make a new one (press p where Relay runs, or run npm start -- pair) and scan it again.',
        code: 'pair.expired',
      };
    if (err.reason === 'host-mismatch')
      return { message: 'The computer that answered is not the one this code belongs to. Check that you typed the code shown on the computer this page comes from.' };
    return { message: `That does not look like a pairing code: ${err.detail}` };
  }
  const code = errorCode(err);
  const text: Partial<Record<ErrorCode, string>> = {
    'pair.declined': `${host} declined this phone. If that was a mistake, make a new pairing code on the computer and try again.`,
    'pair.expired': 'The pairing code expired before it was approved. Make a new one on the computer (press p, or npm start -- pair) and try again.',
    'pair.used': 'This pairing code was already used. Each code works once: make a new one on the computer (press p, or npm start -- pair).',
    'pair.unknown': `${host} does not know this pairing code (it may have restarted since). Make a new one on the computer and try again.`,
    'pair.rate-limited': 'Too many pairing attempts. Wait a minute, then try again.',
    'handshake.failed': 'The secure handshake failed: the code does not match this computer, or something in between interfered. Make a new code and try again.',
    'protocol.version': `This app and ${host} speak different versions. Update the host, then open the app from it again.`,
  };
  if (code && text[code]) return { message: text[code]!, code };
  if (err instanceof ConnectTimeout || err instanceof RelayClosedError) {
    return { message: `Cannot reach ${host}. Check that this phone is on the same network as the computer and that Relay is running there.`, ...(code ? { code } : {}) };
  }
  return { message: `Pairing failed: ${err instanceof Error ? err.message : String(err)}` };
}

/** Why a request (a task, an approval, a stop) failed. */
export function explainRequest(err: unknown): string {
  const code = errorCode(err);
  if (code === 'runtime.not-ready') return 'The coding agent on your computer is not ready yet; try again in a moment.';
  if (code === 'scope.denied') return 'This phone is not allowed to do that. The computer can change what it may do (npm start -- devices).';
  if (code === 'request.unknown') return 'Your computer no longer knows this (it may already be answered or gone).';
  if (code === 'session.busy') return 'The session is running; wait for it to finish or stop it, then try again.';
  if (code === 'permission.expired') return 'This request is gone (the agent on your computer restarted or withdrew it); your answer was not delivered.';
  if (err instanceof NotConnected) return err.message;
  if (err instanceof RelayClosedError) return 'The connection dropped before your computer answered; try again once it is back.';
  return err instanceof Error ? err.message : String(err);
}

/** A connection attempt that took too long; the socket was closed. */
export class ConnectTimeout extends Error {
  constructor(address: string) {
    super(`no answer from ${address}`);
    this.name = 'ConnectTimeout';
  }
}

/** A request made while no connection is up. */
export class NotConnected extends Error {
  constructor(host: string) {
    super(`Not connected to ${host} right now; try again once the status says Connected.`);
    this.name = 'NotConnected';
  }
}
