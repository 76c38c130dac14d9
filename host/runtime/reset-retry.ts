/**
 * A `fetch` for the runtime's API that sends a request once more when the runtime reset a reused
 * keep-alive connection before answering it.
 *
 * OpenCode serves with `Bun.serve`, which on Linux can reset a kept-alive socket when the next
 * request arrives right after a small, fast response (oven-sh/bun#42212): the request never
 * reaches OpenCode's handler, and Node's fetch fails with `ECONNRESET` (or undici's "other side
 * closed"). The bridge makes exactly such back-to-back calls (create a session, then prompt it),
 * so without this a task could fail for no reason of its own. Only a failure with no response at
 * all is retried, and only once: a second failure is the runtime's real state and is reported.
 * @module
 */

/** Socket-level failures that mean "no response was received on this connection". */
const RESET_CODES = new Set(['ECONNRESET', 'UND_ERR_SOCKET', 'EPIPE']);

function wasReset(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 4; e = e.cause, depth++) {
    const code = (e as Error & { code?: unknown }).code;
    if (typeof code === 'string' && RESET_CODES.has(code)) return true;
  }
  return false;
}

export function retryOnReset(fetchImpl: (request: Request) => Promise<Response> = fetch): typeof fetch {
  return async (input, init) => {
    const request = new Request(input, init);
    // The body can be read once; the copy is what a second attempt sends.
    const copy = request.clone();
    try {
      return await fetchImpl(request);
    } catch (err) {
      if (!wasReset(err) || request.signal.aborted) throw err;
      return fetchImpl(copy);
    }
  };
}
