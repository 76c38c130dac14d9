import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger, silentLogger } from '../log.ts';
import { CACHE_IMMUTABLE, CACHE_NO_CACHE, CACHE_SHORT, NOT_BUILT_MESSAGE, cachePolicy, createStaticSite, decodePath, type StaticRequest } from './static.ts';

const root = mkdtempSync(join(tmpdir(), 'openwork-static-'));
after(() => rmSync(root, { recursive: true, force: true }));

const get = (url: string, extra: Partial<StaticRequest> = {}): StaticRequest => ({
  method: 'get',
  url,
  accept: '*/*',
  acceptEncoding: '',
  ifNoneMatch: '',
  ...extra,
});
const header = (headers: readonly (readonly [string, string])[] | undefined, name: string) => headers?.find(([n]) => n === name)?.[1];

test('decodePath accepts plain paths and decodes them once', () => {
  assert.equal(decodePath('/'), '/');
  assert.equal(decodePath('/assets/index-a1B2c3D4.js'), '/assets/index-a1B2c3D4.js');
  assert.equal(decodePath('/a%20b.png'), '/a b.png');
  assert.equal(decodePath('/sessions/ses_01J'), '/sessions/ses_01J');
  assert.equal(decodePath('/...'), '/...', 'three dots is a name, not a parent reference');
});

test('decodePath refuses traversal and smuggling in every spelling', () => {
  for (const bad of [
    '/../etc/passwd',
    '/a/../../etc',
    '/./index.html',
    '/..',
    '/%2e%2e/x',
    '/%2E%2E/x',
    '/.%2e/x',
    '/..%2fx',
    '/%2e%2e%2fx',
    '/..\\x',
    '/%5c..%5cx',
    '/a%00.js',
    '/a\u0000b',
    '/%252e%252e/x',
    '/%25',
    '/%zz',
    '/%',
    'relative',
    '',
    '/a%0d%0aSet-Cookie:x',
  ]) {
    assert.equal(decodePath(bad), undefined, JSON.stringify(bad));
  }
});

test('cache policy by kind of file', () => {
  assert.equal(cachePolicy('/index.html'), CACHE_NO_CACHE);
  assert.equal(cachePolicy('/manifest.webmanifest'), CACHE_NO_CACHE);
  assert.equal(cachePolicy('/manifest.json'), CACHE_NO_CACHE);
  assert.equal(cachePolicy('/sw.js'), CACHE_NO_CACHE);
  assert.equal(cachePolicy('/registerSW.js'), CACHE_NO_CACHE);
  assert.equal(cachePolicy('/assets/index-a1B2c3D4.js'), CACHE_IMMUTABLE);
  assert.equal(cachePolicy('/assets/fonts/inter-Zz9_x-12.woff2'), CACHE_IMMUTABLE);
  assert.equal(cachePolicy('/assets/logo.png'), CACHE_SHORT, 'not hashed, so it may change under the same name');
  assert.equal(cachePolicy('/icon-192.png'), CACHE_SHORT);
});

test('a missing directory answers 503 until it is built and reloaded', () => {
  const dir = join(root, 'later');
  const lines: string[] = [];
  const site = createStaticSite({ dir, log: createLogger({ write: (l) => lines.push(l) }) });
  assert.equal(site.built, false);
  const reply = site.respond(get('/'));
  assert.equal(reply.status, 503);
  assert.equal(reply.body, NOT_BUILT_MESSAGE);
  assert.ok(
    lines.some((l) => l.includes(NOT_BUILT_MESSAGE)),
    'the operator is told how to fix it',
  );

  mkdirSync(dir);
  writeFileSync(join(dir, 'index.html'), '<!doctype html>v1');
  site.reload();
  assert.equal(site.built, true);
  assert.equal(String(site.respond(get('/')).body), '<!doctype html>v1');

  writeFileSync(join(dir, 'index.html'), '<!doctype html>v2');
  assert.equal(String(site.respond(get('/')).body), '<!doctype html>v1', 'served from memory until reload');
  site.reload();
  assert.equal(String(site.respond(get('/')).body), '<!doctype html>v2');
});

test('a directory without index.html is not a built app', () => {
  const dir = join(root, 'no-index');
  mkdirSync(dir);
  writeFileSync(join(dir, 'other.js'), 'x');
  assert.equal(createStaticSite({ dir, log: silentLogger }).respond(get('/other.js')).status, 503);
});

test('Accept-Encoding q-values pick br, then gzip, else identity', () => {
  const dir = join(root, 'enc');
  mkdirSync(join(dir, 'assets'), { recursive: true });
  writeFileSync(join(dir, 'index.html'), 'i');
  writeFileSync(join(dir, 'assets/a-a1B2c3D4.js'), 'plain');
  writeFileSync(join(dir, 'assets/a-a1B2c3D4.js.br'), 'brotli');
  writeFileSync(join(dir, 'assets/a-a1B2c3D4.js.gz'), 'gzipped');
  const site = createStaticSite({ dir, log: silentLogger });
  const encodingFor = (acceptEncoding: string) => header(site.respond(get('/assets/a-a1B2c3D4.js', { acceptEncoding })).headers, 'Content-Encoding');
  assert.equal(encodingFor(''), undefined);
  assert.equal(encodingFor('gzip, deflate, br'), 'br');
  assert.equal(encodingFor('gzip'), 'gzip');
  assert.equal(encodingFor('br;q=0, gzip;q=0.5'), 'gzip');
  assert.equal(encodingFor('br;q=0, gzip;q=0'), undefined);
  assert.equal(encodingFor('*'), 'br');
  assert.equal(encodingFor('br;q=0, *'), 'gzip');
  assert.equal(encodingFor('identity'), undefined);
  assert.equal(site.respond(get('/assets/a-a1B2c3D4.js.br')).status, 404, 'a sibling is a variant, not a file of its own');
});

test('a page built beside the app answers at its clean URL; other extensionless pages get the app', () => {
  const dir = join(root, 'pages');
  mkdirSync(dir);
  writeFileSync(join(dir, 'index.html'), 'app');
  writeFileSync(join(dir, 'troubleshooting.html'), 'guide');
  const site = createStaticSite({ dir, log: silentLogger });
  const html = { accept: 'text/html' };
  for (const url of ['/troubleshooting', '/troubleshooting.html']) {
    const reply = site.respond(get(url, html));
    assert.equal(String(reply.body), 'guide', url);
    assert.equal(header(reply.headers, 'Cache-Control'), CACHE_NO_CACHE, url);
  }
  assert.equal(String(site.respond(get('/troubleshooting')).body), 'guide', 'whatever the Accept header');
  assert.equal(String(site.respond(get('/sessions', html)).body), 'app');
  assert.equal(String(site.respond(get('/troubleshooting/', html)).body), 'app', 'no directory of that name');
  assert.equal(site.respond(get('/missing')).status, 404);
});
