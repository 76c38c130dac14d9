/**
 * Command line and environment → validated host configuration.
 *
 * Every option has a flag and an OPENWORK_* variable; a flag beats the variable, which beats the
 * default. All problems are collected, each naming the option, its variable and how to fix it, so a
 * person fixes everything in one go.
 * @module
 */
import { accessSync, constants, statSync, type Stats } from 'node:fs';
import { isIP } from 'node:net';
import { homedir } from 'node:os';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { delimiter, isAbsolute, join, resolve } from 'node:path';
import type { LogFormat, LogLevel } from './log.ts';

export type Command =
  | { name: 'start' }
  | { name: 'pair' }
  /** `pair --computer <name>`: a credential for OpenCode's own clients on that computer. */
  | { name: 'pair-computer'; computer: string }
  | { name: 'admin' }
  | { name: 'devices' }
  | { name: 'device-scopes'; device: string; scopes: string[] }
  /** Absolute paths, or 'all' to lift the limit. */
  | { name: 'device-workspaces'; device: string; workspaces: string[] | 'all' }
  | { name: 'revoke'; device: string }
  | { name: 'tls-setup' }
  | { name: 'service-install' }
  | { name: 'help' }
  | { name: 'version' };

export interface Config {
  command: Command;
  port: number;
  bind: string;
  /** Absolute paths of existing directories, without duplicates. */
  workspaces: string[];
  dataDir: string;
  /** An OpenCode server to use instead of starting one; normalised by `URL`. */
  opencodeUrl?: string;
  tls?: { cert: string; key: string };
  logFormat: LogFormat;
  logLevel: LogLevel;
  /** The address phones reach the host at, for pairing links; normalised by `URL`. */
  publicUrl?: string;
  /** Record local metrics (`--no-metrics` turns it off). */
  metrics: boolean;
}

export type ConfigResult = { ok: true; config: Config } | { ok: false; errors: string[] };

export interface ConfigOptions {
  /** Relative paths are resolved against this; default process.cwd(). */
  cwd?: string;
  /** `~` and the default data directory are relative to this; default os.homedir(). */
  home?: string;
}

export const DEFAULT_PORT = 8787;
export const DEFAULT_BIND = '0.0.0.0';
const LOG_FORMATS: readonly LogFormat[] = ['text', 'json'];
const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error'];
const HELP_HINT = 'run npm start -- --help';

interface OptionSpec {
  flag: string;
  env: string;
  /** Placeholder for the value in help. */
  value: string;
  repeatable?: boolean;
  help: string;
  /** As shown in help. */
  default: string;
}

const OPTIONS = {
  port: { flag: '--port', env: 'OPENWORK_PORT', value: 'N', help: 'HTTP/WebSocket port (0 picks a free one)', default: String(DEFAULT_PORT) },
  bind: { flag: '--bind', env: 'OPENWORK_BIND', value: 'ADDR', help: 'address to listen on: IPv4, IPv6 or host name', default: `${DEFAULT_BIND} (all interfaces)` },
  workspace: {
    flag: '--workspace',
    env: 'OPENWORK_WORKSPACE',
    value: 'DIR',
    repeatable: true,
    help: `project directory the phone may work in; repeat the flag, or separate directories with "${delimiter}" in the variable`,
    default: 'the current directory',
  },
  dataDir: { flag: '--data-dir', env: 'OPENWORK_DATA_DIR', value: 'DIR', help: 'where paired devices and keys are kept', default: '~/.openwork-relay' },
  opencodeUrl: {
    flag: '--opencode-url',
    env: 'OPENWORK_OPENCODE_URL',
    value: 'URL',
    help: 'use this running OpenCode server (http or https) instead of starting one',
    default: 'start one',
  },
  tlsCert: { flag: '--tls-cert', env: 'OPENWORK_TLS_CERT', value: 'FILE', help: 'TLS certificate (PEM); give it with --tls-key', default: 'plain HTTP' },
  tlsKey: { flag: '--tls-key', env: 'OPENWORK_TLS_KEY', value: 'FILE', help: 'TLS private key (PEM); give it with --tls-cert', default: 'plain HTTP' },
  logFormat: { flag: '--log-format', env: 'OPENWORK_LOG_FORMAT', value: LOG_FORMATS.join('|'), help: 'log lines for people (text) or machines (json)', default: 'text' },
  logLevel: { flag: '--log-level', env: 'OPENWORK_LOG_LEVEL', value: LOG_LEVELS.join('|'), help: 'least severe level that is logged', default: 'info' },
  publicUrl: {
    flag: '--public-url',
    env: 'OPENWORK_PUBLIC_URL',
    value: 'URL',
    help: 'address phones reach this host at (http or https), used in pairing links',
    default: 'derived from --bind and --port',
  },
} satisfies Record<string, OptionSpec>;

