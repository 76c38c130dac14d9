/**
 * `<data-dir>/config.json`: what the runtime must ask before doing, per workspace, and how long a
 * question may wait for an answer. A missing file means the defaults (every sensitive tool asks,
 * 5 minutes). Every problem is reported at once, naming the file, the key and the fix, because
 * a host that silently ignored a typo (`"permisson"`) would run with a policy nobody chose.
 *
 * ```json
 * { "permission": { "webfetch": "allow" },
 *   "workspaces": { "/home/me/site": { "permission": { "bash": { "*": "ask", "npm test": "allow" } } } },
 *   "permissionTimeoutSeconds": 300 }
 * ```
 * @module
 */
import { readFileIfExists } from '../files.ts';
import { homedir } from 'node:os';
import { isAbsolute, join, resolve, sep } from 'node:path';

export const CONFIG_FILE = 'config.json';
/** OpenCode's permission kinds the host decides: shell commands, file edits and writes, network fetches, paths outside the workspace. */
export const PERMISSION_KINDS = ['bash', 'edit', 'webfetch', 'external_directory'] as const;
export type PermissionKind = (typeof PERMISSION_KINDS)[number];
export const PERMISSION_ACTIONS = ['ask', 'allow', 'deny'] as const;
export type PermissionAction = (typeof PERMISSION_ACTIONS)[number];
/** One action for everything of a kind, or one per pattern (OpenCode's wildcards; the last match wins). */
export type PermissionSetting = PermissionAction | Readonly<Record<string, PermissionAction>>;
export type PermissionPolicy = Readonly<Record<PermissionKind, PermissionSetting>>;

export const DEFAULT_PERMISSION_TIMEOUT_SECONDS = 300;
const MAX_TIMEOUT_SECONDS = 86_400;
const MAX_PATTERNS = 200;

export interface HostPolicy {
  /** The file this came from (it may not exist). */
  path: string;
  permissionTimeoutSeconds: number;
  /**
   * Per kind: the setting of the workspace (the deepest one the file names that contains
   * `directory`), else the file's top-level one, else "ask".
   */
  permissionFor(directory: string): PermissionPolicy;
  /** The workspaces the file names, resolved to absolute paths. */
  workspaces: string[];
}

export function configFilePath(dataDir: string): string {
  return join(dataDir, CONFIG_FILE);
}

/** Reads and checks the file; throws one Error listing every problem, each with its fix. */
export function readHostPolicy(dataDir: string, home: string = homedir()): HostPolicy {
  const path = configFilePath(dataDir);
  let text: string | undefined;
  try {
    text = readFileIfExists(path);
  } catch (err) {
    throw new Error(`cannot read ${path} (${(err as Error).message}): fix its permissions, or move it away to use the defaults`);
  }
  if (text === undefined) return parseHostPolicy({}, path, home);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new Error(`${path} is not valid JSON (${(err as Error).message}): fix the syntax, or move the file away to use the defaults (every sensitive tool asks first)`);
  }
  return parseHostPolicy(value, path, home);
}

