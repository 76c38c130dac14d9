/**
 * Talking to a runtime before there is a client: its basic-auth header and its health route.
 * @module
 */

/** OpenCode's server user name when `OPENCODE_SERVER_PASSWORD` is set. */
export const RUNTIME_USER = 'opencode';

/** The `authorization` header for a runtime, or none when it has no password. */
export function authHeaders(password: string | undefined): Record<string, string> {
  if (!password) return {};
  return { authorization: `Basic ${Buffer.from(`${RUNTIME_USER}:${password}`).toString('base64')}` };
}

export interface RuntimeHealth {
  version?: string;
}

/**
 * One `GET /global/health` with its own timeout: a runtime that is still starting can accept
 * the connection and never answer, so every request must give up on its own.
 * @throws Error saying why the runtime is not healthy.
 */
export async function checkHealth(url: string, password: string | undefined, timeoutMs: number): Promise<RuntimeHealth> {
  const res = await fetch(new URL('/global/health', url), { headers: authHeaders(password), signal: AbortSignal.timeout(timeoutMs) });
  if (res.status === 401) throw new Error('the runtime refused the password (HTTP 401)');
  if (!res.ok) throw new Error(`health check answered HTTP ${res.status}`);
  const body: unknown = await res.json();
  if (!body || typeof body !== 'object' || (body as { healthy?: unknown }).healthy !== true) throw new Error('health check did not report healthy');
  const version = (body as { version?: unknown }).version;
  return typeof version === 'string' ? { version } : {};
}
