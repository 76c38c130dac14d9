/**
 * `/admin`: the host's local admin page (HTML, CSS and a script, read once and served from
 * memory; no inline script, so the host's strict CSP applies unchanged; the script is
 * page/admin.ts as scripts/build-host.mjs bundles it into build/) and its JSON API under
 * `/admin/api/`. Who may use them is decided in guard.ts (this computer, this page) and
 * session.ts (this OS user); what they do, in api.ts.
 *
 * The page itself loads for anyone on this computer (it holds no data); it shows a "sign in"
 * screen until it has a session. `POST /admin/api/login` { secret } is the one API call that
 * needs no session: it trades a login link's secret for one (a cookie, and a key in the reply).
 * @module
 */
import { readFileSync } from 'node:fs';
import type { HttpRequest, HttpResponse, TemplatedApp } from '@trufflesuite/uws-js-unofficial';
import type { Logger } from '../log.ts';
import { projectPath } from '../paths.ts';
import { SECURITY_HEADERS } from '../server/headers.ts';
import { readBody, sendResponse, track, type HeaderList, type Reply, type RequestState } from '../uws/respond.ts';
import type { AdminApi } from './api.ts';
import { ADMIN_HEADER, whyNotAdminApi, whyNotAdminPage } from './guard.ts';
import { readCookie, sessionCookie, SESSION_KEY_HEADER, type AdminSessions } from './session.ts';
import { FORWARDING_HEADERS } from '../metrics/loopback.ts';

export const ADMIN_PATH = '/admin';
const API_PREFIX = '/admin/api/';
const LOGIN = 'login';
/** Bodies are small JSON objects; anything bigger is not from the page. */
const MAX_BODY = 16 * 1024;

const ASSET_TYPES: ReadonlyMap<string, [file: string, type: string]> = new Map([
  ['/admin', [projectPath('host', 'admin', 'page', 'admin.html'), 'text/html; charset=utf-8']],
  ['/admin/admin.css', [projectPath('host', 'admin', 'page', 'admin.css'), 'text/css; charset=utf-8']],
  ['/admin/admin.js', [projectPath('build', 'admin.js'), 'text/javascript; charset=utf-8']],
]);
let assets: ReadonlyMap<string, { type: string; body: Buffer }> | undefined;

/** Reads the page's files once, on the first request for one of them. */
function loadAssets(): ReadonlyMap<string, { type: string; body: Buffer }> {
  return new Map([...ASSET_TYPES].map(([path, [file, type]]) => [path, { type, body: readFileSync(file) }]));
}

const TEXT = 'text/plain; charset=utf-8';
const JSON_TYPE = 'application/json; charset=utf-8';

export interface AdminRouteOptions {
  api: AdminApi;
  sessions: AdminSessions;
  /** The session cookie's name (it depends on the port, known only once the host listens). */
  cookieName: () => string;
  log: Logger;
}

