import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { helpText, parseConfig, type Config } from './config.ts';

let root: string;
let home: string;
let cwd: string;
let projA: string;
let projB: string;
let aFile: string;
let cert: string;
let key: string;

before(() => {
  root = mkdtempSync(join(tmpdir(), 'openwork-config-'));
  home = join(root, 'home');
  cwd = join(root, 'cwd');
  projA = join(root, 'a');
  projB = join(root, 'b');
  for (const dir of [home, cwd, projA, projB]) mkdirSync(dir);
  aFile = join(root, 'file.txt');
  cert = join(root, 'cert.pem');
  key = join(root, 'key.pem');
  for (const file of [aFile, cert, key]) writeFileSync(file, 'x');
});
after(() => rmSync(root, { recursive: true, force: true }));

function ok(argv: string[], env: Record<string, string | undefined> = {}): Config {
  const result = parseConfig(argv, env, { cwd, home });
  if (!result.ok) assert.fail(`expected a valid configuration, got:\n${result.errors.join('\n')}`);
  return result.config;
}

function errors(argv: string[], env: Record<string, string | undefined> = {}): string[] {
  const result = parseConfig(argv, env, { cwd, home });
  if (result.ok) assert.fail(`expected errors, got ${JSON.stringify(result.config)}`);
  return result.errors;
}

/** Exactly one error, matching every pattern. */
function oneError(argv: string[], env: Record<string, string | undefined>, ...patterns: RegExp[]): void {
  const errs = errors(argv, env);
  assert.equal(errs.length, 1, errs.join('\n'));
  for (const p of patterns) assert.match(errs[0]!, p);
}

test('defaults', () => {
  const c = ok([]);
  assert.deepEqual(c, {
    command: { name: 'start' },
    port: 8787,
    bind: '0.0.0.0',
    workspaces: [cwd],
    dataDir: join(home, '.openwork-relay'),
    logFormat: 'text',
    logLevel: 'info',
    metrics: true,
  });
});

test('every option from flags', () => {
  const c = ok([
    '--port',
    '9000',
    '--bind',
    '127.0.0.1',
    '--workspace',
    projA,
    '--workspace',
    projB,
    '--data-dir',
    join(root, 'data'),
    '--opencode-url',
    'http://127.0.0.1:4096',
    '--tls-cert',
    cert,
    '--tls-key',
    key,
    '--log-format',
    'json',
    '--log-level',
    'debug',
    '--public-url',
    'https://laptop.local:9000',
  ]);
  assert.deepEqual(c, {
    command: { name: 'start' },
    port: 9000,
    bind: '127.0.0.1',
    workspaces: [projA, projB],
    dataDir: join(root, 'data'),
    opencodeUrl: 'http://127.0.0.1:4096/',
    tls: { cert, key },
    logFormat: 'json',
    logLevel: 'debug',
    metrics: true,
    publicUrl: 'https://laptop.local:9000/',
  });
});

test('every option from the environment', () => {
  const c = ok([], {
    OPENWORK_PORT: '9001',
    OPENWORK_BIND: '::1',
    OPENWORK_WORKSPACE: [projA, projB].join(delimiter),
    OPENWORK_DATA_DIR: join(root, 'data'),
    OPENWORK_OPENCODE_URL: 'https://opencode.test',
    OPENWORK_TLS_CERT: cert,
    OPENWORK_TLS_KEY: key,
    OPENWORK_LOG_FORMAT: 'json',
    OPENWORK_LOG_LEVEL: 'warn',
    OPENWORK_PUBLIC_URL: 'http://10.0.0.2:9001',
  });
  assert.equal(c.port, 9001);
  assert.equal(c.bind, '::1');
  assert.deepEqual(c.workspaces, [projA, projB]);
  assert.equal(c.dataDir, join(root, 'data'));
  assert.equal(c.opencodeUrl, 'https://opencode.test/');
  assert.deepEqual(c.tls, { cert, key });
  assert.equal(c.logFormat, 'json');
  assert.equal(c.logLevel, 'warn');
  assert.equal(c.publicUrl, 'http://10.0.0.2:9001/');
});

test('precedence: a flag beats the variable, which beats the default', () => {
  assert.equal(ok(['--port', '1111'], { OPENWORK_PORT: '2222' }).port, 1111);
  assert.equal(ok([], { OPENWORK_PORT: '2222' }).port, 2222);
  assert.equal(ok([]).port, 8787);
  assert.equal(ok(['--log-level=error'], { OPENWORK_LOG_LEVEL: 'debug' }).logLevel, 'error');
  assert.equal(ok(['--bind', 'localhost'], { OPENWORK_BIND: '127.0.0.1' }).bind, 'localhost');
  assert.deepEqual(ok(['--workspace', projB], { OPENWORK_WORKSPACE: projA }).workspaces, [projB]);
  assert.deepEqual(ok([], { OPENWORK_WORKSPACE: projA }).workspaces, [projA]);
});

