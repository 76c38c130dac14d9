import { test, after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createNetns, netnsUnavailable, type Netns } from '../../test-support/netns.ts';
import { silentLogger } from '../log.ts';
import { createHttpServer, type HttpServer } from '../server/http.ts';
import { loadUws } from '../uws/load.ts';
import { createMetrics, type Metrics } from './metrics.ts';
import { mountMetricsRoute } from './routes.ts';
import { parseExposition } from '../../test-support/prometheus.ts';

const { uws } = loadUws();
const root = mkdtempSync(join(tmpdir(), 'openwork-metrics-route-'));
const servers: HttpServer[] = [];
const stores: Metrics[] = [];
after(() => {
  for (const s of servers) s.close();
  for (const m of stores) m.close();
  rmSync(root, { recursive: true, force: true });
});

async function start(enabled: boolean, host = '127.0.0.1') {
  const metrics = createMetrics({ dataDir: join(root, `data-${stores.length}`), enabled, log: silentLogger });
  stores.push(metrics);
  // The host's own server, so the static site's catch-all route is there too.
  const server = createHttpServer({ uws, staticDir: join(root, 'no-dist'), getHealth: () => ({}), log: silentLogger });
  servers.push(server);
  mountMetricsRoute(server.app, metrics);
  const { port } = await server.listen(host, 0);
  return { metrics, port };
}

function get(port: number, opts: { host?: string; method?: string; headers?: Record<string, string> } = {}) {
  return new Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }>((resolve, reject) => {
    const req = request({ host: opts.host ?? '127.0.0.1', port, path: '/metrics', method: opts.method ?? 'GET', headers: opts.headers, agent: false }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject).end();
  });
}

test('GET /metrics from 127.0.0.1 answers Prometheus text 0.0.4 that parses', async () => {
  const { metrics, port } = await start(true);
  metrics.inc('tasks_failed_total', { reason: 'runtime.error' });
  metrics.gauge('open_connections', () => 4);
  const res = await get(port);
  assert.equal(res.status, 200);
  assert.equal(res.headers['content-type'], 'text/plain; version=0.0.4; charset=utf-8');
  assert.equal(res.headers['cache-control'], 'no-store');
  assert.equal(res.headers['x-content-type-options'], 'nosniff', 'the usual security headers are there');
  const families = parseExposition(res.body);
  assert.deepEqual(families.get('openwork_tasks_failed_total')?.samples, [{ name: 'openwork_tasks_failed_total', labels: { reason: 'runtime.error' }, value: 1 }]);
  assert.equal(families.get('openwork_open_connections')?.samples[0]?.value, 4);

  const head = await get(port, { method: 'HEAD' });
  assert.equal(head.status, 200);
  assert.equal(head.body, '');
  assert.equal((await get(port, { method: 'POST' })).status, 405);
});

test('refused when it only looks local: forwarded by a proxy, or a Host that is not loopback (DNS rebinding)', async () => {
  const { port } = await start(true);
  const forged: Array<Record<string, string>> = [
    { 'X-Forwarded-For': '203.0.113.9' },
    { Forwarded: 'for=203.0.113.9' },
    { 'X-Real-IP': '203.0.113.9' },
    { 'X-Forwarded-Host': 'tunnel.example' },
    { Host: 'rebound.example.com' },
  ];
  for (const headers of forged) {
    const res = await get(port, { headers });
    assert.equal(res.status, 403, JSON.stringify(headers));
    assert.doesNotMatch(res.body, /openwork_/);
  }
  assert.equal((await get(port, { headers: { Host: `localhost:${port}` } })).status, 200);
});

test('with --no-metrics the route says metrics are off', async () => {
  const { port } = await start(false);
  const res = await get(port);
  assert.equal(res.status, 404);
  assert.match(res.body, /--no-metrics/);
});

test('over IPv6 loopback (::1) it answers too', { skip: !(await canListenOn('::1')) && 'no IPv6 loopback here' }, async () => {
  const { port } = await start(true, '::1');
  assert.equal((await get(port, { host: '::1' })).status, 200);
});

const unavailable = netnsUnavailable();
describe('from a non-loopback address (inside a private network namespace)', { skip: unavailable, timeout: 60_000 }, () => {
  let ns: Netns | undefined;
  before(() => (ns = createNetns('metrics')));
  after(() => ns?.remove());
  it('is refused with 403, while loopback in the same namespace is served', () => {
    const r = ns!.runNode(fileURLToPath(new URL('../../test-support/metrics-route-child.ts', import.meta.url)), [], 30_000);
    assert.equal(r.status, 0, r.stderr);
    const result = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as Record<'loopback' | 'lan', { status: number; body: string }>;
    assert.equal(result.loopback.status, 200);
    assert.match(result.loopback.body, /^# HELP openwork_/m);
    assert.equal(result.lan.status, 403);
    assert.match(result.lan.body, /does not come from this machine/);
    assert.doesNotMatch(result.lan.body, /openwork_/);
  });
});

async function canListenOn(host: string): Promise<boolean> {
  const { createServer } = await import('node:net');
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(0, host, () => s.close(() => resolve(true)));
  });
}
