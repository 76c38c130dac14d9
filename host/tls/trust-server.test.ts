import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { request, type IncomingHttpHeaders } from 'node:http';
import { silentLogger } from '../log.ts';
import { CONTENT_SECURITY_POLICY } from '../server/headers.ts';
import { loadUws } from '../uws/load.ts';
import { createCa } from './certificates.ts';
import { CA_DER_TYPE, CA_PEM_TYPE, createTrustServer, defaultTrustPort, orderedLinks, type TrustServer } from './trust-server.ts';

const { uws } = loadUws();
const ca = await createCa({ commonName: 'OpenWork Relay local CA (alices-mac)' });
const fingerprint = new X509Certificate(ca.certPem).fingerprint256;
const HTTPS_URLS = ['https://alices-mac.local:8787', 'https://192.168.1.20:8787', 'https://[2001:db8::20]:8787'];

const servers: TrustServer[] = [];
let port: number;
let ownPort: number;
before(async () => {
  const withCa = createTrustServer({ uws, log: silentLogger, ca: { certPem: ca.certPem, fingerprint }, httpsUrls: () => HTTPS_URLS });
  const own = createTrustServer({ uws, log: silentLogger, httpsUrls: () => HTTPS_URLS });
  servers.push(withCa, own);
  port = (await withCa.listen('127.0.0.1', 0)).port;
  ownPort = (await own.listen('127.0.0.1', 0)).port;
});
after(() => {
  for (const s of servers) s.close();
});

interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

function get(path: string, opts: { method?: string; host?: string; port?: number } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const headers = opts.host ? { Host: opts.host } : undefined;
    const req = request({ host: '127.0.0.1', port: opts.port ?? port, path, method: opts.method ?? 'GET', headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject).end();
  });
}

test('the trust page explains each platform, shows the fingerprint and links to HTTPS, .local first', async () => {
  const r = await get('/');
  assert.equal(r.status, 200);
  assert.equal(r.headers['content-type'], 'text/html; charset=utf-8');
  assert.equal(r.headers['content-security-policy'], CONTENT_SECURITY_POLICY);
  const html = r.body.toString();
  assert.ok(html.replaceAll('<wbr>', '').includes(fingerprint), 'the fingerprint to compare');
  assert.ok(html.includes('href="/ca.crt"'));
  for (const step of [
    'VPN &amp; Device Management',
    'Certificate Trust Settings',
    'Encryption &amp; credentials',
    'Install a certificate',
    'CA certificate',
    'Keychain Access',
    'Firefox',
    'Trusted Root Certification Authorities',
    'certutil',
  ]) {
    assert.ok(html.includes(step), `mentions ${step}`);
  }
  assert.ok(html.includes('OpenWork Relay local CA (alices-mac)'), 'names the profile as the phone lists it');
  const links = [...html.matchAll(/href="(https:[^"]+)"/g)].map((m) => m[1]);
  assert.deepEqual(
    links,
    HTTPS_URLS.map((u) => `${u}/`),
  );
  assert.doesNotMatch(html, /<script|\sstyle=|<style/, 'nothing the CSP would block');
  assert.doesNotMatch(html, /\{\{/, 'every placeholder filled');
});

test('the address the page was reached by is offered first, but a Host header is never echoed', async () => {
  const byIp = (await get('/', { host: '192.168.1.20:8788' })).body.toString();
  assert.deepEqual(
    [...byIp.matchAll(/href="(https:[^"]+)"/g)].map((m) => m[1]),
    [HTTPS_URLS[1], HTTPS_URLS[0], HTTPS_URLS[2]].map((u) => `${u}/`),
  );
  const forged = (await get('/', { host: 'evil.example"><b>:80' })).body.toString();
  assert.ok(!forged.includes('evil.example'));
  assert.deepEqual(orderedLinks(HTTPS_URLS, '[2001:db8::20]:8788')[0], HTTPS_URLS[2]);
});

test('the CA downloads as DER (/ca.crt) and PEM (/ca.pem) with the MIME types phones install from', async () => {
  const der = await get('/ca.crt');
  assert.equal(der.status, 200);
  assert.equal(der.headers['content-type'], CA_DER_TYPE);
  assert.equal(CA_DER_TYPE, 'application/x-x509-ca-cert');
  assert.match(der.headers['content-disposition'] ?? '', /filename="openwork-relay-ca\.crt"/);
  assert.equal(new X509Certificate(der.body).fingerprint256, fingerprint);
  assert.equal(der.body[0], 0x30, 'binary DER, not PEM text');

  const pem = await get('/ca.pem');
  assert.equal(pem.status, 200);
  assert.equal(pem.headers['content-type'], CA_PEM_TYPE);
  assert.equal(CA_PEM_TYPE, 'application/x-pem-file');
  assert.equal(pem.body.toString(), ca.certPem);

  const head = await get('/ca.crt', { method: 'HEAD' });
  assert.equal(head.status, 200);
  assert.equal(head.headers['content-length'], String(der.body.length));
  assert.equal(head.body.length, 0);
  assert.equal((await get('/trust.css')).headers['content-type'], 'text/css; charset=utf-8');
});

test('it serves nothing else: other pages redirect to the trust page, other methods get 404', async () => {
  for (const path of ['/index.html', '/sw.js', '/manifest.webmanifest', '/healthz', '/ca.key', '/../tls/ca.key', '/%2e%2e/ca.key', '/ws']) {
    const r = await get(path);
    assert.equal(r.status, 302, path);
    assert.equal(r.headers.location, '/', path);
    assert.ok(!r.body.toString().includes('PRIVATE KEY'), path);
  }
  for (const method of ['POST', 'PUT', 'DELETE', 'OPTIONS']) {
    assert.equal((await get('/', { method })).status, 404, method);
    assert.equal((await get('/ca.crt', { method })).status, 404, method);
  }
});

test('with own certificates the plain side only points to HTTPS: no CA to download', async () => {
  const page = await get('/', { port: ownPort });
  assert.equal(page.status, 200);
  const html = page.body.toString();
  assert.ok(!html.includes('/ca.crt'));
  assert.deepEqual(
    [...html.matchAll(/href="(https:[^"]+)"/g)].map((m) => m[1]),
    HTTPS_URLS.map((u) => `${u}/`),
  );
  assert.equal((await get('/ca.crt', { port: ownPort })).status, 302);
  assert.equal((await get('/ca.pem', { port: ownPort })).status, 302);
});

test('the plain-HTTP port defaults to the next one', () => {
  assert.equal(defaultTrustPort(8787), 8788);
  assert.equal(defaultTrustPort(0), 0);
  assert.equal(defaultTrustPort(65535), 0);
});
