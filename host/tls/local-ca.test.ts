import { test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger, silentLogger } from '../log.ts';
import { createCa } from './certificates.ts';
import { RENEW_BEFORE_MS, checkHostCertificate, type HostCertificateCheck, loadLocalCa, localCaPaths, renewHostCertificate, tlsSetup } from './local-ca.ts';

const DAY = 24 * 60 * 60 * 1000;
const names = { dns: ['alices-mac.local', 'localhost'], ips: ['192.168.1.20', '127.0.0.1', '::1'] };

function dataDir(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'openwork-tls-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const mode = (path: string) => statSync(path).mode & 0o777;
const reasonOf = (check: HostCertificateCheck) => (check.renew ? check.reason : undefined);

test('tls setup writes the CA and a host certificate, keys 0600 in a 0700 folder, and prints the fingerprint', async (t) => {
  const dir = dataDir(t);
  const lines: string[] = [];
  const { ca, createdCa } = await tlsSetup({ dataDir: dir, names, hostName: 'alices-mac', log: createLogger({ write: (l) => lines.push(l) }) });
  const paths = localCaPaths(dir);
  assert.equal(createdCa, true);
  assert.equal(mode(paths.dir), 0o700);
  assert.equal(mode(paths.caKey), 0o600);
  assert.equal(mode(paths.hostKey), 0o600);
  assert.equal(mode(paths.caCert), 0o644);
  const caCert = new X509Certificate(readFileSync(paths.caCert));
  assert.match(caCert.subject, /CN=OpenWork Relay local CA \(alices-mac\)/);
  assert.match(ca.fingerprint, /^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
  assert.equal(ca.fingerprint, caCert.fingerprint256);
  assert.ok(
    lines.some((l) => l.includes(ca.fingerprint)),
    'the fingerprint is printed',
  );
  const hostCert = new X509Certificate(readFileSync(paths.hostCert));
  assert.equal(hostCert.checkIssued(caCert), true);
  for (const ip of names.ips) assert.equal(hostCert.checkIP(ip), ip);
  assert.equal(hostCert.checkHost('alices-mac.local', { subject: 'never' }), 'alices-mac.local');
  assert.deepEqual(checkHostCertificate(ca, names), { renew: false });
});

test('running tls setup again keeps the CA (phones keep trusting it) and issues a new host certificate', async (t) => {
  const dir = dataDir(t);
  const first = await tlsSetup({ dataDir: dir, names, hostName: 'alices-mac', log: silentLogger });
  const hostBefore = readFileSync(localCaPaths(dir).hostCert, 'utf8');
  const second = await tlsSetup({ dataDir: dir, names, hostName: 'alices-mac', log: silentLogger });
  assert.equal(second.createdCa, false);
  assert.equal(second.ca.fingerprint, first.ca.fingerprint);
  assert.notEqual(readFileSync(localCaPaths(dir).hostCert, 'utf8'), hostBefore);
});

test('without tls setup there is no local CA', (t) => {
  assert.equal(loadLocalCa(dataDir(t)), undefined);
});

test('the host certificate is renewed within 30 days of its end, and not before', async (t) => {
  const dir = dataDir(t);
  const issuedAt = new Date();
  const { ca } = await tlsSetup({ dataDir: dir, names, hostName: 'alices-mac', log: silentLogger, now: issuedAt });
  const end = Date.parse(new X509Certificate(readFileSync(ca.paths.hostCert)).validTo);
  const before = readFileSync(ca.paths.hostCert, 'utf8');

  assert.equal(await renewHostCertificate(ca, names, silentLogger, new Date(issuedAt.getTime() + DAY)), false);
  assert.equal(await renewHostCertificate(ca, names, silentLogger, new Date(end - RENEW_BEFORE_MS - DAY)), false, '31 days left');
  assert.equal(readFileSync(ca.paths.hostCert, 'utf8'), before, 'left alone');

  const late = new Date(end - RENEW_BEFORE_MS + DAY);
  assert.equal(reasonOf(checkHostCertificate(ca, names, late)), 'expiring');
  assert.equal(await renewHostCertificate(ca, names, silentLogger, late), true, '29 days left');
  const renewed = new X509Certificate(readFileSync(ca.paths.hostCert));
  assert.ok(Date.parse(renewed.validTo) > end, 'the new one lasts longer');
  assert.equal(mode(ca.paths.hostKey), 0o600);
  assert.equal(await renewHostCertificate(ca, names, silentLogger, late), false, 'once renewed, it is fine again');
});

test('the host certificate is re-issued when an address or name is not covered, and not when one goes away', async (t) => {
  const dir = dataDir(t);
  const { ca } = await tlsSetup({ dataDir: dir, names, hostName: 'alices-mac', log: silentLogger });
  const fewer = { dns: names.dns, ips: names.ips.filter((ip) => ip !== '192.168.1.20') };
  assert.equal(await renewHostCertificate(ca, fewer, silentLogger), false, 'a superset still covers every name');

  const moved = { dns: names.dns, ips: ['192.168.50.3', ...fewer.ips] };
  const check = checkHostCertificate(ca, moved);
  assert.equal(reasonOf(check), 'names');
  assert.match(check.renew ? check.detail : '', /192\.168\.50\.3/);
  assert.equal(await renewHostCertificate(ca, moved, silentLogger), true);
  assert.equal(new X509Certificate(readFileSync(ca.paths.hostCert)).checkIP('192.168.50.3'), '192.168.50.3');

  const renamed = { dns: ['alices-new-mac.local', 'localhost'], ips: moved.ips };
  assert.equal(await renewHostCertificate(ca, renamed, silentLogger), true);
  assert.equal(new X509Certificate(readFileSync(ca.paths.hostCert)).checkHost('alices-new-mac.local', { subject: 'never' }), 'alices-new-mac.local');
});

test('a missing, damaged or foreign host certificate is re-issued', async (t) => {
  const dir = dataDir(t);
  const { ca } = await tlsSetup({ dataDir: dir, names, hostName: 'alices-mac', log: silentLogger });
  rmSync(ca.paths.hostCert);
  assert.equal(reasonOf(checkHostCertificate(ca, names)), 'missing');
  assert.equal(await renewHostCertificate(ca, names, silentLogger), true);

  writeFileSync(ca.paths.hostCert, 'not a certificate');
  assert.equal(reasonOf(checkHostCertificate(ca, names)), 'unreadable');
  assert.equal(await renewHostCertificate(ca, names, silentLogger), true);

  const stranger = await createCa({ commonName: 'someone else' });
  writeFileSync(ca.paths.hostCert, stranger.certPem);
  writeFileSync(ca.paths.hostKey, stranger.keyPem);
  assert.equal(reasonOf(checkHostCertificate(ca, names)), 'other-ca');
  assert.equal(await renewHostCertificate(ca, names, silentLogger), true);
  assert.deepEqual(checkHostCertificate(ca, names), { renew: false });
});

test('a CA key that others can read stops the host with a fix', { skip: process.platform === 'win32' ? 'no POSIX modes' : false }, async (t) => {
  const dir = dataDir(t);
  await tlsSetup({ dataDir: dir, names, hostName: 'alices-mac', log: silentLogger });
  chmodSync(localCaPaths(dir).caKey, 0o644);
  assert.throws(() => loadLocalCa(dir), /can be read by other users \(mode 0644\).*chmod 600/);
  assert.ok(existsSync(localCaPaths(dir).caKey), 'the key is left where it is');
});
