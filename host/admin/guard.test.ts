import { test } from 'node:test';
import assert from 'node:assert/strict';
import { whyNotAdminApi, whyNotAdminPage, type AdminRequest } from './guard.ts';

const local: AdminRequest = { remoteAddress: '127.0.0.1', host: '127.0.0.1:8787', forwarded: false, origin: '', adminHeader: '1', fetchSite: '' };

test('the page answers only on the host itself', () => {
  assert.equal(whyNotAdminPage(local), undefined);
  assert.match(whyNotAdminPage({ ...local, remoteAddress: '192.168.1.20' })!.reason, /does not come from this machine: the admin page answers only on the host itself/);
  assert.match(whyNotAdminPage({ ...local, forwarded: true })!.reason, /forwarded/);
  assert.match(whyNotAdminPage({ ...local, host: 'evil.example:8787' })!.reason, /does not name this machine/);
});

test('the API also needs the admin header, and refuses other origins and cross-site fetches', () => {
  assert.equal(whyNotAdminApi(local), undefined);
  assert.equal(whyNotAdminApi({ ...local, origin: 'http://127.0.0.1:8787', fetchSite: 'same-origin' }), undefined);
  assert.equal(whyNotAdminApi({ ...local, host: 'localhost:8787', origin: 'http://localhost:8787' }), undefined);
  assert.equal(whyNotAdminApi({ ...local, host: '[::1]:8787', origin: 'https://[::1]:8787', remoteAddress: '::1' }), undefined);
  assert.equal(whyNotAdminApi({ ...local, fetchSite: 'none' }), undefined, 'typed into the address bar');

  const refused = (patch: Partial<AdminRequest>, reason: RegExp) => {
    const r = whyNotAdminApi({ ...local, ...patch });
    assert.equal(r?.status, 403, JSON.stringify(patch));
    assert.match(r!.reason, reason);
  };
  refused({ adminHeader: '' }, /needs the X-OpenWork-Admin: 1 header/);
  refused({ adminHeader: 'true' }, /needs the X-OpenWork-Admin: 1 header/);
  refused({ origin: 'https://evil.example' }, /requests from https:\/\/evil\.example may not use the admin API/);
  refused({ origin: 'http://127.0.0.1:9999' }, /may not use/);
  refused({ origin: 'http://localhost:8787' }, /may not use/);
  refused({ origin: 'null' }, /may not use/);
  refused({ origin: 'http://127.0.0.1:8787/path' }, /may not use/);
  refused({ fetchSite: 'cross-site' }, /a cross-site request may not use the admin API/);
  refused({ fetchSite: 'same-site' }, /same-site/);
  refused({ remoteAddress: '10.0.0.2' }, /does not come from this machine/);
});