export function mountAdminRoutes(app: TemplatedApp, opts: AdminRouteOptions): void {
  const handler = (res: HttpResponse, req: HttpRequest) => {
    const state = track(res);
    // Everything from req must be read now: uWS invalidates it when the handler returns.
    const url = req.getUrl();
    const method = req.getMethod();
    const local = {
      remoteAddress: Buffer.from(res.getRemoteAddressAsText()).toString(),
      host: req.getHeader('host'),
      forwarded: FORWARDING_HEADERS.some((h) => req.getHeader(h) !== ''),
    };
    if (!url.startsWith(API_PREFIX)) {
      const refusal = whyNotAdminPage(local);
      if (refusal) return send(res, state, text(refusal.status, `${refusal.reason}\n`));
      if (!ASSET_TYPES.has(url)) return send(res, state, text(404, 'not found\n'));
      let page: { type: string; body: Buffer };
      try {
        assets ??= loadAssets();
        page = assets.get(url)!;
      } catch (err) {
        opts.log.error('could not serve the admin page', { err });
        return send(res, state, text(500, "the admin page is missing from this installation; see the host's log\n"));
      }
      if (method !== 'get' && method !== 'head')
        return send(res, state, {
          ...text(405, 'method not allowed\n'),
          headers: [
            ['Allow', 'GET, HEAD'],
            ['Content-Type', TEXT],
          ],
        });
      return send(res, state, { status: 200, headers: [['Content-Type', page.type]], body: page.body, omitBody: method === 'head' });
    }
    const refusal = whyNotAdminApi({
      ...local,
      origin: req.getHeader('origin'),
      adminHeader: req.getHeader(ADMIN_HEADER),
      fetchSite: req.getHeader('sec-fetch-site'),
    });
    if (refusal) return send(res, state, json(refusal.status, { error: refusal.reason }));
    if (method !== 'get' && method !== 'post')
      return send(res, state, {
        ...json(405, { error: 'use GET or POST' }),
        headers: [
          ['Allow', 'GET, POST'],
          ['Content-Type', JSON_TYPE],
        ],
      });
    const path = url.slice(API_PREFIX.length);
    if (path === LOGIN) {
      if (method !== 'post')
        return send(res, state, {
          ...json(405, { error: 'use POST' }),
          headers: [
            ['Allow', 'POST'],
            ['Content-Type', JSON_TYPE],
          ],
        });
      return readJson(res, state, (body) => {
        const result = opts.sessions.login((body as { secret?: unknown } | undefined)?.secret);
        if (!result.ok) {
          // Worth a line: a refused link may be someone else on this computer trying their luck.
          opts.log.warn('refused an admin page login', { reason: result.reason.split(':')[0] });
          return send(res, state, json(401, { error: result.reason }));
        }
        opts.log.info('signed in on the admin page');
        const reply = json(200, { key: result.session.key });
        send(res, state, { ...reply, headers: [...reply.headers!, ['Set-Cookie', sessionCookie(opts.cookieName(), result.session.cookie)]] });
      });
    }
    const notSignedIn = opts.sessions.whyNotSignedIn(readCookie(req.getHeader('cookie'), opts.cookieName()), req.getHeader(SESSION_KEY_HEADER));
    if (notSignedIn) return send(res, state, json(401, { error: notSignedIn }));
    const answer = (body: unknown) =>
      opts.api.handle(method, path, body).then(
        (reply) => send(res, state, json(reply.status, reply.body)),
        (err: unknown) => {
          opts.log.error('admin request failed', { path, err });
          send(res, state, json(500, { error: "internal error; see the host's log" }));
        },
      );
    if (method === 'get') return void answer(undefined);
    readJson(res, state, (body) => void answer(body));
  };
  app.any(ADMIN_PATH, handler);
  app.any(`${ADMIN_PATH}/*`, handler);
}

/** Reads a JSON body (empty: undefined), answering 413 or 400 itself when it is too big or not JSON. */
function readJson(res: HttpResponse, state: RequestState, done: (body: unknown) => void): void {
  readBody(res, state, MAX_BODY, (body) => {
    if (body === undefined) return send(res, state, json(413, { error: `the body may be at most ${MAX_BODY} bytes` }));
    let parsed: unknown;
    if (body.length) {
      try {
        parsed = JSON.parse(body.toString('utf8'));
      } catch {
        return send(res, state, json(400, { error: 'the body is not JSON' }));
      }
    }
    done(parsed);
  });
}

function send(res: HttpResponse, state: RequestState, reply: Reply): void {
  const headers: HeaderList = [...SECURITY_HEADERS, ['Cache-Control', 'no-store'], ...(reply.headers ?? [])];
  sendResponse(res, state, { ...reply, headers });
}

function text(status: number, body: string): Reply {
  return { status, headers: [['Content-Type', TEXT]], body };
}

function json(status: number, value: unknown): Reply {
  return { status, headers: [['Content-Type', JSON_TYPE]], body: JSON.stringify(value) };
}