/** Yes/no settings: the flag turns the thing off; the variable does the same when set to 1 or true. */
const TOGGLES = {
  noMetrics: { flag: '--no-metrics', env: 'OPENWORK_NO_METRICS', help: 'record no local metrics (they never leave this machine anyway)' },
} as const;

/** Switches take no value and have no variable: they ask for something instead of configuring it. */
const SWITCHES = {
  help: { flag: '--help', short: 'h', help: 'show this help' },
  version: { flag: '--version', short: 'v', help: 'show the version' },
} as const;

/** Options that belong to one command and have no variable: they say what the command should do. */
const COMMAND_OPTIONS = {
  computer: { flag: '--computer', value: 'NAME', command: 'pair', help: "with pair: a credential for OpenCode's own clients (opencode attach) on that computer" },
} as const;

type OptionName = keyof typeof OPTIONS;
type CommandOptionName = keyof typeof COMMAND_OPTIONS;
type SwitchName = keyof typeof SWITCHES;
type ToggleName = keyof typeof TOGGLES;
/** parseArgs's option names (the flag without its dashes) → what they set. */
const BY_NAME = new Map<string, { option: OptionName } | { switch: SwitchName } | { toggle: ToggleName } | { commandOption: CommandOptionName }>([
  ...Object.entries(COMMAND_OPTIONS).map(([name, spec]) => [spec.flag.slice(2), { commandOption: name as CommandOptionName }] as const),
  ...Object.entries(TOGGLES).map(([name, spec]) => [spec.flag.slice(2), { toggle: name as ToggleName }] as const),
  ...Object.entries(OPTIONS).map(([name, spec]) => [spec.flag.slice(2), { option: name as OptionName }] as const),
  ...Object.entries(SWITCHES).map(([name, spec]) => [spec.flag.slice(2), { switch: name as SwitchName }] as const),
]);
const PARSE_OPTIONS: ParseArgsConfig['options'] = {
  ...Object.fromEntries(Object.values(OPTIONS).map((spec) => [spec.flag.slice(2), { type: 'string' }] as const)),
  ...Object.fromEntries(Object.values(COMMAND_OPTIONS).map((spec) => [spec.flag.slice(2), { type: 'string' }] as const)),
  ...Object.fromEntries(Object.values(TOGGLES).map((spec) => [spec.flag.slice(2), { type: 'boolean' }] as const)),
  ...Object.fromEntries(Object.values(SWITCHES).map((spec) => [spec.flag.slice(2), { type: 'boolean', short: spec.short }] as const)),
};

const COMMANDS = [
  ['start', 'run the host (default)'],
  ['pair', 'show a pairing code for a new phone'],
  ['pair --computer <name>', "a credential for OpenCode's own clients (opencode attach) on another computer"],
  ['admin', "print a sign-in link to the running host's admin page (this computer only)"],
  ['devices', 'list paired devices with their scopes and workspaces'],
  ['devices scopes <device> <scopes>', 'set what a device may do: read,run,approve (any of them), all or none'],
  ['devices workspaces <device> <dir>', 'limit a device to these workspaces (one or more), or all'],
  ['revoke <device>', 'remove a paired device'],
  ['tls setup', 'create a certificate for HTTPS'],
  ['service install', 'start the host at login (systemd user unit or launchd agent)'],
] as const;
const COMMAND_WORDS = new Set(COMMANDS.map(([usage]) => usage.split(' ')[0]!));

