/**
 * The host's local admin page end to end: the real host (host/app.ts) with the real runtime,
 * requests from this machine, from a non-loopback address (inside a private network namespace),
 * from a web page on another origin, without signing in, and the page itself in Chromium, signed
 * in through the link `npm start -- admin` prints, approving a Node device.
 */
import { after, before, describe, it, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createServer } from 'node:http';
import { request, type IncomingHttpHeaders } from 'node:http';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { generateKeyPair } from '../shared/noise/primitives.ts';
import { parsePairLink } from '../shared/pairing/link.ts';
import { connect, offerFromLink, pair } from '../shared/channel/client.ts';
import { startHost, type Host } from '../host/app.ts';
import type { AdminState } from '../host/admin/api.ts';
import { parseConfig } from '../host/config.ts';
import { CONTENT_SECURITY_POLICY } from '../host/server/headers.ts';
import { launchChromium, screenshot } from './browser.ts';
import { openSocket } from '../test-support/relay-client.ts';
import { createRuntimeSandbox, testLogger, type RuntimeSandbox } from './fixtures/runtime.ts';
import { createNetns, netnsUnavailable, type Netns } from '../test-support/netns.ts';
import { fileCleanup } from './fixtures/cleanup.ts';
import { until } from './fixtures/poll.ts';

const TEST = { timeout: 120_000 };
const { cleanups, tempDir } = fileCleanup('relay-admin-');

let sandbox: Promise<RuntimeSandbox> | undefined;
function sandboxFor(): Promise<RuntimeSandbox> {
  sandbox ??= createRuntimeSandbox().then((sb) => (cleanups.push(() => sb.dispose()), sb));
  return sandbox;
}

let shared: Promise<Host> | undefined;
let dataDir = '';
/** One real host for the file: the tests below do not disturb each other. */
function host(): Promise<Host> {
  shared ??= (async () => {
    const sb = await sandboxFor();
    dataDir = tempDir();
    const parsed = parseConfig(['--port', '0', '--bind', '127.0.0.1', '--workspace', sb.workspace, '--data-dir', dataDir], {});
    if (!parsed.ok) throw new Error(parsed.errors.join('\n'));
    const h = await startHost({ config: parsed.config, log: testLogger(), runtimeEnv: sb.env });
    cleanups.push(() => h.close());
    await h.runtime.ready;
    return h;
  })();
  return shared;
}

interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/** A request from this machine with exactly the headers given (Host included). */
function http(port: number, method: string, path: string, headers: Record<string, string> = {}, body?: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path, agent: false, headers: { host: `127.0.0.1:${port}`, ...headers } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
    });
    req.on('error', reject).end(body);
  });
}

const ADMIN = { 'x-openwork-admin': '1' };

/** The secret in a login link's fragment. */
const secretOf = (link: string) => new URLSearchParams(new URL(link).hash.slice(1)).get('login')!;

/** Signs in with a fresh link, as the banner prints it: the headers a signed-in page sends. */
async function signIn(h: Host): Promise<Record<string, string>> {
  const r = await http(h.port, 'POST', '/admin/api/login', ADMIN, JSON.stringify({ secret: secretOf(h.newAdminLink()!.url) }));
  assert.equal(r.status, 200, r.body);
  const cookie = r.headers['set-cookie']![0]!;
  assert.match(cookie, new RegExp(`^openwork_admin_${h.port}=[\\w-]{43}; HttpOnly; SameSite=Strict; Path=/admin$`));
  return { ...ADMIN, cookie: cookie.split(';')[0]!, 'x-openwork-admin-key': (JSON.parse(r.body) as { key: string }).key };
}

let session: Promise<Record<string, string>> | undefined;
/** One signed-in session for the API tests. */
function signedIn(h: Host): Promise<Record<string, string>> {
  return (session ??= signIn(h));
}

async function adminState(h: Host): Promise<AdminState> {
  const r = await http(h.port, 'GET', '/admin/api/state', await signedIn(h));
  assert.equal(r.status, 200, r.body);
  return JSON.parse(r.body) as AdminState;
}

