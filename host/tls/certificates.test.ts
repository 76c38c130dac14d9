import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, connect } from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CA_VALIDITY_DAYS, HOST_VALIDITY_DAYS, createCa, issueHostCertificate } from './certificates.ts';

const DAY = 24 * 60 * 60 * 1000;
const now = new Date();
const names = {
  dns: ['alices-mac.local', 'localhost'],
  // Every way an IPv6 address is written, an embedded IPv4 tail included.
  ips: ['192.168.1.20', '10.0.0.7', '127.0.0.1', '::1', '2001:db8::20', 'fd00:1:2:3:4:5:6:7', '::ffff:192.168.1.30'],
};
const ca = await createCa({ commonName: 'OpenWork Relay local CA (alices-mac)', now });
const host = await issueHostCertificate({ ca, names, now });
const caCert = new X509Certificate(ca.certPem);
const hostCert = new X509Certificate(host.certPem);
const days = (c: X509Certificate) => (Date.parse(c.validTo) - Date.parse(c.validFrom)) / DAY;

test('the CA is a self-signed P-256 CA named for the computer, valid for ten years', () => {
  assert.equal(caCert.ca, true);
  assert.match(caCert.subject, /^CN=OpenWork Relay local CA \(alices-mac\)$/m);
  assert.equal(caCert.subject, caCert.issuer);
  assert.equal(caCert.verify(caCert.publicKey), true);
  assert.equal(caCert.publicKey.asymmetricKeyDetails?.namedCurve, 'prime256v1');
  assert.equal(days(caCert), CA_VALIDITY_DAYS);
  assert.ok(Date.parse(caCert.validFrom) <= now.getTime(), 'valid already now, even on a phone whose clock is a little behind');
  assert.equal(caCert.checkPrivateKey(createPrivateKey(ca.keyPem)), true);
});

test('the host certificate chains to the CA, is a server leaf of at most 397 days, and names every address', () => {
  assert.equal(hostCert.ca, false);
  assert.equal(hostCert.checkIssued(caCert), true);
  assert.equal(hostCert.verify(caCert.publicKey), true);
  assert.equal(hostCert.verify(hostCert.publicKey), false, 'signed by the CA, not by itself');
  assert.equal(hostCert.checkPrivateKey(createPrivateKey(host.keyPem)), true);
  assert.equal(hostCert.publicKey.asymmetricKeyDetails?.namedCurve, 'prime256v1');
  assert.equal(days(hostCert), HOST_VALIDITY_DAYS);
  assert.ok(HOST_VALIDITY_DAYS <= 397);
  assert.deepEqual(hostCert.keyUsage, ['1.3.6.1.5.5.7.3.1'], 'serverAuth (node names the extended key usage keyUsage)');
  assert.match(hostCert.subject, /CN=alices-mac\.local/);
  for (const d of names.dns) assert.equal(hostCert.checkHost(d, { subject: 'never' }), d);
  for (const ip of names.ips) assert.equal(hostCert.checkIP(ip), ip);
  assert.equal(hostCert.checkHost('other.local', { subject: 'never' }), undefined);
  assert.equal(hostCert.checkIP('192.168.1.21'), undefined);
  assert.notEqual(hostCert.serialNumber, caCert.serialNumber);
});

test('a TLS client that trusts only the CA accepts the host by its .local name and by IP', async (t) => {
  const server = createServer({ key: host.keyPem, cert: host.certPem }, (socket) => socket.end('hello'));
  t.after(() => server.close());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  const handshake = (servername: string | undefined, ca: string) =>
    new Promise<{ authorized: boolean; error?: string }>((resolve) => {
      const socket = connect({ host: '127.0.0.1', port, servername, ca, rejectUnauthorized: false, checkServerIdentity: () => undefined });
      socket.once('secureConnect', () => {
        const error = socket.authorizationError ? String(socket.authorizationError) : undefined;
        resolve({ authorized: socket.authorized, error });
        socket.destroy();
      });
      socket.once('error', (err) => resolve({ authorized: false, error: err.message }));
    });
  assert.deepEqual(await handshake('alices-mac.local', ca.certPem), { authorized: true, error: undefined });
  assert.equal((await handshake(undefined, ca.certPem)).authorized, true);
  const stranger = await createCa({ commonName: 'someone else', now });
  assert.equal((await handshake('alices-mac.local', stranger.certPem)).authorized, false, 'another CA does not vouch for it');
});

let openssl = true;
try {
  execFileSync('openssl', ['version'], { stdio: 'ignore' });
} catch {
  openssl = false;
}

test('openssl agrees: CA:true with pathlen 0, a critical key usage, and a chain valid for TLS servers', { skip: openssl ? false : 'openssl is not installed' }, (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'openwork-certs-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'ca.pem'), ca.certPem);
  writeFileSync(join(dir, 'host.pem'), host.certPem);
  const text = (file: string) => execFileSync('openssl', ['x509', '-in', join(dir, file), '-noout', '-text'], { encoding: 'utf8' });
  const caText = text('ca.pem');
  assert.match(caText, /Basic Constraints: critical\s+CA:TRUE, pathlen:0/);
  assert.match(caText, /Key Usage: critical\s+Digital Signature, Certificate Sign, CRL Sign/);
  const hostText = text('host.pem');
  assert.match(hostText, /Basic Constraints: critical\s+CA:FALSE/);
  assert.match(hostText, /Key Usage: critical\s+Digital Signature\n/);
  assert.match(hostText, /Extended Key Usage: \s*TLS Web Server Authentication/);
  assert.match(hostText, /Authority Key Identifier/);
  // UTF8String names (RFC 5280), and the issuer written exactly as the CA's subject.
  const dn = (file: string, which: string) =>
    execFileSync('openssl', ['x509', '-in', join(dir, file), '-noout', which, '-nameopt', 'RFC2253,show_type'], { encoding: 'utf8' })
      .split('=')
      .slice(1)
      .join('=');
  assert.equal(dn('ca.pem', '-subject'), 'CN=UTF8STRING:OpenWork Relay local CA (alices-mac),O=UTF8STRING:OpenWork Relay\n');
  assert.equal(dn('host.pem', '-issuer'), dn('ca.pem', '-subject'));
  assert.equal(dn('host.pem', '-subject'), 'CN=UTF8STRING:alices-mac.local,O=UTF8STRING:OpenWork Relay\n');
  const verified = execFileSync('openssl', ['verify', '-purpose', 'sslserver', '-CAfile', join(dir, 'ca.pem'), join(dir, 'host.pem')], { encoding: 'utf8' });
  assert.match(verified, /host\.pem: OK/);
});

test('it refuses a certificate without names, and names that are not ASCII host names', async () => {
  await assert.rejects(issueHostCertificate({ ca, names: { dns: [], ips: [] } }), RangeError);
  await assert.rejects(issueHostCertificate({ ca, names: { dns: ['bücher.local'], ips: [] } }), /names\.dns.*punycode/);
  await assert.rejects(issueHostCertificate({ ca, names: { dns: [], ips: ['999.1.1.1'] } }), /ip: not an IP address/);
});
