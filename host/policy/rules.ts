/**
 * The host's permission policy in the two forms OpenCode 1.18 accepts, checked against the real
 * runtime (e2e/policy.test.ts):
 *
 * - a session's own ruleset (`permission` on `POST /session`, appended by `PATCH /session/{id}`).
 *   The runtime evaluates the agent's rules and then the session's, and the last matching rule
 *   wins, so these beat everything in the workspace's `opencode.json`, its agents included;
 * - `OPENCODE_CONFIG_CONTENT`, inline configuration the runtime merges over the project's
 *   `permission` block. It applies to every session of a runtime the host starts (subagent
 *   sessions, which do not inherit their parent's ruleset, included), but an agent's own
 *   `permission` in `opencode.json` still beats it. One runtime serves every workspace, so it
 *   carries, per kind, the strictest setting of any workspace.
 * @module
 */
import { PERMISSION_KINDS, type PermissionAction, type PermissionPolicy, type PermissionSetting } from './config-file.ts';

/** OpenCode's `PermissionRule`. */
export interface PermissionRule {
  permission: string;
  pattern: string;
  action: PermissionAction;
}

export function sessionRules(policy: PermissionPolicy): PermissionRule[] {
  return PERMISSION_KINDS.flatMap((permission) => {
    const setting = policy[permission];
    if (typeof setting === 'string') return [{ permission, pattern: '*', action: setting }];
    return Object.entries(setting).map(([pattern, action]) => ({ permission, pattern, action }));
  });
}

const STRICTNESS: Record<PermissionAction, number> = { allow: 0, ask: 1, deny: 2 };

function strictest(settings: PermissionSetting[]): PermissionAction {
  const actions = settings.flatMap((s) => (typeof s === 'string' ? [s] : Object.values(s)));
  return actions.reduce<PermissionAction>((a, b) => (STRICTNESS[b] > STRICTNESS[a] ? b : a), 'allow');
}

/**
 * The value for the runtime's `OPENCODE_CONFIG_CONTENT`: `existing` (the person's own inline
 * configuration, if any) with the strictest of `policies` per kind laid over its `permission`.
 * @throws Error when `existing` is not a JSON object.
 */
export function runtimeConfigContent(policies: readonly PermissionPolicy[], existing?: string): string {
  let base: Record<string, unknown> = {};
  if (existing) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(existing);
    } catch (err) {
      throw new Error(`OPENCODE_CONFIG_CONTENT is not valid JSON (${(err as Error).message}): fix it or unset it`);
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('OPENCODE_CONFIG_CONTENT must be a JSON object: fix it or unset it');
    base = parsed as Record<string, unknown>;
  }
  const own = typeof base.permission === 'object' && base.permission !== null ? (base.permission as Record<string, unknown>) : {};
  const permission = { ...own };
  for (const kind of PERMISSION_KINDS) permission[kind] = strictest(policies.map((p) => p[kind]));
  return JSON.stringify({ ...base, permission });
}

/** Whether `rules` ends with `tail`: the session already carries the host's rules last. */
export function endsWithRules(rules: readonly PermissionRule[] | undefined, tail: readonly PermissionRule[]): boolean {
  if (!rules || rules.length < tail.length) return false;
  const start = rules.length - tail.length;
  return tail.every((r, i) => {
    const s = rules[start + i]!;
    return s.permission === r.permission && s.pattern === r.pattern && s.action === r.action;
  });
}