/** One raw value and where it came from, so a message can name the flag or the variable. */
interface Raw {
  value: string;
  source: 'flag' | 'env';
}

export function parseConfig(argv: readonly string[], env: Readonly<Record<string, string | undefined>>, opts: ConfigOptions = {}): ConfigResult {
  const cwd = opts.cwd ?? process.cwd();
  const home = opts.home ?? homedir();
  const errors: string[] = [];
  const flags = new Map<OptionName, string[]>();
  const switches = new Set<SwitchName>();
  const toggles = new Set<ToggleName>();
  const positionals: string[] = [];
  const commandOptions = new Map<CommandOptionName, string>();

  readArgv(argv, { flags, switches, toggles, positionals, commandOptions }, errors);

  // Asking for help or the version must work even when the rest of the configuration is broken.
  if (switches.has('help')) return { ok: true, config: defaults({ name: 'help' }, cwd, home) };
  if (switches.has('version')) return { ok: true, config: defaults({ name: 'version' }, cwd, home) };

  /** The last flag value, else the variable (empty counts as unset), else undefined. */
  const pick = (name: OptionName): Raw | undefined => {
    const given = flags.get(name);
    if (given?.length) return { value: given[given.length - 1]!, source: 'flag' };
    const fromEnv = env[OPTIONS[name].env];
    return fromEnv ? { value: fromEnv, source: 'env' } : undefined;
  };
  const problem = (name: OptionName, raw: Raw, what: string, fix: string) => {
    const spec = OPTIONS[name];
    const [label, other] = raw.source === 'flag' ? [spec.flag, `env ${spec.env}`] : [spec.env, `flag ${spec.flag}`];
    errors.push(`${label} "${raw.value}" ${what}: ${fix} (${other})`);
  };
  /** Shows the resolved path only when it differs from what was typed. */
  const where = (raw: Raw, resolved: string) => (resolved === raw.value ? '' : ` (${resolved})`);

  const path = (value: string) => resolve(cwd, expandHome(value, home));
  const command = parseCommand(positionals, errors, path, commandOptions);

  let port = DEFAULT_PORT;
  const rawPort = pick('port');
  if (rawPort) {
    const n = /^\d{1,5}$/.test(rawPort.value) ? Number(rawPort.value) : NaN;
    if (n >= 0 && n <= 65535) port = n;
    else problem('port', rawPort, 'is not a port number', 'use an integer from 1 to 65535, or 0 for any free port');
  }

  let bind = DEFAULT_BIND;
  const rawBind = pick('bind');
  if (rawBind) {
    if (isIP(rawBind.value) || isHostName(rawBind.value)) bind = rawBind.value;
    else problem('bind', rawBind, 'is not an IP address or host name', 'use e.g. 0.0.0.0 (all interfaces), 127.0.0.1 (this machine only) or ::');
  }

  const rawWorkspaces: Raw[] =
    flags.get('workspace')?.map((value) => ({ value, source: 'flag' as const })) ??
    (env[OPTIONS.workspace.env] ?? '')
      .split(delimiter)
      .filter(Boolean)
      .map((value) => ({ value, source: 'env' as const }));
  const workspaces: string[] = [];
  for (const raw of rawWorkspaces) {
    const dir = path(raw.value);
    const stats = statOrUndefined(dir);
    if (!stats) problem('workspace', raw, `does not exist${where(raw, dir)}`, 'give an existing project directory');
    else if (!stats.isDirectory()) problem('workspace', raw, `is not a directory${where(raw, dir)}`, 'give the project directory, not a file in it');
    else if (!workspaces.includes(dir)) workspaces.push(dir);
  }
  if (!rawWorkspaces.length) workspaces.push(resolve(cwd));

  let dataDir = join(home, '.openwork-relay');
  const rawDataDir = pick('dataDir');
  if (rawDataDir) dataDir = path(rawDataDir.value);
  if (statOrUndefined(dataDir)?.isDirectory() === false) {
    if (rawDataDir) problem('dataDir', rawDataDir, `is a file, not a directory${where(rawDataDir, dataDir)}`, 'give a directory path; it is created if missing');
    else errors.push(`the default data directory ${dataDir} is a file: move it away or choose another with --data-dir DIR (env ${OPTIONS.dataDir.env})`);
  }

  const opencodeUrl = httpUrl('opencodeUrl', 'e.g. http://127.0.0.1:4096');
  const publicUrl = httpUrl('publicUrl', 'e.g. https://my-laptop.local:8787');

  let tls: Config['tls'];
  const rawCert = pick('tlsCert');
  const rawKey = pick('tlsKey');
  if (rawCert && rawKey) {
    const cert = readableFile('tlsCert', rawCert);
    const key = readableFile('tlsKey', rawKey);
    if (cert && key) tls = { cert, key };
  } else if (rawCert || rawKey) {
    const [given, missing] = rawCert ? [OPTIONS.tlsCert, OPTIONS.tlsKey] : [OPTIONS.tlsKey, OPTIONS.tlsCert];
    errors.push(`${given.flag} (env ${given.env}) was given without ${missing.flag} (env ${missing.env}): give both or neither; ` + 'run npm start -- tls setup to create them');
  }

  const logFormat = oneOf('logFormat', LOG_FORMATS, 'text');
  const logLevel = oneOf('logLevel', LOG_LEVELS, 'info');

  const noMetrics = toggles.has('noMetrics') || toggleFromEnv('noMetrics');

  if (errors.length) return { ok: false, errors };
  const config: Config = { command: command!, port, bind, workspaces, dataDir, logFormat, logLevel, metrics: !noMetrics };
  if (opencodeUrl) config.opencodeUrl = opencodeUrl;
  if (publicUrl) config.publicUrl = publicUrl;
  if (tls) config.tls = tls;
  return { ok: true, config };

  function httpUrl(name: 'opencodeUrl' | 'publicUrl', example: string): string | undefined {
    const raw = pick(name);
    if (!raw) return undefined;
    let url: URL;
    try {
      url = new URL(raw.value);
    } catch {
      problem(name, raw, 'is not a URL', `give a full address, ${example}`);
      return undefined;
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      problem(name, raw, 'is not an http:// or https:// URL', `give a web address, ${example}`);
      return undefined;
    }
    return url.href;
  }

  function readableFile(name: 'tlsCert' | 'tlsKey', raw: Raw): string | undefined {
    const file = path(raw.value);
    const stats = statOrUndefined(file);
    if (!stats) problem(name, raw, `does not exist${where(raw, file)}`, 'give the PEM file, or run npm start -- tls setup to create one');
    else if (!stats.isFile()) problem(name, raw, `is not a file${where(raw, file)}`, 'give the PEM file itself');
    else if (!isReadable(file)) problem(name, raw, `cannot be read${where(raw, file)}`, 'fix its permissions so this user can read it');
    else return file;
    return undefined;
  }

  function toggleFromEnv(name: ToggleName): boolean {
    const value = env[TOGGLES[name].env];
    if (value === undefined || value === '' || value === '0' || value === 'false') return false;
    if (value === '1' || value === 'true') return true;
    errors.push(`${TOGGLES[name].env} "${value}" is not allowed: use 1 or true to turn it on, 0 or false (or unset) for off (flag ${TOGGLES[name].flag})`);
    return false;
  }

  function oneOf<T extends string>(name: 'logFormat' | 'logLevel', allowed: readonly T[], fallback: T): T {
    const raw = pick(name);
    if (!raw) return fallback;
    if ((allowed as readonly string[]).includes(raw.value)) return raw.value as T;
    problem(name, raw, 'is not allowed', `use one of ${allowed.join(', ')}`);
    return fallback;
  }
}

