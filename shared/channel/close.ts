/**
 * WebSocket close codes and reasons of the relay (docs/protocol.md, "Close codes"). A reason is
 * `<error code>: <text for a person>`, at most 123 bytes as WebSocket requires. Close frames are
 * not authenticated, so a device treats a reason as a hint for what to show, never as proof.
 * @module
 */
import { ERROR_CODES, isErrorCode, type ErrorCode } from '../protocol/errors.ts';

export const CLOSE_CODES = {
  'protocol.invalid': 4400,
  'protocol.version': 4400,
  'frame.auth': 4400,
  'frame.size': 4400,
  'handshake.failed': 4400,
  'device.unknown': 4401,
  'device.revoked': 4403,
  /** Not a failure: the device reconnects at once and its new welcome lists its new access. */
  'device.access-changed': 4205,
  'pair.expired': 4408,
  'pair.used': 4409,
  'pair.unknown': 4409,
  'pair.declined': 4410,
  'pair.rate-limited': 4429,
  'connection.slow': 4008,
  'host.shutting-down': 1001,
} as const satisfies Partial<Record<ErrorCode, number>>;

export type CloseErrorCode = keyof typeof CLOSE_CODES;

/** WebSocket (RFC 6455 §5.5.1) allows 123 bytes of reason in a close frame. */
export const MAX_CLOSE_REASON = 123;

export interface CloseInfo {
  code: number;
  reason: string;
}

export function closeFor(error: CloseErrorCode, text: string = ERROR_CODES[error]): CloseInfo {
  return { code: CLOSE_CODES[error], reason: truncateUtf8(`${error}: ${text}`, MAX_CLOSE_REASON) };
}

/** The error code a close reason starts with, if it names one. */
export function closeErrorCode(reason: string): ErrorCode | undefined {
  const code = reason.split(':', 1)[0]!.trim();
  return isErrorCode(code) ? code : undefined;
}

export function truncateUtf8(text: string, maxBytes: number): string {
  const bytes = new TextEncoder().encode(text);
  if (bytes.length <= maxBytes) return text;
  // Cut at a character boundary: drop UTF-8 continuation bytes (10xxxxxx) at the end.
  let end = maxBytes;
  while (end > 0 && (bytes[end]! & 0xc0) === 0x80) end--;
  return new TextDecoder().decode(bytes.subarray(0, end));
}
