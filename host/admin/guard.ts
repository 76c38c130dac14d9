/**
 * Who may use the admin page and its API: only the host's own user, on the host itself.
 *
 * - Every admin URL answers only on this machine (`whyNotLocal`: a loopback peer, a loopback
 *   `Host`, no forwarding headers), which also keeps out DNS rebinding and local tunnels.
 * - A web page on another origin can still make the browser *send* a request to
 *   http://127.0.0.1:8787 (a form post, `fetch` with `mode: 'no-cors'`). So every API request must
 *   carry the `X-OpenWork-Admin: 1` header: a cross-origin page can only add a custom header
 *   through a CORS preflight, which this host never approves. And its `Origin`, when the browser
 *   sends one, must be this same loopback origin; `Sec-Fetch-Site`, when sent, must say the
 *   request comes from this origin or was typed by the person.
 *
 * Being on this machine is not being this person: another user of a shared computer reaches
 * 127.0.0.1 too. So the API also needs a session signed in with a link only this OS user can
 * get (session.ts); these checks come first and apply to signing in as well.
 * @module
 */
import { isLoopbackHost, whyNotLocal, type LocalRequest } from '../metrics/loopback.ts';

export const ADMIN_HEADER = 'x-openwork-admin';

export interface AdminRequest extends LocalRequest {
  /** The `Origin` header ('' when absent). */
  origin: string;
  /** The `X-OpenWork-Admin` header ('' when absent). */
  adminHeader: string;
  /** The `Sec-Fetch-Site` header ('' when absent). */
  fetchSite: string;
}

export interface Refusal {
  status: 403;
  reason: string;
}

/** Why a page or asset under /admin is refused, or undefined when it may be served. */
export function whyNotAdminPage(req: LocalRequest): Refusal | undefined {
  const local = whyNotLocal(req);
  return local ? { status: 403, reason: `${local}: the admin page answers only on the host itself (loopback)` } : undefined;
}

/** Why an /admin/api request is refused, or undefined when it may be answered. */
export function whyNotAdminApi(req: AdminRequest): Refusal | undefined {
  const page = whyNotAdminPage(req);
  if (page) return page;
  if (req.adminHeader !== '1') return { status: 403, reason: 'the admin API needs the X-OpenWork-Admin: 1 header (the admin page sends it)' };
  if (req.origin && !sameLoopbackOrigin(req.origin, req.host)) return { status: 403, reason: `requests from ${req.origin.slice(0, 100)} may not use the admin API` };
  if (req.fetchSite && req.fetchSite !== 'same-origin' && req.fetchSite !== 'none') {
    return { status: 403, reason: `a ${req.fetchSite} request may not use the admin API` };
  }
  return undefined;
}

/** Whether `origin` is http(s)://<the Host header>, on a loopback name. */
function sameLoopbackOrigin(origin: string, host: string): boolean {
  try {
    const url = new URL(origin);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return false;
    // An origin is scheme://host[:port] and nothing else.
    if (url.origin !== origin.toLowerCase()) return false;
    return isLoopbackHost(url.host) && url.host === new URL(`${url.protocol}//${host}`).host;
  } catch {
    return false;
  }
}
