import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { connect } from 'node:net';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { brotliCompressSync, gzipSync } from 'node:zlib';
import { silentLogger } from '../log.ts';
import { createCa, issueHostCertificate } from '../tls/certificates.ts';
import { loadUws } from '../uws/load.ts';
import { CONTENT_SECURITY_POLICY } from './headers.ts';
import { createHttpServer, type HttpServer } from './http.ts';
import { NOT_BUILT_MESSAGE } from './static.ts';

const { uws } = loadUws();
const root = mkdtempSync(join(tmpdir(), 'openwork-http-'));
const dist = join(root, 'dist');
const SECRET = 'TOP-SECRET-OUTSIDE-DIST';
const INDEX = '<!doctype html><html><head><script type="module" src="/assets/index-a1B2c3D4.js"></script></head></html>';
const JS = 'console.log("hello from the app");'.repeat(20);
const JS_ASSET = '/assets/index-a1B2c3D4.js';

const servers: HttpServer[] = [];
after(() => {
  for (const s of servers) s.close();
  rmSync(root, { recursive: true, force: true });
});

let port: number;
before(async () => {
  writeFileSync(join(root, 'secret.txt'), SECRET);
  mkdirSync(join(dist, 'assets'), { recursive: true });
  writeFileSync(join(dist, 'index.html'), INDEX);
  writeFileSync(join(dist, JS_ASSET), JS);
  writeFileSync(join(dist, `${JS_ASSET}.br`), brotliCompressSync(JS));
  writeFileSync(join(dist, `${JS_ASSET}.gz`), gzipSync(JS));
  writeFileSync(join(dist, 'assets/style-Zz9_x-12.css'), 'body{margin:0}');
  writeFileSync(join(dist, 'manifest.webmanifest'), '{"name":"OpenWork"}');
  writeFileSync(join(dist, 'sw.js'), 'self.addEventListener("install",()=>{})');
  writeFileSync(join(dist, 'registerSW.js'), 'navigator.serviceWorker.register("/sw.js")');
  writeFileSync(join(dist, 'icon-192.png'), Buffer.from([0x89, 0x50, 0x4e, 0x47]));
  writeFileSync(join(dist, '.env'), SECRET);
  symlinkSync(join(root, 'secret.txt'), join(dist, 'link.txt'));
  port = (await start({ staticDir: dist })).port;
});

async function start(opts: { staticDir: string; tls?: { cert: string; key: string } }) {
  const server = createHttpServer({ uws, log: silentLogger, getHealth: () => ({ ok: true, runtime: 'up' }), ...opts });
  servers.push(server);
  return { server, ...(await server.listen('127.0.0.1', 0)) };
}

interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

function fetchRaw(path: string, opts: { method?: string; headers?: Record<string, string>; port?: number } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port: opts.port ?? port, path, method: opts.method ?? 'GET', headers: opts.headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject).end();
  });
}

/** Sends the request line byte for byte, so no client library normalises the path first. */
function rawRequest(target: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let data = Buffer.alloc(0);
    const done = () => {
      const text = data.toString('latin1');
      const end = text.indexOf('\r\n\r\n');
      if (end < 0) return false;
      const length = Number(/\r\ncontent-length: *(\d+)/i.exec(text.slice(0, end))?.[1] ?? 0);
      if (data.length < end + 4 + length) return false;
      socket.destroy();
      resolve({ status: Number(text.slice(9, 12)), text });
      return true;
    };
    socket.on('connect', () => socket.write(`GET ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/html\r\n\r\n`));
    socket.on('data', (chunk: Buffer) => {
      data = Buffer.concat([data, chunk]);
      done();
    });
    socket.on('error', reject);
    socket.on('close', () => {
      if (!done()) reject(new Error(`connection closed without a full response to ${JSON.stringify(target)}`));
    });
  });
}

