import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_PERMISSION_TIMEOUT_SECONDS, parseHostPolicy, readHostPolicy } from './config-file.ts';

const FILE = '/data/config.json';
const ALL_ASK = { bash: 'ask', edit: 'ask', webfetch: 'ask', external_directory: 'ask' };

test('no file: every sensitive kind asks, and questions wait 5 minutes', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'owr-policy-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const policy = readHostPolicy(dir);
  assert.equal(policy.path, join(dir, 'config.json'));
  assert.equal(policy.permissionTimeoutSeconds, DEFAULT_PERMISSION_TIMEOUT_SECONDS);
  assert.deepEqual(policy.permissionFor('/any/where'), ALL_ASK);
  assert.deepEqual(policy.workspaces, []);
});

test('a workspace setting beats the top-level one, which beats "ask"; paths are resolved', () => {
  const policy = parseHostPolicy(
    {
      permission: { webfetch: 'allow', bash: 'deny' },
      workspaces: {
        '/home/me/site/': { permission: { bash: { '*': 'ask', 'npm test': 'allow' }, edit: 'allow' } },
        '~/notes': {},
      },
      permissionTimeoutSeconds: 90,
    },
    FILE,
    '/home/me',
  );
  assert.equal(policy.permissionTimeoutSeconds, 90);
  assert.deepEqual(policy.workspaces, ['/home/me/site', '/home/me/notes']);
  assert.deepEqual(policy.permissionFor('/home/me/site'), { bash: { '*': 'ask', 'npm test': 'allow' }, edit: 'allow', webfetch: 'allow', external_directory: 'ask' });
  assert.deepEqual(policy.permissionFor('/home/me/notes'), { bash: 'deny', edit: 'ask', webfetch: 'allow', external_directory: 'ask' });
  assert.deepEqual(policy.permissionFor('/home/me/site/packages/web').edit, 'allow', 'a directory inside a workspace follows it');
  assert.deepEqual(policy.permissionFor('/home/me/sites').edit, 'ask', 'a sibling with a longer name does not');
  assert.deepEqual(policy.permissionFor('/elsewhere'), { bash: 'deny', edit: 'ask', webfetch: 'allow', external_directory: 'ask' });
});

test('every problem is reported at once, naming the file, the key and the fix', () => {
  const bad = {
    permisson: {},
    permissionTimeoutSeconds: 0,
    permission: { bash: 'yes', shell: 'ask', edit: { '*': 'maybe' }, webfetch: {} },
    workspaces: { 'relative/dir': {}, '/ok': { permission: 'ask', extra: 1 } },
  };
  assert.throws(
    () => parseHostPolicy(bad, FILE),
    (err: Error) => {
      const lines = err.message.split('\n');
      assert.equal(lines[0], `${FILE} has 9 problems:`);
      for (const expected of [
        /permisson is not a setting: use "permission", "workspaces", "permissionTimeoutSeconds"/,
        /permissionTimeoutSeconds is 0: give a number of seconds from 1 to 86400/,
        /permission\.bash is "yes": use "ask", "allow" or "deny"/,
        /permission\.shell is not a setting: use "bash", "edit", "webfetch", "external_directory"/,
        /permission\.edit\["\*"\] is "maybe": use "ask", "allow" or "deny"/,
        /permission\.webfetch has 0 patterns/,
        /workspaces\["relative\/dir"\] is not an absolute path/,
        /workspaces\["\/ok"\]\.extra is not a setting/,
        /workspaces\["\/ok"\]\.permission is "ask": give an object such as/,
      ])
        assert.ok(
          lines.some((l) => expected.test(l)),
          `${expected} in\n${err.message}`,
        );
      return true;
    },
  );
  assert.throws(() => parseHostPolicy([], FILE), /the file holds a list, not an object/);
});

test('a file that is not JSON names itself and the way out', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'owr-policy-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'config.json'), '{ "permission": ');
  assert.throws(() => readHostPolicy(dir), new RegExp(`^Error: ${join(dir, 'config.json')} is not valid JSON \\(.*\\): fix the syntax, or move the file away`));
});