export function parseHostPolicy(value: unknown, path: string, home: string = homedir()): HostPolicy {
  const problems: string[] = [];
  const problem = (key: string, what: string, fix: string) => problems.push(`${key} ${what}: ${fix}`);

  let timeout = DEFAULT_PERMISSION_TIMEOUT_SECONDS;
  let defaults: Partial<Record<PermissionKind, PermissionSetting>> = {};
  const perWorkspace = new Map<string, Partial<Record<PermissionKind, PermissionSetting>>>();

  if (!isObject(value)) {
    problem('the file', `holds ${describe(value)}, not an object`, 'write an object such as { "permissionTimeoutSeconds": 300 }');
  } else {
    unknownKeys(value, '', ['permission', 'workspaces', 'permissionTimeoutSeconds'], problem);
    if (value.permissionTimeoutSeconds !== undefined) {
      const t = value.permissionTimeoutSeconds;
      if (typeof t === 'number' && Number.isFinite(t) && t >= 1 && t <= MAX_TIMEOUT_SECONDS) timeout = t;
      else problem('permissionTimeoutSeconds', `is ${describe(t)}`, `give a number of seconds from 1 to ${MAX_TIMEOUT_SECONDS}, e.g. 300 for 5 minutes`);
    }
    if (value.permission !== undefined) defaults = permissionBlock(value.permission, 'permission', problem);
    if (value.workspaces !== undefined) {
      if (!isObject(value.workspaces)) {
        problem(
          'workspaces',
          `is ${describe(value.workspaces)}`,
          'give an object whose keys are workspace directories, e.g. { "/home/me/project": { "permission": { "bash": "ask" } } }',
        );
      } else {
        for (const [dir, entry] of Object.entries(value.workspaces)) {
          const key = `workspaces[${JSON.stringify(dir)}]`;
          const expanded = dir === '~' ? home : dir.startsWith('~/') ? join(home, dir.slice(2)) : dir;
          if (!isAbsolute(expanded)) {
            problem(key, 'is not an absolute path', 'name the workspace directory from the root, e.g. /home/me/project or ~/project');
            continue;
          }
          if (!isObject(entry)) {
            problem(key, `is ${describe(entry)}`, 'give an object such as { "permission": { "bash": "ask" } }');
            continue;
          }
          unknownKeys(entry, `${key}.`, ['permission'], problem);
          const block = entry.permission === undefined ? {} : permissionBlock(entry.permission, `${key}.permission`, problem);
          perWorkspace.set(resolve(expanded), block);
        }
      }
    }
  }

  if (problems.length) {
    throw new Error(`${path} has ${problems.length === 1 ? 'a problem' : `${problems.length} problems`}:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
  return {
    path,
    permissionTimeoutSeconds: timeout,
    workspaces: [...perWorkspace.keys()],
    permissionFor(directory) {
      const dir = resolve(directory);
      const containing = [...perWorkspace.keys()].filter((w) => dir === w || dir.startsWith(w.endsWith(sep) ? w : w + sep));
      const deepest = containing.sort((a, b) => b.length - a.length)[0];
      const own = deepest === undefined ? {} : perWorkspace.get(deepest)!;
      return Object.fromEntries(PERMISSION_KINDS.map((k) => [k, own[k] ?? defaults[k] ?? 'ask'])) as Record<PermissionKind, PermissionSetting>;
    },
  };
}

type Problem = (key: string, what: string, fix: string) => void;

function permissionBlock(v: unknown, key: string, problem: Problem): Partial<Record<PermissionKind, PermissionSetting>> {
  const example = '{ "bash": "ask", "edit": "ask", "webfetch": "ask", "external_directory": "ask" }';
  if (!isObject(v)) {
    problem(key, `is ${describe(v)}`, `give an object such as ${example}`);
    return {};
  }
  unknownKeys(v, `${key}.`, PERMISSION_KINDS, problem);
  const out: Partial<Record<PermissionKind, PermissionSetting>> = {};
  for (const kind of PERMISSION_KINDS) {
    const setting = v[kind];
    if (setting === undefined) continue;
    const at = `${key}.${kind}`;
    if (isAction(setting)) out[kind] = setting;
    else if (isObject(setting)) {
      const entries = Object.entries(setting);
      if (entries.length === 0 || entries.length > MAX_PATTERNS) {
        problem(at, `has ${entries.length} patterns`, `give 1 to ${MAX_PATTERNS} patterns, e.g. { "*": "ask", "git status": "allow" }`);
        continue;
      }
      const bad = entries.filter(([, a]) => !isAction(a));
      for (const [pattern, action] of bad) problem(`${at}[${JSON.stringify(pattern)}]`, `is ${describe(action)}`, 'use "ask", "allow" or "deny"');
      if (entries.some(([pattern]) => pattern === '')) problem(at, 'has an empty pattern', 'use "*" for everything');
      if (!bad.length) out[kind] = Object.fromEntries(entries) as Record<string, PermissionAction>;
    } else problem(at, `is ${describe(setting)}`, 'use "ask", "allow" or "deny", or patterns such as { "*": "ask", "git status": "allow" }');
  }
  return out;
}

function unknownKeys(o: Record<string, unknown>, prefix: string, allowed: readonly string[], problem: Problem): void {
  for (const key of Object.keys(o)) {
    if (!allowed.includes(key)) problem(`${prefix}${key}`, 'is not a setting', `use ${allowed.map((a) => `"${a}"`).join(', ')}`);
  }
}

function isAction(v: unknown): v is PermissionAction {
  return typeof v === 'string' && (PERMISSION_ACTIONS as readonly string[]).includes(v);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v);
  if (typeof v === 'object') return 'an object';
  return String(v);
}