function assertSecurityHeaders(headers: IncomingHttpHeaders) {
  assert.equal(headers['content-security-policy'], CONTENT_SECURITY_POLICY);
  assert.equal(headers['x-content-type-options'], 'nosniff');
  assert.equal(headers['referrer-policy'], 'no-referrer');
  assert.equal(headers['x-frame-options'], 'DENY');
  assert.match(String(headers['permissions-policy']), /^camera=\(self\)/);
  assert.equal(headers['cross-origin-opener-policy'], 'same-origin');
}

test('GET / serves index.html, revalidated on every load, with the security headers', async () => {
  const r = await fetchRaw('/');
  assert.equal(r.status, 200);
  assert.equal(r.body.toString(), INDEX);
  assert.equal(r.headers['content-type'], 'text/html; charset=utf-8');
  assert.equal(r.headers['cache-control'], 'no-cache');
  assert.match(String(r.headers.etag), /^"[\w-]+"$/);
  assertSecurityHeaders(r.headers);
  assert.equal((await fetchRaw('/index.html')).body.toString(), INDEX);
});

test('cache headers per kind of file', async () => {
  const cases: [string, string, string][] = [
    [JS_ASSET, 'public, max-age=31536000, immutable', 'text/javascript; charset=utf-8'],
    ['/assets/style-Zz9_x-12.css', 'public, max-age=31536000, immutable', 'text/css; charset=utf-8'],
    ['/manifest.webmanifest', 'no-cache', 'application/manifest+json; charset=utf-8'],
    ['/sw.js', 'no-cache', 'text/javascript; charset=utf-8'],
    ['/registerSW.js', 'no-cache', 'text/javascript; charset=utf-8'],
    ['/icon-192.png', 'public, max-age=600', 'image/png'],
  ];
  for (const [path, cache, type] of cases) {
    const r = await fetchRaw(path);
    assert.equal(r.status, 200, path);
    assert.equal(r.headers['cache-control'], cache, path);
    assert.equal(r.headers['content-type'], type, path);
  }
});

test('ETag and If-None-Match give 304 without a body', async () => {
  const first = await fetchRaw(JS_ASSET);
  const etag = String(first.headers.etag);
  for (const ifNoneMatch of [etag, `W/${etag}`, `"other", ${etag}`, '*']) {
    const r = await fetchRaw(JS_ASSET, { headers: { 'If-None-Match': ifNoneMatch } });
    assert.equal(r.status, 304, ifNoneMatch);
    assert.equal(r.body.length, 0);
    assert.equal(r.headers.etag, etag);
    assert.equal(r.headers['cache-control'], 'public, max-age=31536000, immutable');
    assertSecurityHeaders(r.headers);
  }
  assert.equal((await fetchRaw(JS_ASSET, { headers: { 'If-None-Match': '"stale"' } })).status, 200);
});

test('precompressed siblings are served when Accept-Encoding allows, each with its own ETag', async () => {
  const plain = await fetchRaw(JS_ASSET);
  const br = await fetchRaw(JS_ASSET, { headers: { 'Accept-Encoding': 'gzip, deflate, br' } });
  const gz = await fetchRaw(JS_ASSET, { headers: { 'Accept-Encoding': 'gzip' } });
  assert.equal(plain.headers['content-encoding'], undefined);
  assert.equal(plain.body.toString(), JS);
  assert.equal(br.headers['content-encoding'], 'br');
  assert.deepEqual(br.body, readFileSync(join(dist, `${JS_ASSET}.br`)));
  assert.equal(gz.headers['content-encoding'], 'gzip');
  assert.deepEqual(gz.body, readFileSync(join(dist, `${JS_ASSET}.gz`)));
  for (const r of [plain, br, gz]) {
    assert.equal(r.headers.vary, 'Accept-Encoding');
    assert.equal(r.headers['content-type'], 'text/javascript; charset=utf-8');
  }
  assert.equal(new Set([plain.headers.etag, br.headers.etag, gz.headers.etag]).size, 3);
  const notBr = await fetchRaw(JS_ASSET, { headers: { 'Accept-Encoding': 'gzip', 'If-None-Match': String(br.headers.etag) } });
  assert.equal(notBr.status, 200, 'the br tag does not validate the gzip representation');
  assert.equal((await fetchRaw('/icon-192.png', { headers: { 'Accept-Encoding': 'br' } })).headers.vary, undefined);
});

