/**
 * What a service file starts: this project's `scripts/start.mjs` under an absolute node path, with
 * the person's options, always logging JSON lines (a service manager stores or ships the lines).
 * @module
 */
import { delimiter, isAbsolute, join } from 'node:path';

export const SYSTEMD_UNIT = 'openwork-relay';
export const LAUNCHD_LABEL = 'dev.openwork.relay';

export interface ServiceSpec {
  /** Absolute path of the node binary (process.execPath). */
  nodePath: string;
  /** Absolute path of this project (where package.json is); also the working directory. */
  projectDir: string;
  /** Host options passed on the command line, e.g. ['--no-metrics']; `--log-format` is replaced by json. */
  args: readonly string[];
  /** Environment variables for the host, e.g. from serviceEnvironment(). */
  env: Readonly<Record<string, string>>;
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Throws a TypeError naming the field when a spec cannot be written into a service file. */
export function checkSpec(spec: ServiceSpec): void {
  if (!isAbsolute(spec.nodePath)) throw new TypeError(`nodePath must be absolute, got ${JSON.stringify(spec.nodePath)}`);
  if (!isAbsolute(spec.projectDir)) throw new TypeError(`projectDir must be absolute, got ${JSON.stringify(spec.projectDir)}`);
  const values: Array<[string, string]> = [
    ['nodePath', spec.nodePath],
    ['projectDir', spec.projectDir],
    ...spec.args.map((a, i): [string, string] => [`args[${i}]`, a]),
    ...Object.entries(spec.env).map(([k, v]): [string, string] => [`env.${k}`, v]),
  ];
  for (const [field, value] of values) {
    // Neither file format can carry control characters (line breaks included) inside one value.
    // biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point: they are refused.
    if (/[\x00-\x08\x0a-\x1f\x7f]/.test(value)) throw new TypeError(`${field} contains a line break or another control character`);
  }
  for (const name of Object.keys(spec.env)) if (!ENV_NAME.test(name)) throw new TypeError(`env name ${JSON.stringify(name)} is not a valid variable name`);
}

/** The full command line: node, start.mjs, the options, `--log-format json`. */
export function commandLine(spec: ServiceSpec): string[] {
  const args: string[] = [];
  for (let i = 0; i < spec.args.length; i++) {
    const a = spec.args[i]!;
    if (a === '--log-format') i++;
    else if (!a.startsWith('--log-format=')) args.push(a);
  }
  return [spec.nodePath, join(spec.projectDir, 'scripts', 'start.mjs'), ...args, '--log-format', 'json'];
}

/** The host options a service should keep (already validated and absolute), as the host's OPENWORK_* variables. */
export interface ServiceOptions {
  port: number;
  bind: string;
  workspaces: readonly string[];
  dataDir: string;
  opencodeUrl?: string;
  tls?: { cert: string; key: string };
  logLevel?: string;
  publicUrl?: string;
}

/**
 * Options → environment (plus PATH, so the runtime finds git and friends as it does in a terminal).
 * Workspaces whose path contains the list separator cannot go in OPENWORK_WORKSPACE: they come back
 * as `--workspace` arguments instead. Credentials (API keys) are never copied into a service file.
 */
export function serviceEnvironment(opts: ServiceOptions, processEnv: Readonly<Record<string, string | undefined>>): { env: Record<string, string>; args: string[] } {
  const env: Record<string, string> = {
    OPENWORK_PORT: String(opts.port),
    OPENWORK_BIND: opts.bind,
    OPENWORK_DATA_DIR: opts.dataDir,
  };
  const args: string[] = [];
  if (opts.workspaces.some((w) => w.includes(delimiter))) for (const w of opts.workspaces) args.push('--workspace', w);
  else if (opts.workspaces.length) env.OPENWORK_WORKSPACE = opts.workspaces.join(delimiter);
  if (opts.opencodeUrl) env.OPENWORK_OPENCODE_URL = opts.opencodeUrl;
  if (opts.tls) Object.assign(env, { OPENWORK_TLS_CERT: opts.tls.cert, OPENWORK_TLS_KEY: opts.tls.key });
  if (opts.logLevel) env.OPENWORK_LOG_LEVEL = opts.logLevel;
  if (opts.publicUrl) env.OPENWORK_PUBLIC_URL = opts.publicUrl;
  if (processEnv.PATH) env.PATH = processEnv.PATH;
  return { env, args };
}