interface ArgvParts {
  flags: Map<OptionName, string[]>;
  switches: Set<SwitchName>;
  toggles: Set<ToggleName>;
  positionals: string[];
  commandOptions: Map<CommandOptionName, string>;
}

/**
 * Sorts the command line with node's parseArgs. Not strict: parseArgs would stop at the first
 * problem, and every problem is reported at once.
 */
function readArgv(argv: readonly string[], out: ArgvParts, errors: string[]): void {
  const { tokens } = parseArgs({ args: [...argv], options: PARSE_OPTIONS, strict: false, allowPositionals: true, tokens: true });
  const unknown = new Set<number>();
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i]!;
    if (token.kind === 'positional') out.positionals.push(token.value);
    if (token.kind !== 'option') continue;
    const known = BY_NAME.get(token.name);
    if (!known) {
      // Named as typed: parseArgs splits `-xyz` into -x, -y and -z, but it is one mistake.
      if (!unknown.has(token.index)) errors.push(`unknown option ${argv[token.index]!.split('=')[0]}: ${HELP_HINT}`);
      unknown.add(token.index);
      // Its value (`--prot 80`) would otherwise be reported again as an unknown command.
      const next = tokens[i + 1];
      if (token.value === undefined && next?.kind === 'positional' && next.index === token.index + 1 && !COMMAND_WORDS.has(next.value)) i++;
    } else if ('option' in known) {
      // parseArgs reads `--bind --port 1` as bind = "--port"; a forgotten value is far likelier, so
      // say so and read the rest from --port on.
      const forgotten = token.value !== undefined && !token.inlineValue && token.value.startsWith('--');
      if (token.value !== undefined && !forgotten) out.flags.set(known.option, [...(out.flags.get(known.option) ?? []), token.value]);
      else {
        const spec = OPTIONS[known.option];
        errors.push(`${spec.flag} needs a value, e.g. ${spec.flag} ${spec.value} (env ${spec.env})`);
        if (forgotten) return readArgv(argv.slice(token.index + 1), out, errors);
      }
    } else if ('commandOption' in known) {
      const spec = COMMAND_OPTIONS[known.commandOption];
      if (token.value === undefined || (!token.inlineValue && token.value.startsWith('--')))
        errors.push(`${spec.flag} needs a value, e.g. ${spec.command} ${spec.flag} ${spec.value}`);
      else out.commandOptions.set(known.commandOption, token.value);
    } else if (token.value !== undefined) errors.push(`${token.rawName} takes no value: ${HELP_HINT}`);
    else if ('toggle' in known) out.toggles.add(known.toggle);
    else out.switches.add(known.switch);
  }
}