test('traversal attempts are refused and never read outside the directory', async () => {
  const attempts = [
    '/../secret.txt',
    '/assets/../../secret.txt',
    '/%2e%2e/secret.txt',
    '/%2E%2E%2Fsecret.txt',
    '/..%2fsecret.txt',
    '/.%2e/secret.txt',
    '/..\\secret.txt',
    '/%5c..%5csecret.txt',
    '/%252e%252e/secret.txt',
    '/%252e%252e%252fsecret.txt',
    '/secret.txt%00.js',
    '/%00',
    '/.env',
    '/link.txt',
    '/assets/',
    '/assets',
  ];
  for (const target of attempts) {
    const r = await rawRequest(target);
    assert.ok(!r.text.includes(SECRET), `${target} leaked the secret`);
    if (r.status === 200) assert.ok(r.text.endsWith(INDEX), `${target} may only fall back to the app shell`);
    else assert.ok(r.status === 400 || r.status === 404, `${target} answered ${r.status}`);
  }
  assert.equal((await rawRequest('/%2e%2e/secret.txt')).status, 400);
  assert.equal((await rawRequest('/..\\secret.txt')).status, 400);
  assert.equal((await rawRequest('/%252e%252e/secret.txt')).status, 400);
  assert.equal((await rawRequest('/secret.txt%00.js')).status, 400);
});

test('unknown app routes get the app shell; unknown files get 404', async () => {
  const route = await fetchRaw('/sessions/ses_123', { headers: { Accept: 'text/html,application/xhtml+xml' } });
  assert.equal(route.status, 200);
  assert.equal(route.body.toString(), INDEX);
  assert.equal(route.headers['cache-control'], 'no-cache');

  const missingFile = await fetchRaw('/assets/missing-a1B2c3D4.js', { headers: { Accept: 'text/html' } });
  assert.equal(missingFile.status, 404);
  assertSecurityHeaders(missingFile.headers);
  assert.equal((await fetchRaw('/sessions/ses_123', { headers: { Accept: 'application/json' } })).status, 404, 'not a page request');
});

test('HEAD gives the headers and length of GET without a body', async () => {
  const r = await fetchRaw('/', { method: 'HEAD' });
  assert.equal(r.status, 200);
  assert.equal(r.body.length, 0);
  assert.equal(r.headers['content-length'], String(Buffer.byteLength(INDEX)));
  assert.equal(r.headers['cache-control'], 'no-cache');
  assertSecurityHeaders(r.headers);
  const br = await fetchRaw(JS_ASSET, { method: 'HEAD', headers: { 'Accept-Encoding': 'br' } });
  assert.equal(br.headers['content-length'], String(readFileSync(join(dist, `${JS_ASSET}.br`)).length));
  assert.equal(br.headers['content-encoding'], 'br');
});

test('other methods get 405 with Allow', async () => {
  for (const [method, path] of [
    ['POST', '/'],
    ['PUT', JS_ASSET],
    ['DELETE', '/healthz'],
    ['OPTIONS', '/'],
  ]) {
    const r = await fetchRaw(path!, { method });
    assert.equal(r.status, 405, `${method} ${path}`);
    assert.equal(r.headers.allow, 'GET, HEAD');
    assertSecurityHeaders(r.headers);
  }
});

test('/healthz answers JSON from getHealth, not cached', async () => {
  const r = await fetchRaw('/healthz');
  assert.equal(r.status, 200);
  assert.equal(r.headers['content-type'], 'application/json; charset=utf-8');
  assert.equal(r.headers['cache-control'], 'no-cache');
  assert.deepEqual(JSON.parse(r.body.toString()), { ok: true, runtime: 'up' });
  assertSecurityHeaders(r.headers);
  const head = await fetchRaw('/healthz', { method: 'HEAD' });
  assert.equal(head.status, 200);
  assert.equal(head.body.length, 0);
});