/** `npm start -- admin` for the test host's data directory, as the person runs it. */
async function adminCommand(): Promise<{ stdout: string; link: string }> {
  const main = fileURLToPath(new URL('../host/main.ts', import.meta.url));
  const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', main, 'admin', '--data-dir', dataDir], {
    cwd: fileURLToPath(new URL('..', import.meta.url)),
    timeout: 60_000,
  });
  return { stdout, link: /(http:\/\/\S+#login=\S+)/.exec(stdout)?.[1] ?? '' };
}

const unavailable = netnsUnavailable();
describe('from a non-loopback address (inside a private network namespace)', { skip: unavailable, timeout: 60_000 }, () => {
  let ns: Netns | undefined;
  before(() => (ns = createNetns('admin')));
  after(() => ns?.remove());
  it('the page, its script and its API are refused with 403, while loopback in the same namespace is served', () => {
    const r = ns!.runNode(fileURLToPath(new URL('./fixtures/admin-route-child.ts', import.meta.url)), [], 30_000);
    assert.equal(r.status, 0, r.stderr);
    const { result, apiCalls } = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { result: Record<string, Answer>; apiCalls: number };
    assert.equal(result['lan login']!.status, 403, 'a valid login secret does not help from elsewhere');
    assert.match(result['lan login']!.body, /does not come from this machine/);
    for (const what of ['page', 'script', 'state', 'offer']) {
      assert.equal(result[`loopback ${what}`]!.status, 200, `loopback ${what}`);
      assert.equal(result[`lan ${what}`]!.status, 403, `lan ${what}`);
      assert.match(result[`lan ${what}`]!.body, /does not come from this machine/);
    }
    assert.match(result['loopback page']!.body, /<title>OpenWork Relay · admin<\/title>/);
    assert.doesNotMatch(result['lan page']!.body, /<title>/);
    assert.equal(apiCalls, 2, 'only the two loopback API requests reached the API');
  });
});

test('the page is served with the strict CSP; the API refuses a missing header, another origin, a proxy and another name', TEST, async () => {
  const h = await host();
  assert.equal(h.adminUrl, `http://127.0.0.1:${h.port}/admin`, 'where the links the banner and `npm start -- admin` print lead');
  const page = await http(h.port, 'GET', '/admin');
  assert.equal(page.status, 200);
  assert.equal(page.headers['content-security-policy'], CONTENT_SECURITY_POLICY);
  assert.equal(page.headers['x-frame-options'], 'DENY');
  assert.doesNotMatch(page.body, /<script(?![^>]*\ssrc=)/, 'no inline script');
  assert.doesNotMatch(page.body, /\sstyle=/, 'no inline style');
  for (const asset of ['/admin/admin.js', '/admin/admin.css']) assert.equal((await http(h.port, 'GET', asset)).status, 200, asset);
  assert.equal((await http(h.port, 'GET', '/admin/nothing')).status, 404);

  const offersBefore = h.relay.offers.active().length;
  // Each refused even with a good session: signing in adds a check, it replaces none.
  const good = await signedIn(h);
  const refused: Array<[string, Record<string, string>, RegExp]> = [
    ['no header', { ...good, 'x-openwork-admin': '' }, /needs the X-OpenWork-Admin: 1 header/],
    ['another origin', { ...good, origin: 'https://evil.example' }, /requests from https:\/\/evil\.example may not use the admin API/],
    ['another loopback port', { ...good, origin: 'http://127.0.0.1:1' }, /may not use the admin API/],
    ['a cross-site fetch', { ...good, 'sec-fetch-site': 'cross-site' }, /cross-site request may not use/],
    ['a proxy', { ...good, 'x-forwarded-for': '203.0.113.9' }, /forwarded by a proxy or tunnel/],
    ['a tunnel naming the outside host', { ...good, 'x-forwarded-host': 'tunnel.example' }, /forwarded by a proxy or tunnel/],
    ['another name (DNS rebinding)', { ...good, host: `rebind.example:${h.port}`, origin: `http://rebind.example:${h.port}` }, /does not name this machine/],
  ];
  assert.equal((await http(h.port, 'GET', '/admin/', { 'x-forwarded-host': 'tunnel.example' })).status, 403, 'the page itself refuses a tunnel too');
  for (const [what, headers, reason] of refused) {
    for (const [method, path] of [
      ['POST', '/admin/api/offer'],
      ['GET', '/admin/api/state'],
    ] as const) {
      const r = await http(h.port, method, path, headers);
      assert.equal(r.status, 403, `${what}: ${method} ${path}`);
      assert.match(JSON.parse(r.body).error, reason, what);
    }
  }
  // A browser's preflight carries no custom header, so it is refused and the real request never follows.
  const preflight = await http(h.port, 'OPTIONS', '/admin/api/offer', {
    origin: 'https://evil.example',
    'access-control-request-method': 'POST',
    'access-control-request-headers': 'x-openwork-admin',
  });
  assert.equal(preflight.status, 403);
  assert.equal(preflight.headers['access-control-allow-origin'], undefined);
  assert.equal(h.relay.offers.active().length, offersBefore, 'no refused request made an offer');

  const same = await http(h.port, 'POST', '/admin/api/offer', { ...good, origin: `http://127.0.0.1:${h.port}`, 'sec-fetch-site': 'same-origin' });
  assert.equal(same.status, 200, same.body);
  assert.equal(h.relay.offers.active().length, offersBefore + 1);
});

test('the API answers only a session signed in with a link the host printed; each link works once', TEST, async () => {
  const h = await host();
  const offersBefore = h.relay.offers.active().length;
  const good = await signedIn(h);
  const refused: Array<[string, Record<string, string>, RegExp]> = [
    ['no cookie', ADMIN, /^not signed in: open the link `npm start -- admin` prints/],
    ['no cookie, with the key', { ...ADMIN, 'x-openwork-admin-key': good['x-openwork-admin-key']! }, /^not signed in/],
    ['the cookie without the key', { ...ADMIN, cookie: good.cookie! }, /session key .* is missing or wrong/],
    ['a made-up cookie', { ...good, cookie: `openwork_admin_${h.port}=${'A'.repeat(43)}` }, /session has ended \(the host restarted/],
    ["another port's cookie", { ...good, cookie: good.cookie!.replace(`_${h.port}=`, `_${h.port + 1}=`) }, /^not signed in/],
  ];
  assert.equal((await http(h.port, 'GET', '/admin/', { 'x-forwarded-host': 'tunnel.example' })).status, 403, 'the page itself refuses a tunnel too');
  for (const [what, headers, reason] of refused) {
    for (const [method, path] of [
      ['POST', '/admin/api/offer'],
      ['GET', '/admin/api/state'],
    ] as const) {
      const r = await http(h.port, method, path, headers);
      assert.equal(r.status, 401, `${what}: ${method} ${path}`);
      assert.match(JSON.parse(r.body).error, reason, what);
    }
  }
  assert.equal(h.relay.offers.active().length, offersBefore, 'no refused request made an offer');

  const link = h.newAdminLink()!;
  assert.equal(link.url.startsWith(`${h.adminUrl}#login=`), true, link.url);
  const login = (secret: string) => http(h.port, 'POST', '/admin/api/login', ADMIN, JSON.stringify({ secret }));
  const wrong = await login(secretOf(link.url).replace(/.$/, (c) => (c === 'A' ? 'B' : 'A')));
  assert.equal(wrong.status, 401);
  assert.match(JSON.parse(wrong.body).error, /not from the running host/);
  assert.equal(wrong.headers['set-cookie'], undefined);
  assert.equal((await login(secretOf(link.url))).status, 200);
  const again = await login(secretOf(link.url));
  assert.equal(again.status, 401);
  assert.match(JSON.parse(again.body).error, /already used/);
  // Signing in still needs this page's header and origin, like every API call.
  const forged = await http(h.port, 'POST', '/admin/api/login', { origin: 'https://evil.example' }, JSON.stringify({ secret: secretOf(h.newAdminLink()!.url) }));
  assert.equal(forged.status, 403);
  assert.equal((await http(h.port, 'GET', '/admin/api/login', ADMIN)).status, 405);
});

test('approving a pending pairing through the admin API pairs the device with the chosen scopes; changing them there reaches its connection', TEST, async () => {
  const h = await host();
  const made = await http(h.port, 'POST', '/admin/api/offer', await signedIn(h));
  const offer = JSON.parse(made.body) as { link: string; code: string; svg: string };
  assert.match(offer.svg, /^<svg /);
  const deviceKey = generateKeyPair();
  const pending = await pair({
    socket: await openSocket(`ws://127.0.0.1:${h.port}/relay`),
    offer: offerFromLink(parsePairLink(offer.link)),
    deviceKey,
    name: 'API phone',
    platform: 'node-test',
  });
  const request = await until('the pairing request', async () => (await adminState(h)).pending.find((p) => p.name === 'API phone'));
  assert.equal(request.code, pending.code, 'the admin page shows the code the phone shows');
  const approved = await http(h.port, 'POST', `/admin/api/approvals/${request.id}`, await signedIn(h), JSON.stringify({ decision: 'approve', scopes: ['read'] }));
  assert.equal(approved.status, 200, approved.body);
  const channel = await pending.approved;
  assert.deepEqual(channel.welcome.scopes, ['read']);
  const state = await adminState(h);
  assert.deepEqual(state.pending, []);
  const device = state.devices.find((d) => d.id === channel.welcome.deviceId);
  assert.deepEqual(device?.scopes, ['read']);
  assert.equal(state.runtime.state, 'ready');
  assert.ok(Array.isArray((await channel.request({ t: 'sessions.list' })).sessions), 'the device works with its read scope');
  const again = await http(h.port, 'POST', `/admin/api/approvals/${request.id}`, await signedIn(h), JSON.stringify({ decision: 'approve' }));
  assert.equal(again.status, 404, 'a decided request is no longer waiting');
  const opened = state.metrics.counters.connections_opened_total.total;
  assert.ok(opened >= 1, 'the page counts the connection');

  // More scopes on the page: the open connection closes so the app reconnects with them.
  const changed = await http(h.port, 'POST', `/admin/api/devices/${channel.welcome.deviceId}`, await signedIn(h), JSON.stringify({ scopes: ['read', 'run'] }));
  assert.equal(changed.status, 200, changed.body);
  const closed = await channel.closed;
  assert.deepEqual([closed.code, closed.closeCode], ['device.access-changed', 4205]);
  const reconnected = await connect({
    socket: await openSocket(`ws://127.0.0.1:${h.port}/relay`),
    hostKey: h.relay.identity.publicKey,
    deviceKey,
    name: 'API phone',
    platform: 'node-test',
  });
  cleanups.push(() => reconnected.close());
  assert.deepEqual(reconnected.welcome.scopes, ['read', 'run']);
  const counters = (await adminState(h)).metrics.counters;
  assert.ok(counters.connections_opened_total.total > opened);
  assert.ok(counters.reconnects_total.total >= 1, 'the page counts the reconnect');
  reconnected.close();
});

test('in Chromium: signed out the page explains how to sign in; the link `npm start -- admin` prints signs in; the page shows the request; Approve (by role and name) pairs it; another origin cannot use the API', {
  timeout: 180_000,
}, async () => {
  const h = await host();
  const browser = await launchChromium();
  cleanups.push(() => browser.close());
  const context = await browser.newContext();
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('console', (m) => void (m.type() === 'error' && !/401 \(Unauthorized\)/.test(m.text()) && problems.push(m.text())));
  page.on('pageerror', (e) => problems.push(e.message));

  // Not signed in: an explanation, no data, and the API refuses the page's own calls.
  await page.goto(`http://127.0.0.1:${h.port}/admin`);
  const signin = page.getByRole('region', { name: 'Sign in to the admin page' });
  await signin.locator('code', { hasText: 'npm start -- admin' }).waitFor();
  await signin.getByText(/^Why: not signed in/).waitFor();
  assert.equal(await page.getByRole('region', { name: 'Pair a phone' }).count(), 0, 'no data without signing in');
  assert.equal(await page.getByRole('img', { name: /Pairing QR code/ }).count(), 0);
  assert.equal(await page.evaluate(() => fetch('/admin/api/state', { headers: { 'X-OpenWork-Admin': '1' } }).then((r) => r.status)), 401);
  await screenshot(page, 'admin-signin');

  // The link the command prints, opened in the tab that explained it.
  const cli = await adminCommand();
  assert.match(cli.stdout, /^Open this link in a browser on this computer to use the admin page \(it works once, until /);
  assert.ok(cli.link.startsWith(`http://127.0.0.1:${h.port}/admin#login=`), cli.stdout);
  await page.goto(cli.link);
  await page.getByRole('img', { name: /Pairing QR code/ }).waitFor();
  assert.equal(await signin.count(), 0, 'the explanation is gone');
  assert.equal(new URL(page.url()).hash, '', 'the spent secret left the address bar');
  assert.equal(await page.evaluate(() => document.cookie), '', 'the session cookie is HttpOnly');
  const cookies = await context.cookies(`http://127.0.0.1:${h.port}/admin`);
  assert.deepEqual(
    cookies.map((c) => [c.name, c.httpOnly, c.sameSite, c.path]),
    [[`openwork_admin_${h.port}`, true, 'Strict', '/admin']],
  );

  const shown = (await page.getByText(/^[0-9A-Z]{4}(-[0-9A-Z]{4}){4}$/).textContent())!;
  const live = h.relay.offers.active();
  assert.equal(
    live.some((o) => h.relay.offers.typedCode(o) === shown),
    true,
    'the page shows a live offer',
  );
  const link = (await page.locator('.link code').textContent())!;

  const pending = await pair({
    socket: await openSocket(`ws://127.0.0.1:${h.port}/relay`),
    offer: offerFromLink(parsePairLink(link)),
    // A platform built to mislead: a bidi override and markup. The page shows it escaped, as text.
    deviceKey: generateKeyPair(),
    name: 'Browser-approved phone',
    platform: 'node-test\u202e<img src=x onerror=alert(1)>',
  });
  const waiting = page.getByRole('region', { name: 'Waiting for approval' });
  await waiting.getByRole('heading', { name: 'Browser-approved phone' }).waitFor();
  await waiting.getByText('node-test\\u202e<img src=x onerror=alert(1)> at ', { exact: false }).waitFor();
  assert.equal(await waiting.locator('img').count(), 0, 'the platform is text, not markup');
  await waiting.getByText(`${pending.code.slice(0, 3)} ${pending.code.slice(3)}`).waitFor();
  await waiting.getByRole('checkbox', { name: /answer permission questions/ }).uncheck();
  await waiting.getByRole('button', { name: 'Approve Browser-approved phone' }).click();
  const channel = await pending.approved;
  assert.deepEqual(channel.welcome.scopes, ['read', 'run']);
  await waiting.getByText('No device is waiting.').waitFor();
  await page.getByRole('button', { name: 'Remove Browser-approved phone' }).waitFor();
  assert.deepEqual(problems, [], 'no script errors and no CSP violations');
  await page.setViewportSize({ width: 1000, height: 2200 });
  await screenshot(page, 'admin-page');

  // Another tab of this browser is signed in too; the spent link signs in no other browser.
  const second = await context.newPage();
  await second.goto(`http://127.0.0.1:${h.port}/admin`);
  await second.getByRole('region', { name: 'Paired devices' }).getByRole('heading', { name: 'Browser-approved phone' }).waitFor();
  await second.close();
  const stranger = await browser.newPage();
  await stranger.goto(cli.link);
  await stranger
    .getByRole('region', { name: 'Sign in to the admin page' })
    .getByText(/^Why: this login link was already used/)
    .waitFor();
  assert.equal(await stranger.getByRole('region', { name: 'Paired devices' }).count(), 0);
  await stranger.close();

  // A page on another origin (another port is another origin, but the same site: it gets the
  // session cookie, never the key) of this signed-in browser tries both ways in.
  const other = createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>elsewhere</title>'));
  await new Promise<void>((r) => other.listen(0, '127.0.0.1', r));
  cleanups.push(() => new Promise((r) => other.close(r)));
  const elsewhere = await context.newPage();
  await elsewhere.goto(`http://127.0.0.1:${(other.address() as { port: number }).port}/`);
  const offersBefore = h.relay.offers.active().length;
  const outcome = await elsewhere.evaluate(async (admin) => {
    const withHeader = await fetch(`${admin}/admin/api/offer`, { method: 'POST', headers: { 'X-OpenWork-Admin': '1' } }).then(
      (r) => `answered ${r.status}`,
      () => 'blocked',
    );
    // What a form post can do: no custom header, no way to read the answer.
    const blind = await fetch(`${admin}/admin/api/offer`, { method: 'POST', mode: 'no-cors', body: '{}' }).then((r) => r.type);
    const read = await fetch(`${admin}/admin/api/state`).then(
      (r) => `answered ${r.status}`,
      () => 'blocked',
    );
    return { withHeader, blind, read };
  }, `http://127.0.0.1:${h.port}`);
  assert.deepEqual(outcome, { withHeader: 'blocked', blind: 'opaque', read: 'blocked' });
  assert.equal(h.relay.offers.active().length, offersBefore, 'the other origin made no offer');
  channel.close();
});