function parseCommand(positionals: string[], errors: string[], path: (value: string) => string, options: Map<CommandOptionName, string>): Command | undefined {
  const [name = 'start', ...rest] = positionals;
  const extra = (allowed: number) => {
    if (rest.length > allowed) errors.push(`unexpected argument "${rest[allowed]}" after "${name}": ${HELP_HINT}`);
  };
  for (const [option] of options) {
    const spec = COMMAND_OPTIONS[option];
    if (spec.command !== name) errors.push(`${spec.flag} goes with the ${spec.command} command: npm start -- ${spec.command} ${spec.flag} ${spec.value}`);
  }
  const computer = options.get('computer');
  if (name === 'pair' && computer !== undefined) {
    extra(0);
    return { name: 'pair-computer', computer };
  }
  switch (name) {
    case 'start':
    case 'pair':
    case 'admin':
      extra(0);
      return { name };
    case 'devices':
      return parseDevicesCommand(rest, errors, path);
    case 'revoke':
      if (!rest[0]) {
        errors.push('revoke needs the device to remove: run npm start -- devices to list them, then npm start -- revoke <device>');
        return undefined;
      }
      extra(1);
      return { name, device: rest[0] };
    case 'tls':
      if (rest[0] !== 'setup') {
        errors.push(`unknown command "tls${rest[0] ? ` ${rest[0]}` : ''}": did you mean "tls setup"? ${HELP_HINT}`);
        return undefined;
      }
      extra(1);
      return { name: 'tls-setup' };
    case 'service':
      if (rest[0] !== 'install') {
        errors.push(`unknown command "service${rest[0] ? ` ${rest[0]}` : ''}": did you mean "service install"? ${HELP_HINT}`);
        return undefined;
      }
      extra(1);
      return { name: 'service-install' };
    default:
      errors.push(`unknown command "${name}": ${HELP_HINT}`);
      return undefined;
  }
}

