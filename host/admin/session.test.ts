import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createAdminSessions, LOGIN_TTL_MS, readCookie, SESSION_IDLE_MS, sessionCookie, sessionCookieName, type AdminSession } from './session.ts';

function clock() {
  let t = 1_000_000;
  return { now: () => t, advance: (ms: number) => void (t += ms) };
}

/** The same text with its last character changed. */
const flip = (s: string) => `${s.slice(0, -1)}${s.endsWith('A') ? 'B' : 'A'}`;

function signIn(sessions: ReturnType<typeof createAdminSessions>): AdminSession {
  const result = sessions.login(sessions.newLoginSecret().secret);
  assert.equal(result.ok, true, JSON.stringify(result));
  return (result as { session: AdminSession }).session;
}

test('no cookie, or a cookie this host never gave, is not signed in, and says how to sign in', () => {
  const sessions = createAdminSessions();
  assert.match(sessions.whyNotSignedIn(undefined, '')!, /^not signed in: open the link `npm start -- admin` prints/);
  assert.match(sessions.whyNotSignedIn('', '')!, /^not signed in/);
  assert.match(sessions.whyNotSignedIn('x'.repeat(43), 'y'.repeat(43))!, /session has ended \(the host restarted, or it was idle for 12 h\): open the link/);
});

test('a login secret gives a session whose cookie and key work together, again and again', () => {
  const sessions = createAdminSessions();
  const { secret, expiresAt } = sessions.newLoginSecret();
  assert.match(secret, /^[A-Za-z0-9_-]{43}$/);
  assert.ok(expiresAt > Date.now());
  const result = sessions.login(secret);
  assert.equal(result.ok, true);
  const { cookie, key } = (result as { session: AdminSession }).session;
  assert.notEqual(cookie, key);
  assert.notEqual(cookie, secret);
  assert.equal(sessions.whyNotSignedIn(cookie, key), undefined);
  assert.equal(sessions.whyNotSignedIn(cookie, key), undefined);
  assert.match(sessions.whyNotSignedIn(cookie, '')!, /x-openwork-admin-key header the page sends\) is missing or wrong/);
  assert.match(sessions.whyNotSignedIn(cookie, flip(key))!, /missing or wrong/);
  assert.match(sessions.whyNotSignedIn(key, cookie)!, /session has ended/, 'cookie and key are not interchangeable');
  const other = signIn(sessions);
  assert.match(sessions.whyNotSignedIn(cookie, other.key)!, /missing or wrong/, 'a key works only with its own cookie');
  assert.equal(sessions.whyNotSignedIn(other.cookie, other.key), undefined);
});

test('a wrong, reused or expired login secret is refused with its reason', () => {
  const time = clock();
  const sessions = createAdminSessions({ now: time.now });
  const refused = (secret: unknown, reason: RegExp) => {
    const r = sessions.login(secret);
    assert.equal(r.ok, false, String(secret));
    assert.match((r as { reason: string }).reason, reason);
  };
  const { secret } = sessions.newLoginSecret();
  refused(flip(secret), /^this login link is not from the running host \(a restart makes earlier links useless\): open the link `npm start -- admin` prints/);
  refused('', /not from the running host/);
  refused(undefined, /not from the running host/);
  refused({ secret }, /not from the running host/);
  refused(secret.slice(0, 10), /not from the running host/);

  assert.equal(sessions.login(secret).ok, true, 'a wrong guess does not spend the real secret');
  refused(secret, /^this login link was already used \(each works once\)/);

  const late = sessions.newLoginSecret();
  time.advance(LOGIN_TTL_MS + 1);
  refused(late.secret, /^this login link has expired \(each works for 10 minutes\)/);
  refused(late.secret, /expired/);
});

test('a secret just inside its ten minutes still works', () => {
  const time = clock();
  const sessions = createAdminSessions({ now: time.now });
  const { secret } = sessions.newLoginSecret();
  time.advance(LOGIN_TTL_MS);
  assert.equal(sessions.login(secret).ok, true);
});

test('a session ends after 12 h without use; using it keeps it alive', () => {
  const time = clock();
  const sessions = createAdminSessions({ now: time.now });
  const used = signIn(sessions);
  const idle = signIn(sessions);
  for (let i = 0; i < 3; i++) {
    time.advance(SESSION_IDLE_MS / 2);
    assert.equal(sessions.whyNotSignedIn(used.cookie, used.key), undefined, `still in use after ${i + 1} half-days`);
  }
  assert.match(sessions.whyNotSignedIn(idle.cookie, idle.key)!, /^this admin session has ended after 12 h without use: open the link/);
  assert.match(sessions.whyNotSignedIn(idle.cookie, idle.key)!, /session has ended/, 'and stays ended');
});

test('a session or login secret from another host start does not work here', () => {
  const before = createAdminSessions();
  const session = signIn(before);
  const unused = before.newLoginSecret().secret;
  const restarted = createAdminSessions();
  assert.match(restarted.whyNotSignedIn(session.cookie, session.key)!, /session has ended \(the host restarted/);
  assert.equal(restarted.login(unused).ok, false);
  assert.equal(before.whyNotSignedIn(session.cookie, session.key), undefined, 'while it still works where it came from');
});

test('the cookie is HttpOnly, SameSite=Strict, for /admin only, named per port; and is found among others', () => {
  assert.equal(sessionCookieName(8787), 'openwork_admin_8787');
  assert.notEqual(sessionCookieName(8787), sessionCookieName(8788));
  const header = sessionCookie('openwork_admin_8787', 'abc');
  assert.equal(header, 'openwork_admin_8787=abc; HttpOnly; SameSite=Strict; Path=/admin');
  assert.equal(readCookie('a=1; openwork_admin_8787=abc; openwork_admin_8788=def', 'openwork_admin_8787'), 'abc');
  assert.equal(readCookie('openwork_admin_87870=x; openwork_admin_8788=def', 'openwork_admin_8787'), undefined);
  assert.equal(readCookie('', 'openwork_admin_8787'), undefined);
  assert.equal(readCookie('=x; openwork_admin_8787', 'openwork_admin_8787'), undefined);
});