test('an empty variable counts as unset, and a bad variable is ignored when the flag is given', () => {
  assert.equal(ok([], { OPENWORK_PORT: '' }).port, 8787);
  assert.equal(ok(['--port', '1234'], { OPENWORK_PORT: 'junk' }).port, 1234);
});

test('--name=value, the last of a repeated flag wins, and 0 asks for any free port', () => {
  assert.equal(ok(['--port=4000']).port, 4000);
  assert.equal(ok(['--port', '4000', '--port', '4001']).port, 4001);
  assert.equal(ok(['--port', '0']).port, 0);
});

test('workspaces are resolved against cwd, ~ expands to home, duplicates are dropped', () => {
  mkdirSync(join(cwd, 'rel'), { recursive: true });
  mkdirSync(join(home, 'proj'), { recursive: true });
  assert.deepEqual(ok(['--workspace', 'rel', '--workspace', '~/proj', '--workspace', join(cwd, 'rel')]).workspaces, [join(cwd, 'rel'), join(home, 'proj')]);
  assert.deepEqual(ok([], { OPENWORK_WORKSPACE: `${delimiter}${projA}${delimiter}` }).workspaces, [projA]);
});

test('bad port values', () => {
  for (const bad of ['abc', '70000', '-1', '1.5', '80a', '']) {
    oneError([`--port=${bad}`], {}, new RegExp(`^--port "${bad}" is not a port number`), /use an integer from 1 to 65535/, /env OPENWORK_PORT/);
  }
  oneError([], { OPENWORK_PORT: 'abc' }, /^OPENWORK_PORT "abc" is not a port number: use an integer from 1 to 65535/, /flag --port/);
});

test('bad bind address', () => {
  for (const bad of ['bad host', '-leading.example', '999.1.1.1.1.', '[::1]']) {
    oneError(['--bind', bad], {}, /is not an IP address or host name/, /use e\.g\. 0\.0\.0\.0/, /env OPENWORK_BIND/);
  }
  oneError([], { OPENWORK_BIND: 'a_b' }, /^OPENWORK_BIND "a_b"/, /flag --bind/);
});

test('bad workspaces: missing, a file; each reported', () => {
  const errs = errors(['--workspace', join(root, 'missing'), '--workspace', aFile]);
  assert.equal(errs.length, 2);
  assert.match(errs[0]!, /^--workspace ".*missing" does not exist: give an existing project directory \(env OPENWORK_WORKSPACE\)$/);
  assert.match(errs[1]!, /^--workspace ".*file\.txt" is not a directory: give the project directory/);
  oneError([], { OPENWORK_WORKSPACE: 'nope' }, /^OPENWORK_WORKSPACE "nope" does not exist \(.*cwd\/nope\)/, /flag --workspace/);
});

test('the data directory must not be an existing file', () => {
  oneError(['--data-dir', aFile], {}, /^--data-dir ".*file\.txt" is a file, not a directory/, /env OPENWORK_DATA_DIR/);
  oneError([], { OPENWORK_DATA_DIR: aFile }, /^OPENWORK_DATA_DIR/, /flag --data-dir/);
  writeFileSync(join(home, '.openwork-relay'), 'oops');
  try {
    oneError([], {}, /default data directory .* is a file/, /--data-dir DIR \(env OPENWORK_DATA_DIR\)/);
  } finally {
    rmSync(join(home, '.openwork-relay'));
  }
});

test('URLs must be http or https', () => {
  oneError(['--opencode-url', 'ftp://x'], {}, /^--opencode-url "ftp:\/\/x" is not an http:\/\/ or https:\/\/ URL/, /env OPENWORK_OPENCODE_URL/);
  oneError(['--opencode-url', 'localhost 4096'], {}, /is not a URL: give a full address, e\.g\. http:\/\/127\.0\.0\.1:4096/);
  oneError([], { OPENWORK_PUBLIC_URL: 'javascript:alert(1)' }, /^OPENWORK_PUBLIC_URL .* is not an http/, /flag --public-url/);
  oneError(['--public-url', 'laptop.local'], {}, /^--public-url "laptop\.local" is not a URL/, /env OPENWORK_PUBLIC_URL/);
});