/** `devices`, `devices scopes <device> <scopes>`, `devices workspaces <device> <dir>... | all`. */
function parseDevicesCommand(rest: string[], errors: string[], path: (value: string) => string): Command | undefined {
  const [sub, device, ...values] = rest;
  if (sub === undefined) return { name: 'devices' };
  if (sub === 'scopes') {
    if (device && values.length) return { name: 'device-scopes', device, scopes: values };
    errors.push('devices scopes needs the device and its scopes, e.g. npm start -- devices scopes pixel read,run (scopes: read, run, approve, all or none)');
  } else if (sub === 'workspaces') {
    if (device && values.length) return { name: 'device-workspaces', device, workspaces: values.length === 1 && values[0] === 'all' ? 'all' : values.map(path) };
    errors.push('devices workspaces needs the device and its workspaces, e.g. npm start -- devices workspaces pixel ~/project (or all)');
  } else {
    errors.push(`unknown command "devices ${sub}": use devices, devices scopes <device> <scopes> or devices workspaces <device> <dir>...; ${HELP_HINT}`);
  }
  return undefined;
}

/** The configuration that goes with --help and --version, which need nothing else to be valid. */
function defaults(command: Command, cwd: string, home: string): Config {
  return {
    command,
    port: DEFAULT_PORT,
    bind: DEFAULT_BIND,
    workspaces: [resolve(cwd)],
    dataDir: join(home, '.openwork-relay'),
    logFormat: 'text',
    logLevel: 'info',
    metrics: true,
  };
}

export function helpText(): string {
  const options = Object.values(OPTIONS) as OptionSpec[];
  const usage = (spec: OptionSpec) => `${spec.flag}${spec.value ? ` ${spec.value}` : ''}`;
  const width = Math.max(...options.map((spec) => usage(spec).length));
  const lines = [
    'Usage: npm start -- [command] [options]',
    '',
    'Commands:',
    ...COMMANDS.map(([name, text]) => `  ${name.padEnd(width)}  ${text}`),
    '',
    'Options (each can also be set with its environment variable; a flag wins over the variable):',
  ];
  for (const spec of options) {
    lines.push(`  ${usage(spec).padEnd(width)}  ${spec.help}${spec.repeatable ? ' (repeatable)' : ''}`);
    lines.push(`  ${''.padEnd(width)}  env ${spec.env}; default: ${spec.default}`);
  }
  for (const spec of Object.values(TOGGLES)) {
    lines.push(`  ${spec.flag.padEnd(width)}  ${spec.help}`);
    lines.push(`  ${''.padEnd(width)}  env ${spec.env}=1`);
  }
  for (const spec of Object.values(SWITCHES)) lines.push(`  ${`${spec.flag}, -${spec.short}`.padEnd(width)}  ${spec.help}`);
  return lines.join('\n');
}

/** RFC 1123 host name: dot-separated labels of letters, digits and inner hyphens. */
function isHostName(value: string): boolean {
  return value.length <= 253 && value.split('.').every((label) => /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/i.test(label));
}

function expandHome(value: string, home: string): string {
  if (value === '~') return home;
  return value.startsWith('~/') && !isAbsolute(value) ? join(home, value.slice(2)) : value;
}

function statOrUndefined(path: string): Stats | undefined {
  try {
    return statSync(path);
  } catch {
    return undefined;
  }
}

function isReadable(path: string): boolean {
  try {
    accessSync(path, constants.R_OK);
    return true;
  } catch {
    return false;
  }
}
