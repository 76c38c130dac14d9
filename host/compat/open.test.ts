import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '../log.ts';
import { openDeviceRegistry } from '../devices/registry.ts';
import { createMetrics } from '../metrics/metrics.ts';
import { secretMatches } from './credentials.ts';
import { formatComputerCredential } from './computers.ts';
import { createWorkspaceGate } from '../policy/workspaces.ts';
import { createRuntimeFacts } from '../runtime/facts.ts';
import { openCompatHost, type CompatHostOptions } from './open.ts';

function setup(t: { after(fn: () => void): void }, exposure: { bind: string; tls: boolean }) {
  const dataDir = mkdtempSync(join(tmpdir(), 'owr-compat-'));
  const devices = openDeviceRegistry({ dataDir, log: silentLogger });
  const runtime = { target: undefined, onEvent: () => () => {} } as unknown as CompatHostOptions['runtime'];
  const gate = createWorkspaceGate({
    runtime: {
      getSession: async () => ({ directory: '/w' }),
      listPermissions: async () => ({ requests: [], unavailable: [], unseen: [] }),
      listQuestions: async () => ({ requests: [], unavailable: [], unseen: [] }),
    },
    facts: createRuntimeFacts(),
    workspaces: () => ['/w'],
  });
  const compat = openCompatHost({
    ...exposure,
    devices,
    runtime,
    gate,
    permissions: { reply: async () => {} },
    workspaces: ['/w'],
    rulesFor: () => [],
    urls: () => ['https://laptop.local:8787'],
    metrics: createMetrics({ dataDir, enabled: false, log: silentLogger }),
    log: silentLogger,
  });
  t.after(() => {
    compat.close();
    devices.close();
    rmSync(dataDir, { recursive: true, force: true });
  });
  return { compat, devices };
}

test("a computer's credential: listed like a phone, secret shown once and kept only as a hash", (t) => {
  const { compat, devices } = setup(t, { bind: '0.0.0.0', tls: true });
  const made = compat.newComputer('  Work laptop ');
  assert.ok('value' in made);
  const c = made.value;
  assert.equal(c.name, 'Work laptop');
  assert.deepEqual(c.urls, ['https://laptop.local:8787/opencode']);
  const [device] = devices.list();
  assert.equal(device!.id, c.deviceId);
  assert.equal(device!.platform, 'opencode-client');
  assert.equal(device!.publicKey, undefined);
  assert.ok(!JSON.stringify(device).includes(c.secret), 'the secret itself is not stored');
  assert.ok(secretMatches(device!, c.secret));
  const shown = formatComputerCredential(c);
  assert.ok(shown.includes(`opencode attach https://laptop.local:8787/opencode -u ${c.deviceId} -p ${c.secret}`), shown);
  assert.ok(shown.includes(`opencode run --attach https://laptop.local:8787/opencode -u ${c.deviceId} -p ${c.secret} "your task"`));
  assert.deepEqual(compat.newComputer(' '), { status: 400, error: 'give the computer a name: npm start -- pair --computer <name>' });
});

test('on plain HTTP reachable from the network no credential is made: the layer would refuse it anyway', (t) => {
  const { compat, devices } = setup(t, { bind: '0.0.0.0', tls: false });
  const made = compat.newComputer('laptop');
  assert.ok('error' in made);
  assert.equal(made.status, 409);
  assert.match(made.error, /plain HTTP on 0\.0\.0\.0/);
  assert.deepEqual(devices.list(), []);
});