test('TLS needs both files, each an existing readable file', () => {
  oneError(['--tls-cert', cert], {}, /^--tls-cert \(env OPENWORK_TLS_CERT\) was given without --tls-key \(env OPENWORK_TLS_KEY\): give both or neither/);
  oneError([], { OPENWORK_TLS_KEY: key }, /^--tls-key \(env OPENWORK_TLS_KEY\) was given without --tls-cert/, /tls setup/);
  oneError(['--tls-cert', join(root, 'none.pem'), '--tls-key', key], {}, /^--tls-cert ".*none\.pem" does not exist/, /tls setup/, /env OPENWORK_TLS_CERT/);
  oneError(['--tls-cert', cert, '--tls-key', root], {}, /^--tls-key ".*" is not a file/, /env OPENWORK_TLS_KEY/);
});

test('an unreadable TLS key is reported', { skip: process.getuid?.() === 0 ? 'root can read any file' : false }, () => {
  const locked = join(root, 'locked.pem');
  writeFileSync(locked, 'x');
  chmodSync(locked, 0o000);
  oneError(['--tls-cert', cert, '--tls-key', locked], {}, /^--tls-key ".*locked\.pem" cannot be read: fix its permissions/, /env OPENWORK_TLS_KEY/);
});

test('log format and level must be known values', () => {
  oneError(['--log-format', 'xml'], {}, /^--log-format "xml" is not allowed: use one of text, json \(env OPENWORK_LOG_FORMAT\)$/);
  oneError([], { OPENWORK_LOG_LEVEL: 'loud' }, /^OPENWORK_LOG_LEVEL "loud" is not allowed: use one of debug, info, warn, error \(flag --log-level\)$/);
});

test('unknown options, missing values and values on switches', () => {
  oneError(['--prot', '80'], {}, /^unknown option --prot: run npm start -- --help$/);
  oneError(['-x'], {}, /^unknown option -x/);
  assert.equal(errors(['--prot', 'pair']).length, 1, 'a command after an unknown option is still a command');
  oneError(['--port'], {}, /^--port needs a value, e\.g\. --port N \(env OPENWORK_PORT\)$/);
  oneError(['--bind', '--port', '1'], {}, /^--bind needs a value/);
  oneError(['--version=2'], {}, /^--version takes no value: run npm start -- --help$/);
});

test('commands', () => {
  assert.deepEqual(ok(['start']).command, { name: 'start' });
  assert.deepEqual(ok(['pair']).command, { name: 'pair' });
  assert.deepEqual(ok(['admin']).command, { name: 'admin' });
  assert.deepEqual(ok(['devices', '--log-level', 'debug']).command, { name: 'devices' });
  assert.deepEqual(ok(['revoke', 'phone-1']).command, { name: 'revoke', device: 'phone-1' });
  assert.deepEqual(ok(['devices', 'scopes', 'phone-1', 'read,run']).command, { name: 'device-scopes', device: 'phone-1', scopes: ['read,run'] });
  assert.deepEqual(ok(['devices', 'workspaces', 'phone-1', 'all']).command, { name: 'device-workspaces', device: 'phone-1', workspaces: 'all' });
  assert.deepEqual(ok(['devices', 'workspaces', 'phone-1', '/a', 'b']).command.name, 'device-workspaces');
  assert.deepEqual(ok(['tls', 'setup']).command, { name: 'tls-setup' });
});

test('bad commands', () => {
  oneError(['serve'], {}, /^unknown command "serve": run npm start -- --help$/);
  oneError(['revoke'], {}, /^revoke needs the device to remove: run npm start -- devices/);
  oneError(['devices', 'scopes', 'phone-1'], {}, /^devices scopes needs the device and its scopes, e\.g\./);
  oneError(['devices', 'workspaces'], {}, /^devices workspaces needs the device and its workspaces/);
  oneError(['devices', 'rename', 'x'], {}, /^unknown command "devices rename": use devices, devices scopes/);
  oneError(['tls'], {}, /^unknown command "tls": did you mean "tls setup"\?/);
  oneError(['tls', 'make'], {}, /^unknown command "tls make"/);
  oneError(['pair', 'extra'], {}, /^unexpected argument "extra" after "pair": run npm start -- --help$/);
  oneError(['admin', 'open'], {}, /^unexpected argument "open" after "admin"/);
  oneError(['revoke', 'a', 'b'], {}, /^unexpected argument "b" after "revoke"/);
});

