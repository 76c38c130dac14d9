import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { installService, servicePath, shellQuote } from './install.ts';
import { launchdPlist } from './launchd.ts';
import { checkSpec, commandLine, serviceEnvironment, type ServiceSpec } from './spec.ts';
import { systemdUnit } from './systemd.ts';

const root = mkdtempSync(join(tmpdir(), 'openwork service '));
after(() => rmSync(root, { recursive: true, force: true }));

/** Paths with spaces, quotes and the characters each format treats specially. */
const TRICKY: ServiceSpec = {
  nodePath: '/opt/node js/bin/node',
  projectDir: "/home/ann o'neil/my projects/openwork relay",
  args: ['--public-url', 'https://relay.example/$HOME/%h/"q"/\\back', '--log-format', 'text', '--no-metrics'],
  env: { PATH: '/usr/local/bin:/usr/bin:/home/ann/my bin', OPENWORK_DATA_DIR: '/home/ann/data & <stuff> 100%', OPENWORK_BIND: '0.0.0.0' },
};

test('the command line ends in JSON logs, whatever --log-format was given', () => {
  const line = commandLine(TRICKY);
  assert.deepEqual(line, [
    '/opt/node js/bin/node',
    "/home/ann o'neil/my projects/openwork relay/scripts/start.mjs",
    '--public-url',
    'https://relay.example/$HOME/%h/"q"/\\back',
    '--no-metrics',
    '--log-format',
    'json',
  ]);
  assert.deepEqual(commandLine({ ...TRICKY, args: ['--log-format=text'] }).slice(2), ['--log-format', 'json']);
});

test('systemd unit: the settings a user service needs', () => {
  const unit = systemdUnit(TRICKY);
  const settings = parseUnit(unit);
  assert.deepEqual(Object.keys(settings), ['Unit', 'Service', 'Install']);
  assert.equal(settings.Service!.Restart?.[0], 'on-failure');
  assert.equal(settings.Install!.WantedBy?.[0], 'default.target');
  assert.equal(settings.Service!.WorkingDirectory?.[0], "/home/ann o'neil/my projects/openwork relay");
  assert.equal(settings.Service!.ExecStart?.length, 1);
});

test('systemd unit: ExecStart and Environment read back exactly as given (spaces, quotes, $, %, backslash)', () => {
  const settings = parseUnit(systemdUnit(TRICKY));
  assert.deepEqual(splitExecStart(settings.Service!.ExecStart![0]!), commandLine(TRICKY));
  const env = Object.fromEntries(settings.Service!.Environment!.map((e) => splitExecStart(e, false)[0]!.split(/=(.*)/s).slice(0, 2)));
  assert.deepEqual(env, TRICKY.env);
});

test('systemd unit: systemd itself accepts the file', { skip: !hasCommand('systemd-analyze') && 'systemd-analyze is not installed' }, () => {
  const dir = join(root, 'verify here');
  mkdirSync(dir, { recursive: true });
  const node = join(dir, 'node binary');
  symlinkSync(process.execPath, node);
  const file = join(dir, 'openwork-relay.service');
  writeFileSync(file, systemdUnit({ ...TRICKY, nodePath: node, projectDir: dir }));
  const r = spawnSync('systemd-analyze', ['verify', '--man=no', file], { encoding: 'utf8', cwd: dir });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stderr.trim(), '', 'no warnings');
});

test('launchd plist: well-formed XML with the arguments, environment and restart policy', () => {
  const text = launchdPlist({ ...TRICKY, home: '/Users/ann o neil' });
  const plist = parsePlist(text);
  assert.equal(plist.Label, 'dev.openwork.relay');
  assert.deepEqual(plist.ProgramArguments, commandLine(TRICKY));
  assert.equal(plist.WorkingDirectory, TRICKY.projectDir);
  assert.deepEqual(plist.EnvironmentVariables, TRICKY.env);
  assert.equal(plist.RunAtLoad, true);
  assert.deepEqual(plist.KeepAlive, { SuccessfulExit: false });
  assert.equal(plist.StandardErrorPath, '/Users/ann o neil/Library/Logs/openwork-relay.log');
});

test('launchd plist: a real plist parser reads the same', { skip: !hasCommand('python3') && 'python3 is not installed' }, () => {
  const text = launchdPlist({ ...TRICKY, home: '/Users/ann' });
  const r = spawnSync('python3', ['-c', 'import json,plistlib,sys; print(json.dumps(plistlib.loads(sys.stdin.buffer.read())))'], { input: text, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), parsePlist(text));
});

test('values neither format can hold are refused, naming the field', () => {
  assert.throws(() => systemdUnit({ ...TRICKY, nodePath: 'node' }), /nodePath must be absolute/);
  assert.throws(() => systemdUnit({ ...TRICKY, projectDir: './here' }), /projectDir must be absolute/);
  assert.throws(() => launchdPlist({ ...TRICKY, home: '/h', args: ['a\nExecStartPre=/bin/evil'] }), /args\[0\] contains a line break/);
  assert.throws(() => checkSpec({ ...TRICKY, env: { 'BAD NAME': 'x' } }), TypeError);
  assert.throws(() => checkSpec({ ...TRICKY, env: { OK: 'x\u0001y' } }), /env\.OK/);
});

