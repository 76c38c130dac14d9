import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '../log.ts';
import { openDeviceRegistry } from '../devices/registry.ts';
import { createMetrics } from '../metrics/metrics.ts';
import { createApprovals } from '../pairing/approvals.ts';
import { createOfferStore } from '../pairing/offers.ts';
import type { SessionsList } from '../../shared/protocol/sessions-list.ts';
import { makeComputerCredential } from '../compat/computers.ts';
import { createAdminApi, type AdminState } from './api.ts';
import type { AdminComputer } from './page/wire.ts';

function setup(t: { after(fn: () => void): void }) {
  const dir = mkdtempSync(join(tmpdir(), 'owr-admin-'));
  const devices = openDeviceRegistry({ dataDir: dir, log: silentLogger, watchIntervalMs: 20 });
  const approvals = createApprovals();
  const offers = createOfferStore({ hostKey: new Uint8Array(32).fill(7) });
  const metrics = createMetrics({ dataDir: dir, enabled: true, log: silentLogger });
  let sessions: SessionsList | Error = {
    sessions: [
      { id: 'ses_1', title: 'old', directory: '/w/a', time: { created: 1, updated: 10 } },
      { id: 'ses_2', title: '', directory: '/w/b', time: { created: 1, updated: 20 } },
    ],
    unavailable: [],
  };
  const api = createAdminApi({
    hostName: 'box',
    version: '1.0.0',
    urls: () => ['http://box.local:8787'],
    workspaces: ['/w/a', '/w/b'],
    approvals,
    devices,
    offers,
    newOffer() {
      const offer = offers.create();
      return { id: offer.id, expiresAt: offer.expiresAt, origin: 'http://box.local:8787', link: `http://box.local:8787/#pair=${offer.id}`, code: offers.typedCode(offer) };
    },
    runtimeStatus: () => ({ state: 'ready', version: '1.18.33' }),
    listSessions: async () => {
      if (sessions instanceof Error) throw sessions;
      return sessions;
    },
    metrics,
    permissionTimeoutSeconds: 300,
    log: silentLogger,
    newComputer: (name) => ({ value: makeComputerCredential(devices, name, ['http://box.local:8787']) }),
  });
  t.after(() => {
    approvals.close();
    offers.close();
    devices.close();
    metrics.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return { api, approvals, devices, offers, setSessions: (s: SessionsList | Error) => (sessions = s) };
}

const state = async (api: ReturnType<typeof setup>['api']) => {
  const r = await api.handle('get', 'state', undefined);
  assert.equal(r.status, 200);
  return r.body as AdminState;
};

test('state: host, runtime, no offer until asked, recent sessions newest first, metrics', async (t) => {
  const { api, setSessions } = setup(t);
  const s = await state(api);
  assert.deepEqual(s.host, { name: 'box', version: '1.0.0', urls: ['http://box.local:8787'], workspaces: ['/w/a', '/w/b'], permissionTimeoutSeconds: 300 });
  assert.deepEqual(s.runtime, { state: 'ready', version: '1.18.33' });
  assert.equal(s.offer, null);
  assert.deepEqual(
    s.sessions.map((x) => [x.id, x.title]),
    [
      ['ses_2', '(untitled)'],
      ['ses_1', 'old'],
    ],
  );
  assert.equal(s.metrics.enabled, true);
  assert.equal(s.sessionsUnavailable, undefined);
  setSessions({ sessions: [{ id: 'ses_3', title: 't', directory: '/w/a', time: { created: 1, updated: 5 } }], unavailable: [{ workspace: '/w/b', reason: 'broken' }] });
  const partial = await state(api);
  assert.deepEqual(
    partial.sessions.map((x) => x.id),
    ['ses_3'],
  );
  assert.deepEqual(partial.sessionsUnavailable, [{ workspace: '/w/b', reason: 'broken' }]);
  setSessions(new Error('list sessions failed: the runtime has not started yet'));
  assert.equal((await state(api)).sessionsError, 'list sessions failed: the runtime has not started yet');
});

test('offer: a QR code as SVG, gone once the offer is used', async (t) => {
  const { api, offers } = setup(t);
  const r = await api.handle('post', 'offer', undefined);
  assert.equal(r.status, 200);
  const offer = (await state(api)).offer!;
  assert.match(offer.svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
  assert.match(offer.link, /#pair=/);
  offers.claim(offers.active()[0]!.id);
  assert.equal((await state(api)).offer, null);
});

test('approve with chosen scopes, decline, and the answers for requests no longer waiting', async (t) => {
  const { api, approvals } = setup(t);
  const req = () => approvals.request({ name: 'Pixel', platform: 'Android', code: '123456', remoteAddress: '10.0.0.9', expiresAt: Date.now() + 60_000 });
  const a = req();
  assert.deepEqual(
    (await state(api)).pending.map((p) => p.name),
    ['Pixel'],
  );
  assert.equal((await api.handle('post', `approvals/${a.id}`, { decision: 'approve', scopes: ['bogus'] })).status, 400);
  assert.equal((await api.handle('post', `approvals/${a.id}`, { decision: 'maybe' })).status, 400);
  assert.equal((await api.handle('post', `approvals/${a.id}`, { decision: 'approve', scopes: ['read', 'approve'] })).status, 200);
  assert.deepEqual(await a.decision, { approved: true, scopes: ['read', 'approve'] });
  assert.equal((await api.handle('post', `approvals/${a.id}`, { decision: 'approve' })).status, 404);
  const b = req();
  assert.equal((await api.handle('post', `approvals/${b.id}`, { decision: 'decline' })).status, 200);
  assert.deepEqual(await b.decision, { approved: false, reason: 'declined' });
  const c = req();
  await api.handle('post', `approvals/${c.id}`, { decision: 'approve' });
  assert.deepEqual(await c.decision, { approved: true, scopes: ['read', 'run', 'approve'] }, 'all scopes by default');
});

test("change a device's scopes and workspaces, then remove it", async (t) => {
  const { api, devices } = setup(t);
  const d = devices.add({ name: 'Pixel', platform: 'Android', publicKey: new Uint8Array(32).fill(1) });
  const r = await api.handle('post', `devices/${d.id}`, { scopes: ['read'], workspaces: ['/w/b'] });
  assert.equal(r.status, 200);
  assert.deepEqual(devices.get(d.id)?.scopes, ['read']);
  assert.deepEqual(devices.get(d.id)?.workspaces, ['/w/b']);
  await api.handle('post', `devices/${d.id}`, { workspaces: null });
  assert.equal(devices.get(d.id)?.workspaces, undefined);
  assert.deepEqual(devices.get(d.id)?.scopes, ['read'], 'scopes left alone');
  assert.equal((await api.handle('post', `devices/${d.id}`, { workspaces: ['/etc'] })).status, 400, "only the host's workspaces");
  assert.equal((await api.handle('post', `devices/${d.id}`, { scopes: 'all' })).status, 400);
  assert.equal((await api.handle('post', 'devices/nope', { scopes: [] })).status, 404);
  assert.equal((await api.handle('post', `devices/${d.id}/revoke`, undefined)).status, 200);
  assert.deepEqual(devices.list(), []);
  assert.equal((await api.handle('post', `devices/${d.id}/revoke`, undefined)).status, 404);
  assert.equal((await api.handle('post', 'nothing', undefined)).status, 404);
  assert.equal((await api.handle('get', 'devices', undefined)).status, 404);
});

test('state: names, platforms, session titles and runtime errors come escaped, with no control, bidi or zero-width character left', async (t) => {
  const { api, approvals, devices, setSessions } = setup(t);
  const evil = 'Pixel\r\x1b[2KVerification code: 111 111\u202eevil\u200b\x9b8m';
  approvals.request({ name: evil, platform: evil, code: '123456', remoteAddress: '10.0.0.9', expiresAt: Date.now() + 60_000 });
  // As a devices.json written before names were made safe at pairing could hold it.
  devices.add({ name: evil, platform: evil, publicKey: new Uint8Array(32).fill(9), scopes: ['read'] });
  setSessions({ sessions: [{ id: 'ses_x', title: evil, time: { created: 1, updated: 30 } }], unavailable: [{ workspace: '/w/b', reason: evil }] });
  const s = await state(api);
  const shown = [s.pending[0]!.name, s.pending[0]!.platform, s.devices[0]!.name, s.devices[0]!.platform, s.sessions[0]!.title, s.sessionsUnavailable![0]!.reason];
  for (const text of shown) {
    // biome-ignore lint/suspicious/noControlCharactersInRegex: the test looks for exactly these characters.
    assert.doesNotMatch(text, /[\x00-\x1f\x7f-\x9f\u200b\u202e]/u, JSON.stringify(text));
    assert.ok(text.startsWith('Pixel\\r\\x1b[2KVerification code: 111 111\\u202eevil'), text);
  }
  setSessions(new Error(evil));
  assert.match((await state(api)).sessionsError!, /^Pixel\\r\\x1b\[2K/);
});

test("a computer's credential: its secret in the answer only, the device listed without its hash", async (t) => {
  const { api } = setup(t);
  const r = await api.handle('post', 'computers', { name: 'laptop' });
  assert.equal(r.status, 200);
  const made = r.body as AdminComputer;
  assert.match(made.secret, /^[A-Za-z0-9_-]{43}$/);
  assert.deepEqual(made.urls, ['http://box.local:8787/opencode']);
  const listed = (await state(api)).devices;
  assert.deepEqual(
    listed.map((d) => [d.id, d.name, d.platform]),
    [[made.deviceId, 'laptop', 'opencode-client']],
  );
  assert.ok(!JSON.stringify(listed).includes('secretHash'));
  assert.deepEqual(await api.handle('post', 'computers', {}), { status: 400, body: { error: 'give { "name": "…" }, the computer\'s name' } });
});
