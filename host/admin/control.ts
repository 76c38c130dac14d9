/**
 * How a command run in another terminal (`npm start -- pair`, `npm start -- admin`) reaches the
 * running host: the host writes `<data-dir>/control.json` (mode 0600: only this user can read its
 * token) with its port, and answers `POST /control/offer` and `POST /control/admin-link` only
 * from this machine and only with that token. The token keeps out web pages (a page cannot read
 * the file, so it cannot forge the header) and other users of this computer (they cannot either).
 * @module
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { join } from 'node:path';
import type { HttpRequest, HttpResponse, TemplatedApp } from '@trufflesuite/uws-js-unofficial';
import { writeFileAtomic } from '../files.ts';
import type { Logger } from '../log.ts';
import { whyNotLocal } from '../metrics/loopback.ts';
import { SECURITY_HEADERS } from '../server/headers.ts';
import { sendJson, track } from '../uws/respond.ts';
import type { OfferView } from '../pairing/offers.ts';

export const CONTROL_FILE = 'control.json';
export const OFFER_PATH = '/control/offer';
export const ADMIN_LINK_PATH = '/control/admin-link';
export const COMPUTER_PATH = '/control/computer';

export interface ControlInfo {
  pid: number;
  /** The URL this machine reaches the host at (loopback, or the bind address). */
  url: string;
  token: string;
}

export function newControlToken(): string {
  return randomBytes(32).toString('base64url');
}

/** Writes the control file atomically; `remove()` deletes it unless another host replaced it. */
export function writeControlFile(dataDir: string, info: ControlInfo): { remove(): void } {
  const path = join(dataDir, CONTROL_FILE);
  writeFileAtomic(path, JSON.stringify(info), { mode: 0o600 });
  return {
    remove() {
      if (readControlFile(dataDir)?.token === info.token) rmSync(path, { force: true });
    },
  };
}

export function readControlFile(dataDir: string): ControlInfo | undefined {
  try {
    const v = JSON.parse(readFileSync(join(dataDir, CONTROL_FILE), 'utf8')) as Partial<ControlInfo>;
    if (typeof v.pid === 'number' && typeof v.url === 'string' && typeof v.token === 'string') return v as ControlInfo;
  } catch {
    // Missing or half-written: no host to talk to.
  }
  return undefined;
}

export interface AdminLinkReply {
  /** The admin page with a single-use login secret in its fragment. */
  url: string;
  expiresAt: number;
}

export interface ControlRouteOptions {
  token: string;
  newOffer: () => OfferView;
  /** Undefined when the admin page cannot be used (the host does not listen on loopback). */
  newAdminLink: () => AdminLinkReply | undefined;
  /** A credential for OpenCode's own clients on another computer (host/compat/), or why not. */
  newComputer: (name: string) => Made;
  log: Logger;
}

const NO_ADMIN_PAGE = 'this host does not listen on loopback, so its admin page cannot be opened; start it with --bind 0.0.0.0 (the default) or --bind 127.0.0.1';

export function mountControlRoutes(app: TemplatedApp, opts: ControlRouteOptions): void {
  controlRoute(app, OFFER_PATH, opts, 'a pairing offer', () => ({ value: opts.newOffer() }));
  controlRoute(app, ADMIN_LINK_PATH, opts, 'an admin link', () => {
    const link = opts.newAdminLink();
    return link ? { value: link } : { status: 409, error: NO_ADMIN_PAGE };
  });
  controlRoute(app, COMPUTER_PATH, opts, "a computer's credential", (query) => opts.newComputer(query.get('name') ?? ''));
}

export type Made = { value: object } | { status: number; error: string };

/** `POST path` for the token's holder on this machine: `make()`'s value as JSON, or its refusal. */
function controlRoute(app: TemplatedApp, path: string, opts: ControlRouteOptions, what: string, make: (query: URLSearchParams) => Made): void {
  const expected = Buffer.from(`Bearer ${opts.token}`);
  app.post(path, (res: HttpResponse, req: HttpRequest) => {
    const state = track(res);
    const auth = Buffer.from(req.getHeader('authorization'));
    const query = new URLSearchParams(req.getQuery() ?? '');
    const refusal = whyNotLocal({
      remoteAddress: Buffer.from(res.getRemoteAddressAsText()).toString(),
      host: req.getHeader('host'),
      forwarded: ['forwarded', 'x-forwarded-for', 'x-real-ip'].some((h) => req.getHeader(h) !== ''),
    });
    const headers = [...SECURITY_HEADERS, ['Cache-Control', 'no-store']] as [string, string][];
    if (refusal) return void sendJson(res, state, 403, { error: refusal }, headers);
    if (auth.length !== expected.length || !timingSafeEqual(auth, expected)) {
      return void sendJson(res, state, 401, { error: 'missing or wrong control token' }, headers);
    }
    try {
      const reply = make(query);
      if ('value' in reply) sendJson(res, state, 200, reply.value, headers);
      else sendJson(res, state, reply.status, { error: reply.error }, headers);
    } catch (err) {
      opts.log.error(`could not make ${what}`, { err });
      sendJson(res, state, 500, { error: `could not make ${what}` }, headers);
    }
  });
}

/** Asks the running host for a fresh offer; undefined when no host is running for this data dir. */
export function requestOffer(dataDir: string): Promise<OfferView | undefined> {
  return askHost<OfferView>(dataDir, OFFER_PATH);
}

/** Asks the running host for a fresh admin login link; undefined when no host is running for this data dir. */
export function requestAdminLink(dataDir: string): Promise<AdminLinkReply | undefined> {
  return askHost<AdminLinkReply>(dataDir, ADMIN_LINK_PATH);
}

/** Asks the running host to make a computer's credential; undefined when no host is running for this data dir. */
export function requestComputer<T>(dataDir: string, name: string): Promise<T | undefined> {
  return askHost<T>(dataDir, `${COMPUTER_PATH}?${new URLSearchParams({ name })}`);
}

async function askHost<T>(dataDir: string, path: string): Promise<T | undefined> {
  const info = readControlFile(dataDir);
  if (!info || !isAlive(info.pid)) return undefined;
  const url = new URL(path, info.url);
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    // The host's certificate names its LAN names, not 127.0.0.1; the token authenticates instead.
    const req = send(url, { method: 'POST', headers: { authorization: `Bearer ${info.token}` }, timeout: 5000, rejectUnauthorized: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => {
        if (res.statusCode === 200) return resolve(JSON.parse(body) as T);
        let reason = body;
        try {
          reason = (JSON.parse(body) as { error?: string }).error ?? body;
        } catch {
          // Not JSON: show it as it is.
        }
        reject(new Error(`the running host refused (${res.statusCode}): ${reason}`));
      });
    });
    req.on('timeout', () => req.destroy(new Error('the running host did not answer within 5 s')));
    req.on('error', (err: NodeJS.ErrnoException) => (err.code === 'ECONNREFUSED' ? resolve(undefined) : reject(err)));
    req.end();
  });
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
