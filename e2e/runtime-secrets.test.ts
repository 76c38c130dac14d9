/**
 * The runtime's password stays out of what the agent runs and of what devices receive, with the
 * real host and runtime (one for the file; the fake model makes the agent run shell commands):
 *
 * - a command printing its environment shows no credential for the runtime, on the device and in
 *   what the runtime keeps on disk (its database and WAL included), and the runtime still refuses
 *   requests without the password afterwards;
 * - the runtime's files and directories are private (0600 / 0700);
 * - a command that digs the password out of the runtime's /proc/<pid>/environ (possible for any
 *   process of the same user) gets it to the device only as `[redacted]`.
 */
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateKeyPair } from '../shared/noise/primitives.ts';
import { parsePairLink } from '../shared/pairing/link.ts';
import { offerFromLink, pair, type RelayChannel } from '../shared/channel/client.ts';
import { SCOPES } from '../shared/protocol/messages.ts';
import { startHost, type Host } from '../host/app.ts';
import { parseConfig } from '../host/config.ts';
import { REDACTED, runtimeSecrets } from '../host/runtime/redact.ts';
import { openSocket } from '../test-support/relay-client.ts';
import { createRuntimeSandbox, testLogger, type RuntimeSandbox } from './fixtures/runtime.ts';
import { fileCleanup } from './fixtures/cleanup.ts';
import { nextApproval } from './fixtures/approvals.ts';
import { collectEvents } from './fixtures/event-collector.ts';

const REAL = { timeout: 120_000 };
const { cleanups, tempDir } = fileCleanup('relay-secrets-');

let sb: RuntimeSandbox;
let host: Host;
let channel: RelayChannel;
let device: ReturnType<typeof collectEvents>;
let password: string;

before(async () => {
  sb = await createRuntimeSandbox();
  cleanups.push(() => sb.dispose());
  const dataDir = tempDir();
  // The agent's commands run without asking: this file is about what they can see.
  writeFileSync(join(dataDir, 'config.json'), JSON.stringify({ permission: { bash: 'allow' } }));
  const parsed = parseConfig(['--port', '0', '--bind', '127.0.0.1', '--data-dir', dataDir, '--workspace', sb.workspace], {});
  if (!parsed.ok) throw new Error(parsed.errors.join('\n'));
  host = await startHost({ config: parsed.config, log: testLogger(), runtimeEnv: sb.env });
  cleanups.push(() => host.close());
  await host.runtime.ready;
  await host.runtime.bridge.subscribed();
  password = host.runtime.supervisor.password!;
  assert.ok(password, 'the host started its runtime with a password');

  device = collectEvents();
  const pending = await pair({
    socket: await openSocket(`ws://127.0.0.1:${host.port}/relay`),
    offer: offerFromLink(parsePairLink(host.relay.newOffer().link)),
    deviceKey: generateKeyPair(),
    name: 'reader',
    platform: 'node-test',
    onEvent: device.onEvent,
  });
  host.relay.approvals.approve((await nextApproval(host.relay.approvals)).id, SCOPES);
  channel = await pending.approved;
  cleanups.push(() => channel.close());
});

/** Runs `command` through the agent's bash tool in a new session; resolves with the output the device received. */
async function agentRuns(command: string, taskId: string): Promise<string> {
  const session = await channel.request({ t: 'session.create', title: taskId });
  await channel.request({ t: 'task.submit', taskId, sessionId: session.sessionId, text: `run [bash:${command}]` });
  const done = await device.waitFor('tool.updated', (e) => e.sessionId === session.sessionId && e.status === 'completed');
  await device.waitFor('session.idle', (e) => e.sessionId === session.sessionId);
  return done.output ?? '';
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' }).map((f) => join(dir, f));
}

/** What the runtime made: everything inside its data, state and cache directories (the sandbox made those three). */
function runtimeFiles(): string[] {
  return ['data', 'state', 'cache'].flatMap((d) => filesUnder(join(sb.root, d)));
}

test('a command printing its environment shows no runtime credential, on the device or on disk', REAL, async () => {
  const output = await agentRuns('env', 'env-1');
  assert.match(output, /^HOME=/m, 'the command printed its environment');
  assert.doesNotMatch(output, /OPENCODE_SERVER_PASSWORD/);
  for (const secret of runtimeSecrets(password)) assert.ok(!output.includes(secret), 'no credential in the output the device got');

  const stored = runtimeFiles().filter((f) => statSync(f).isFile());
  assert.ok(
    stored.some((f) => /\.db-wal$/.test(f)),
    `the runtime keeps a WAL (files: ${stored.join(', ')})`,
  );
  for (const file of stored) {
    const bytes = readFileSync(file);
    for (const secret of runtimeSecrets(password)) assert.equal(bytes.indexOf(secret), -1, `${file} holds no runtime credential`);
  }

  const url = host.runtime.supervisor.state.url!;
  for (const route of ['/config', '/pty']) {
    assert.equal((await fetch(url + route)).status, 401, `${route} still needs the password`);
  }
});

test('what the runtime creates is private: files 0600, directories 0700', REAL, async () => {
  const made = runtimeFiles();
  assert.ok(made.length > 0);
  const open = made.filter((f) => (statSync(f).mode & 0o077) !== 0).map((f) => `${f} ${(statSync(f).mode & 0o777).toString(8)}`);
  assert.deepEqual(open, []);
});

test("a password read from the runtime's /proc environ reaches the device only as [redacted]", REAL, async () => {
  const output = await agentRuns(`tr '\\0' '\\n' < /proc/$PPID/environ`, 'environ-1');
  assert.match(output, new RegExp(`^OPENCODE_SERVER_PASSWORD=${REDACTED.replace(/[[\]]/g, '\\$&')}$`, 'm'), 'the line is there, the value redacted');
  assert.ok(!output.includes(password));
});