test('all problems are reported together', () => {
  const errs = errors(['--port', 'x', '--bind', 'b c', '--log-format', 'xml'], { OPENWORK_LOG_LEVEL: 'loud' });
  assert.equal(errs.length, 4);
});

test('--help and --version work even when the rest is broken', () => {
  assert.deepEqual(ok(['--port', 'x', '--help']).command, { name: 'help' });
  assert.deepEqual(ok(['-h'], { OPENWORK_PORT: 'x' }).command, { name: 'help' });
  assert.deepEqual(ok(['--version', 'bogus']).command, { name: 'version' });
  assert.deepEqual(ok(['-v']).command, { name: 'version' });
});

test('help documents every option with its variable and default, and every command', () => {
  const text = helpText();
  const options: [string, string, string][] = [
    ['--port', 'OPENWORK_PORT', '8787'],
    ['--bind', 'OPENWORK_BIND', '0.0.0.0'],
    ['--workspace', 'OPENWORK_WORKSPACE', 'the current directory'],
    ['--data-dir', 'OPENWORK_DATA_DIR', '~/.openwork-relay'],
    ['--opencode-url', 'OPENWORK_OPENCODE_URL', 'start one'],
    ['--tls-cert', 'OPENWORK_TLS_CERT', 'plain HTTP'],
    ['--tls-key', 'OPENWORK_TLS_KEY', 'plain HTTP'],
    ['--log-format', 'OPENWORK_LOG_FORMAT', 'text'],
    ['--log-level', 'OPENWORK_LOG_LEVEL', 'info'],
    ['--public-url', 'OPENWORK_PUBLIC_URL', 'derived from --bind and --port'],
  ];
  for (const [flag, env, def] of options) {
    const at = text.indexOf(`  ${flag} `);
    assert.ok(at >= 0, `${flag} is documented`);
    const entry = text.slice(at, text.indexOf('\n', text.indexOf('\n', at) + 1));
    assert.ok(entry.includes(`env ${env}; default: ${def}`), `${flag} names ${env} and its default:\n${entry}`);
  }
  for (const word of ['--help', '--version', 'start', 'pair', 'admin', 'devices', 'revoke <device>', 'tls setup']) assert.ok(text.includes(word), word);
});

test('--no-metrics and OPENWORK_NO_METRICS turn metrics off; a bad variable value is named', () => {
  const on = parseConfig([], {}, { cwd: process.cwd() });
  assert.ok(on.ok && on.config.metrics);
  const flag = parseConfig(['--no-metrics'], {}, { cwd: process.cwd() });
  assert.ok(flag.ok && !flag.config.metrics);
  const env = parseConfig([], { OPENWORK_NO_METRICS: '1' }, { cwd: process.cwd() });
  assert.ok(env.ok && !env.config.metrics);
  const bad = parseConfig([], { OPENWORK_NO_METRICS: 'maybe' }, { cwd: process.cwd() });
  assert.ok(!bad.ok);
  assert.match(bad.errors.join('\n'), /OPENWORK_NO_METRICS "maybe" is not allowed: use 1 or true.*flag --no-metrics/);
  const value = parseConfig(['--no-metrics=yes'], {}, { cwd: process.cwd() });
  assert.ok(!value.ok && /--no-metrics takes no value/.test(value.errors[0]!));
});

test('service install is a command; service alone names the fix', () => {
  const r = parseConfig(['service', 'install'], {}, { cwd: process.cwd() });
  assert.ok(r.ok && r.config.command.name === 'service-install');
  const bad = parseConfig(['service'], {}, { cwd: process.cwd() });
  assert.ok(!bad.ok && /did you mean "service install"/.test(bad.errors[0]!));
});

test('node parseArgs conventions: -- ends the options, short switches combine, a mistyped group is one error', () => {
  assert.deepEqual(ok(['--', 'pair']).command, { name: 'pair' });
  assert.deepEqual(ok(['-vh']).command, { name: 'help' });
  oneError(['-xyz'], {}, /^unknown option -xyz: run npm start -- --help$/);
});

test("pair --computer <name> asks for a credential for OpenCode's own clients; the option goes with pair only", () => {
  assert.deepEqual(ok(['pair', '--computer', 'my laptop']).command, { name: 'pair-computer', computer: 'my laptop' });
  assert.deepEqual(ok(['pair', '--computer=work']).command, { name: 'pair-computer', computer: 'work' });
  oneError(['pair', '--computer'], {}, /^--computer needs a value, e\.g\. pair --computer NAME$/);
  oneError(['devices', '--computer', 'x'], {}, /^--computer goes with the pair command: npm start -- pair --computer NAME$/);
});