test('a failing health check answers 500 instead of crashing', async () => {
  const server = createHttpServer({
    uws,
    log: silentLogger,
    staticDir: dist,
    getHealth: () => {
      throw new Error('boom');
    },
  });
  servers.push(server);
  const { port: p } = await server.listen('127.0.0.1', 0);
  const r = await fetchRaw('/healthz', { port: p });
  assert.equal(r.status, 500);
  assertSecurityHeaders(r.headers);
});

test('without a built app every page answers 503 with how to fix it, and /healthz still works', async () => {
  const { port: p } = await start({ staticDir: join(root, 'no-such-dist') });
  const r = await fetchRaw('/', { port: p });
  assert.equal(r.status, 503);
  assert.equal(r.body.toString(), NOT_BUILT_MESSAGE);
  assert.equal(r.headers['content-type'], 'text/plain; charset=utf-8');
  assertSecurityHeaders(r.headers);
  assert.equal((await fetchRaw('/healthz', { port: p })).status, 200);
});

test('a WebSocket route added before listen is reachable beside the static handler', async () => {
  const server = createHttpServer({ uws, log: silentLogger, staticDir: dist, getHealth: () => ({}) });
  servers.push(server);
  server.app.ws('/ws', {
    upgrade: (res, req, context) => {
      res.upgrade({}, req.getHeader('sec-websocket-key'), req.getHeader('sec-websocket-protocol'), req.getHeader('sec-websocket-extensions'), context);
    },
  });
  const { port: p } = await server.listen('127.0.0.1', 0);
  const status = await new Promise<number>((resolve, reject) => {
    const req = httpRequest({
      host: '127.0.0.1',
      port: p,
      path: '/ws',
      agent: false,
      headers: { Connection: 'Upgrade', Upgrade: 'websocket', 'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==', 'Sec-WebSocket-Version': '13' },
    });
    req.on('upgrade', (res, socket) => {
      socket.destroy();
      resolve(res.statusCode ?? 0);
    });
    req.on('response', (res) => resolve(res.statusCode ?? 0));
    req.on('error', reject).end();
  });
  assert.equal(status, 101);
  assert.equal((await fetchRaw('/', { port: p })).status, 200);
});

test('listening on a port in use fails with a fix', async () => {
  const server = createHttpServer({ uws, log: silentLogger, staticDir: dist, getHealth: () => ({}) });
  servers.push(server);
  await assert.rejects(server.listen('127.0.0.1', port), /cannot listen on 127\.0\.0\.1:\d+.*--port \(env OPENWORK_PORT\)/);
});

test('close() frees the port', async () => {
  const { server, port: p } = await start({ staticDir: dist });
  server.close();
  await assert.rejects(fetchRaw('/healthz', { port: p }), { code: 'ECONNREFUSED' });
  const again = createHttpServer({ uws, log: silentLogger, staticDir: dist, getHealth: () => ({}) });
  servers.push(again);
  assert.equal((await again.listen('127.0.0.1', p)).port, p);
});

test('close() also ends open keep-alive connections, so the process can exit', async () => {
  const { server, port: p } = await start({ staticDir: dist });
  const socket = connect(p, '127.0.0.1');
  await new Promise((resolve) => socket.once('data', resolve).write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n'));
  const closed = new Promise((resolve) => socket.once('close', resolve));
  server.close();
  await closed;
  await assert.rejects(fetchRaw('/healthz', { port: p }), { code: 'ECONNREFUSED' });
});

let openssl = true;
try {
  execFileSync('openssl', ['version'], { stdio: 'ignore' });
} catch {
  openssl = false;
}

test('with tls it serves HTTPS through SSLApp', { skip: openssl ? false : 'openssl is not installed' }, async () => {
  const cert = join(root, 'cert.pem');
  const key = join(root, 'key.pem');
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-days',
      '1',
      '-subj',
      '/CN=localhost',
      '-addext',
      'subjectAltName=IP:127.0.0.1',
      '-keyout',
      key,
      '-out',
      cert,
    ],
    { stdio: 'ignore' },
  );
  const { port: p } = await start({ staticDir: dist, tls: { cert, key } });
  const r = await new Promise<Answer>((resolve, reject) => {
    const req = httpsRequest({ host: '127.0.0.1', port: p, path: '/healthz', ca: readFileSync(cert), agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject).end();
  });
  assert.equal(r.status, 200);
  assert.deepEqual(JSON.parse(r.body.toString()), { ok: true, runtime: 'up' });
  assertSecurityHeaders(r.headers);
});