test('serviceEnvironment: options become OPENWORK_* variables plus PATH, never credentials', () => {
  const { env, args } = serviceEnvironment(
    { port: 9000, bind: '0.0.0.0', workspaces: ['/w/one', '/w/two'], dataDir: '/d', publicUrl: 'https://h.example', tls: { cert: '/c.pem', key: '/k.pem' }, logLevel: 'debug' },
    { PATH: '/usr/bin', ANTHROPIC_API_KEY: 'sk-secret', OPENAI_API_KEY: 'sk-other' },
  );
  assert.deepEqual(env, {
    OPENWORK_PORT: '9000',
    OPENWORK_BIND: '0.0.0.0',
    OPENWORK_DATA_DIR: '/d',
    OPENWORK_WORKSPACE: `/w/one${delimiter}/w/two`,
    OPENWORK_TLS_CERT: '/c.pem',
    OPENWORK_TLS_KEY: '/k.pem',
    OPENWORK_LOG_LEVEL: 'debug',
    OPENWORK_PUBLIC_URL: 'https://h.example',
    PATH: '/usr/bin',
  });
  assert.deepEqual(args, []);
  assert.doesNotMatch(JSON.stringify(env), /sk-/);

  const odd = serviceEnvironment({ port: 1, bind: '::', workspaces: ['/a', `/b${delimiter}c`], dataDir: '/d' }, {});
  assert.equal(odd.env.OPENWORK_WORKSPACE, undefined);
  assert.deepEqual(odd.args, ['--workspace', '/a', '--workspace', `/b${delimiter}c`]);
});

