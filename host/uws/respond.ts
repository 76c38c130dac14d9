/**
 * Abort-safe, corked HTTP responses for uWebSockets.js.
 *
 * uWS terminates the process if a handler returns without responding or registering `onAborted`,
 * and a response must not be touched after it was aborted. Writes outside a handler's synchronous
 * part must be corked so status, headers and body leave in one syscall (one TLS record).
 * @module
 */
import { STATUS_CODES } from 'node:http';
import type { HttpResponse } from '@trufflesuite/uws-js-unofficial';

/** Per-request state, kept beside `res` instead of ad-hoc properties on it. */
export interface RequestState {
  aborted: boolean;
  /** Set once a response was sent, so a second attempt is a no-op rather than a crash. */
  done: boolean;
}

export type HeaderList = ReadonlyArray<readonly [string, string]>;

export interface Reply {
  status: number;
  headers?: HeaderList;
  body?: string | Uint8Array;
  /** HEAD: report the body's length in Content-Length but send no body. */
  omitBody?: boolean;
}

/** Call first in every handler, before any await: registers the abort handler uWS requires. */
export function track(res: HttpResponse): RequestState {
  const state: RequestState = { aborted: false, done: false };
  res.onAborted(() => {
    state.aborted = true;
  });
  return state;
}

/** Sends `reply` unless the request was aborted or already answered; returns whether it was sent. */
export function sendResponse(res: HttpResponse, state: RequestState, reply: Reply): boolean {
  if (state.aborted || state.done) return false;
  state.done = true;
  res.cork(() => {
    res.writeStatus(`${reply.status} ${STATUS_CODES[reply.status] ?? ''}`.trimEnd());
    for (const [name, value] of reply.headers ?? []) res.writeHeader(name, value);
    if (reply.status === 304 || reply.status === 204) res.endWithoutBody();
    else if (reply.omitBody) res.endWithoutBody(byteLength(reply.body));
    else res.end(reply.body ?? '');
  });
  return true;
}

export function sendJson(res: HttpResponse, state: RequestState, status: number, value: unknown, headers: HeaderList = []): boolean {
  return sendResponse(res, state, {
    status,
    headers: [['Content-Type', 'application/json; charset=utf-8'], ...headers],
    body: JSON.stringify(value),
  });
}

function byteLength(body: string | Uint8Array | undefined): number {
  if (body === undefined) return 0;
  return typeof body === 'string' ? Buffer.byteLength(body) : body.byteLength;
}

/** Collects the request body; `undefined` when it is larger than `max` bytes. */
export function readBody(res: HttpResponse, state: RequestState, max: number, done: (body: Buffer | undefined) => void): void {
  const chunks: Buffer[] = [];
  let size = 0;
  let over = false;
  res.onData((chunk, isLast) => {
    if (state.aborted) return;
    size += chunk.byteLength;
    // uWS reuses the chunk's memory after this callback returns: copy it.
    if (size > max) over = true;
    else chunks.push(Buffer.from(chunk.slice(0)));
    if (isLast) done(over ? undefined : Buffer.concat(chunks));
  });
}