/** One HTTP/1.1 request on an open TLS socket (keep-alive), answered with its status line. */
function statusOn(socket: TLSSocket, path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let data = '';
    const onData = (chunk: Buffer) => {
      data += chunk.toString('latin1');
      const end = data.indexOf('\r\n\r\n');
      if (end < 0) return;
      const length = Number(/content-length: (\d+)/i.exec(data)?.[1] ?? 0);
      if (data.length < end + 4 + length) return;
      socket.off('data', onData);
      resolve(data.slice(0, data.indexOf('\r\n')));
    };
    socket.on('data', onData).once('error', reject);
    socket.write(`GET ${path} HTTP/1.1\r\nHost: localhost\r\n\r\n`);
  });
}

function openTls(port: number, ca: string): Promise<TLSSocket> {
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({ host: '127.0.0.1', port, ca, servername: 'localhost' });
    socket.once('secureConnect', () => resolve(socket)).once('error', reject);
  });
}

test('setTls swaps in a new certificate: new connections get it, open ones carry on, mounted routes stay', async (t) => {
  const ca = await createCa({ commonName: 'test CA' });
  const names = { dns: ['localhost'], ips: ['127.0.0.1'] };
  const write = async (name: string) => {
    const pair = await issueHostCertificate({ ca, names });
    writeFileSync(join(root, `${name}.crt`), pair.certPem);
    writeFileSync(join(root, `${name}.key`), pair.keyPem);
    return { cert: join(root, `${name}.crt`), key: join(root, `${name}.key`), serial: new X509Certificate(pair.certPem).serialNumber };
  };
  const a = await write('swap-a');
  const b = await write('swap-b');
  const server = createHttpServer({ uws, log: silentLogger, staticDir: dist, getHealth: () => ({}), tls: a });
  servers.push(server);
  server.mount((app) => {
    app.get('/mounted', (res) => {
      res.end('mounted');
    });
  });
  const { port: p } = await server.listen('127.0.0.1', 0);
  const sockets: TLSSocket[] = [];
  t.after(() => sockets.forEach((s) => void s.destroy()));
  const open = async () => {
    const s = await openTls(p, ca.certPem);
    sockets.push(s);
    return s;
  };
  const serialOf = (s: TLSSocket) => s.getPeerCertificate().serialNumber;

  const before = await open();
  assert.equal(serialOf(before), a.serial);
  assert.equal(await statusOn(before, '/mounted'), 'HTTP/1.1 200 OK');

  const first = server.app;
  await server.setTls(b);
  assert.notEqual(server.app, first, 'a new app serves the new certificate');
  const after = await open();
  assert.equal(serialOf(after), b.serial);
  assert.equal(await statusOn(after, '/mounted'), 'HTTP/1.1 200 OK', 'mount ran on the new app');
  assert.equal(await statusOn(after, '/healthz'), 'HTTP/1.1 200 OK');
  assert.equal(await statusOn(before, '/healthz'), 'HTTP/1.1 200 OK', 'the connection opened before the swap still works');

  await assert.rejects(server.setTls({ cert: join(root, 'missing.crt'), key: b.key }), /cannot load the TLS certificate .*missing\.crt.*still serving the previous one/);
  assert.equal(serialOf(await open()), b.serial, 'a failed swap keeps the current certificate');
});

test('setTls refuses a server that was started without TLS', async () => {
  const { server } = await start({ staticDir: dist });
  await assert.rejects(server.setTls({ cert: 'x', key: 'y' }), /started without TLS/);
});
