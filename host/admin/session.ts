/**
 * Proof that whoever uses the admin page is the person running the host, not another user of
 * this computer: every local account can reach 127.0.0.1, but only this OS user can read what
 * the host prints to its terminal or `<data-dir>/control.json` (mode 0600), through which
 * `npm start -- admin` asks the running host for a link.
 *
 * - A **login secret** travels in that link's fragment (`/admin#login=…`, never sent to the
 *   server, kept out of logs and of `Referer`). It works once, for a few minutes, so a link
 *   left in a terminal's scrollback or a service log is worthless soon after.
 * - The page trades it for a **session**: a random cookie (HttpOnly: the page's own script never
 *   holds it) plus a random key the page keeps in its origin's `localStorage` and sends as a
 *   header. The key is needed because browsers send a cookie for 127.0.0.1 to *every* port of
 *   127.0.0.1: a server another user runs on a port of their own would receive the cookie if
 *   the person ever opened it, but never the key (storage is per origin, and an origin includes
 *   the port).
 * - Sessions live in this process only, so a restart ends them; they end after hours without use.
 *
 * Secrets are compared with `timingSafeEqual`, over short lists (older entries are dropped).
 * @module
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';

/** How long a login link works. */
export const LOGIN_TTL_MS = 10 * 60_000;
/** A session unused this long ends. */
export const SESSION_IDLE_MS = 12 * 3600_000;
/** The header that carries the session's key (the cookie carries the rest). */
export const SESSION_KEY_HEADER = 'x-openwork-admin-key';
/** Kept so that an expired or reused link can say so; a few minutes' worth is plenty. */
const MAX_LOGIN_SECRETS = 32;
const MAX_SESSIONS = 32;

export interface AdminSession {
  /** The cookie's value. */
  cookie: string;
  /** The value of the X-OpenWork-Admin-Key header. */
  key: string;
}

export type LoginResult = { ok: true; session: AdminSession } | { ok: false; reason: string };

export interface AdminSessions {
  /** A fresh single-use login secret. */
  newLoginSecret(): { secret: string; expiresAt: number };
  /** Trades a login secret for a new session; a secret works once. */
  login(secret: unknown): LoginResult;
  /** Why a request with this cookie and key is not signed in; undefined when it is (which counts as use). */
  whyNotSignedIn(cookie: string | undefined, key: string): string | undefined;
}

export interface SessionOptions {
  now?: () => number;
  loginTtlMs?: number;
  idleMs?: number;
}

const HOW_TO_LOG_IN = 'open the link `npm start -- admin` prints (in a terminal on this computer)';

export function createAdminSessions(opts: SessionOptions = {}): AdminSessions {
  const now = opts.now ?? Date.now;
  const loginTtlMs = opts.loginTtlMs ?? LOGIN_TTL_MS;
  const idleMs = opts.idleMs ?? SESSION_IDLE_MS;
  const secrets: Array<{ secret: Buffer; expiresAt: number; used: boolean }> = [];
  const sessions: Array<{ cookie: Buffer; key: Buffer; lastUsed: number }> = [];

  return {
    newLoginSecret() {
      const secret = random();
      const expiresAt = now() + loginTtlMs;
      secrets.push({ secret: Buffer.from(secret), expiresAt, used: false });
      if (secrets.length > MAX_LOGIN_SECRETS) secrets.shift();
      return { secret, expiresAt };
    },

    login(secret) {
      const entry = typeof secret === 'string' ? secrets.find((s) => same(s.secret, secret)) : undefined;
      if (!entry) return { ok: false, reason: `this login link is not from the running host (a restart makes earlier links useless): ${HOW_TO_LOG_IN}` };
      if (now() > entry.expiresAt) return { ok: false, reason: `this login link has expired (each works for ${Math.round(loginTtlMs / 60_000)} minutes): ${HOW_TO_LOG_IN}` };
      if (entry.used) return { ok: false, reason: `this login link was already used (each works once): ${HOW_TO_LOG_IN}` };
      entry.used = true;
      const session = { cookie: random(), key: random() };
      sessions.push({ cookie: Buffer.from(session.cookie), key: Buffer.from(session.key), lastUsed: now() });
      if (sessions.length > MAX_SESSIONS) sessions.shift();
      return { ok: true, session };
    },

    whyNotSignedIn(cookie, key) {
      if (!cookie) return `not signed in: ${HOW_TO_LOG_IN}`;
      const at = sessions.findIndex((s) => same(s.cookie, cookie));
      if (at < 0) return `this admin session has ended (the host restarted, or it was idle for ${Math.round(idleMs / 3600_000)} h): ${HOW_TO_LOG_IN}`;
      const session = sessions[at]!;
      if (now() - session.lastUsed > idleMs) {
        sessions.splice(at, 1);
        return `this admin session has ended after ${Math.round(idleMs / 3600_000)} h without use: ${HOW_TO_LOG_IN}`;
      }
      if (!same(session.key, key)) return `the admin session key (the ${SESSION_KEY_HEADER} header the page sends) is missing or wrong: ${HOW_TO_LOG_IN}`;
      session.lastUsed = now();
      return undefined;
    },
  };
}

function random(): string {
  return randomBytes(32).toString('base64url');
}

function same(expected: Buffer, given: string): boolean {
  const b = Buffer.from(given);
  // The length is no secret: every secret here is 43 characters.
  return b.length === expected.length && timingSafeEqual(b, expected);
}

/** The session cookie's name: cookies ignore ports, so two hosts on one computer need two names. */
export function sessionCookieName(port: number): string {
  return `openwork_admin_${port}`;
}

/** A `Set-Cookie` value: only HTTP sees it, only same-site requests carry it, only /admin gets it. */
export function sessionCookie(name: string, value: string): string {
  return `${name}=${value}; HttpOnly; SameSite=Strict; Path=/admin`;
}

/** The value of cookie `name` in a `Cookie` header, or undefined. */
export function readCookie(header: string, name: string): string | undefined {
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}