test('installService on Linux writes the user unit and returns the commands to run, running none', () => {
  const home = join(root, 'home linux');
  const spec = { ...TRICKY, home, platform: 'linux' as const };
  const first = installService(spec);
  assert.equal(first.path, join(home, '.config/systemd/user/openwork-relay.service'));
  assert.equal(first.manager, 'systemd');
  assert.equal(first.replaced, false);
  assert.equal(readFileSync(first.path, 'utf8'), systemdUnit(TRICKY));
  assert.equal(statSync(first.path).mode & 0o777, 0o644);
  assert.deepEqual(first.commands, ['systemctl --user daemon-reload && systemctl --user enable --now openwork-relay']);
  const again = installService({ ...spec, args: ['--no-metrics'] });
  assert.equal(again.replaced, true);
  assert.deepEqual(again.commands.at(-1), 'systemctl --user restart openwork-relay', 'a running service picks up the new options');
  assert.match(readFileSync(first.path, 'utf8'), /start\.mjs" --no-metrics --log-format json/);
});

test('installService on macOS writes the launch agent; paths in commands are shell-quoted', () => {
  const home = join(root, "home mac's");
  const r = installService({ ...TRICKY, home, platform: 'darwin' });
  assert.equal(r.path, join(home, 'Library/LaunchAgents/dev.openwork.relay.plist'));
  assert.equal(r.manager, 'launchd');
  assert.equal(parsePlist(readFileSync(r.path, 'utf8')).Label, 'dev.openwork.relay');
  assert.deepEqual(r.commands, [`launchctl load -w '${home.replace(/'/g, `'\\''`)}/Library/LaunchAgents/dev.openwork.relay.plist'`]);
  assert.deepEqual(installService({ ...TRICKY, home, platform: 'darwin' }).commands.length, 2, 'unload the old agent first');
  assert.throws(() => installService({ ...TRICKY, home, platform: 'win32' }), /Linux \(systemd\) and macOS \(launchd\), not on win32/);
  assert.throws(() => servicePath('freebsd', home), /not on freebsd/);
});

test('shellQuote round-trips through a real shell', () => {
  for (const word of ['plain/path', "it's here", 'a b', '$HOME', '"q"', 'back\\slash', '*']) {
    const r = spawnSync('/bin/sh', ['-c', `printf %s ${shellQuote(word)}`], { encoding: 'utf8' });
    assert.equal(r.stdout, word);
  }
});

// ---- readers written for these tests: they follow the formats' rules, not the generators' code ----

function hasCommand(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

/** systemd unit file → section → key → values, in order (systemd.syntax(7); no line continuations used). */
function parseUnit(text: string): Record<string, Record<string, string[]>> {
  const out: Record<string, Record<string, string[]>> = {};
  let section: Record<string, string[]> | undefined;
  for (const line of text.split('\n')) {
    if (!line.trim() || /^[#;]/.test(line)) continue;
    const head = /^\[([^\]]+)\]$/.exec(line);
    if (head) {
      out[head[1]!] = section = {};
      continue;
    }
    const kv = /^([A-Za-z]+)=(.*)$/.exec(line);
    assert.ok(kv && section, `not a setting inside a section: ${line}`);
    (section[kv[1]!] ??= []).push(kv[2]!);
  }
  return out;
}

/** Splits a command line as systemd does: quotes, C escapes in them, `%%` → `%`, and (in ExecStart) `$$` → `$`. */
function splitExecStart(value: string, dollars = true): string[] {
  assert.doesNotMatch(value.replace(/%%/g, ''), /%/, 'a lone % would be a specifier');
  if (dollars) assert.doesNotMatch(value.replace(/\$\$/g, ''), /\$/, 'a lone $ would be a variable');
  const words: string[] = [];
  let i = 0;
  while (i < value.length) {
    if (value[i] === ' ') {
      i++;
      continue;
    }
    let word = '';
    if (value[i] === '"') {
      i++;
      for (; value[i] !== '"'; i++) {
        assert.ok(i < value.length, `unterminated quote in ${value}`);
        if (value[i] === '\\') word += value[++i];
        else word += value[i];
      }
      i++;
      assert.ok(i >= value.length || value[i] === ' ', 'a quoted word ends at a space');
    } else {
      for (; i < value.length && value[i] !== ' '; i++) {
        assert.ok(!'"\'\\'.includes(value[i]!), `an unquoted word holds ${value[i]}`);
        word += value[i];
      }
    }
    word = word.replace(/%%/g, '%');
    words.push(dollars ? word.replace(/\$\$/g, '$') : word);
  }
  return words;
}

type PlistValue = string | number | boolean | PlistValue[] | { [k: string]: PlistValue };

/**
 * A strict reader for the XML subset plists use: checks well-formedness (matched tags, only the five
 * predefined entities, no raw `<` or `&` in text) and returns the plist's value.
 */
function parsePlist(text: string): { [k: string]: PlistValue } {
  let rest = text.replace(/^<\?xml version="1\.0" encoding="UTF-8"\?>\n<!DOCTYPE plist [^>]+>\n/, '');
  assert.notEqual(rest, text, 'XML declaration and DOCTYPE');
  for (const c of rest.matchAll(/<!--([\s\S]*?)-->/g)) assert.ok(!c[1]!.includes('--') && !c[1]!.endsWith('-'), `"--" inside a comment: ${c[0]}`);
  rest = rest.replace(/<!--[\s\S]*?-->/g, '');
  const tokens = [...rest.matchAll(/<(\/?)([a-zA-Z]+)([^>]*?)(\/?)>|([^<]+)/g)];
  assert.equal(tokens.map((t) => t[0]).join(''), rest, 'every character belongs to a tag or text');
  let pos = 0;
  const next = () => tokens[pos++];
  const skipSpace = () => {
    while (tokens[pos]?.[5] !== undefined && !tokens[pos]![5]!.trim()) pos++;
  };
  const decode = (s: string) => {
    assert.doesNotMatch(s, /<|&(?!(amp|lt|gt|quot|apos);)/, `unescaped text: ${s}`);
    return s.replace(/&(amp|lt|gt|quot|apos);/g, (_m, e: string) => ({ amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" })[e]!);
  };
  const textUntil = (tag: string) => {
    let s = '';
    for (let t = next(); ; t = next()) {
      assert.ok(t, `unclosed <${tag}>`);
      if (t[5] !== undefined) s += t[5];
      else {
        assert.equal(`${t[1]}${t[2]}`, `/${tag}`, `<${tag}> closed by ${t[0]}`);
        return decode(s);
      }
    }
  };
  const value = (): PlistValue => {
    skipSpace();
    const t = next();
    assert.ok(t && t[1] === '' && t[2], `expected a value, got ${t?.[0]}`);
    const tag = t[2]!;
    if (t[4] === '/') {
      assert.ok(tag === 'true' || tag === 'false', `<${tag}/>`);
      return tag === 'true';
    }
    if (tag === 'string') return textUntil('string');
    if (tag === 'integer') return Number(textUntil('integer'));
    if (tag === 'array') {
      const items: PlistValue[] = [];
      for (skipSpace(); tokens[pos]?.[1] !== '/'; skipSpace()) items.push(value());
      assert.equal(next()?.[2], 'array');
      return items;
    }
    assert.equal(tag, 'dict', `unexpected <${tag}>`);
    const out: { [k: string]: PlistValue } = {};
    for (skipSpace(); tokens[pos]?.[1] !== '/'; skipSpace()) {
      assert.equal(next()?.[2], 'key', 'a dict holds key/value pairs');
      const key = textUntil('key');
      assert.ok(!(key in out), `key ${key} twice`);
      out[key] = value();
    }
    assert.equal(next()?.[2], 'dict');
    return out;
  };
  skipSpace();
  const open = next();
  assert.equal(open?.[0], '<plist version="1.0">');
  const result = value();
  skipSpace();
  assert.equal(next()?.[0], '</plist>');
  skipSpace();
  assert.equal(pos, tokens.length, 'nothing after </plist>');
  assert.ok(result && typeof result === 'object' && !Array.isArray(result));
  return result as { [k: string]: PlistValue };
}
