/**
 * Why a runtime call failed, in one line a person can act on, for devices to show (e.g. which
 * workspace's sessions could not be listed). OpenCode answers a workspace whose `opencode.json`
 * is broken with the whole file quoted, and the SDK passes that on as the error's message.
 * @module
 */
import { isObj } from '../../shared/protocol/guard.ts';
import { UNAVAILABLE_REASON_MAX } from '../../shared/protocol/sessions-list.ts';

/** `err`: as the bridge's calls reject (their own error, the SDK's as its cause) or the SDK's own. */
export function failureReason(err: unknown): string {
  const sdk = err instanceof Error && err.cause instanceof Error ? err.cause : err;
  if (sdk instanceof Error && sdk.name === 'TimeoutError') return 'the coding runtime did not answer in time';
  const body = sdk instanceof Error && isObj(sdk.cause) ? sdk.cause.body : undefined;
  const firstLine = (sdk instanceof Error ? sdk.message : String(sdk))
    .split('\n')
    .map((line) => line.trim())
    .find(Boolean);
  return clip(configProblem(body) ?? firstLine ?? 'the coding runtime gave no reason');
}

/**
 * OpenCode's answer when a workspace's configuration cannot be read, said plainly. OpenCode 1.18
 * keeps that answer until it restarts, even once the file is fixed, so the reason says so.
 */
function configProblem(body: unknown): string | undefined {
  if (!isObj(body) || !isObj(body.data) || typeof body.data.path !== 'string') return undefined;
  const { path, issues } = body.data;
  const fix = 'fix it, then restart the host';
  if (body.name === 'ConfigJsonError') return `${path} is not valid JSON; ${fix}`;
  if (body.name !== 'ConfigInvalidError') return undefined;
  const said = Array.isArray(issues)
    ? issues.flatMap((i) => (isObj(i) && typeof i.message === 'string' ? [`${Array.isArray(i.path) && i.path.length ? `${i.path.join('.')}: ` : ''}${i.message}`] : []))
    : [];
  return `${path} has invalid settings${said.length ? ` (${said.slice(0, 3).join('; ')}${said.length > 3 ? '; …' : ''})` : ''}; ${fix}`;
}

function clip(text: string): string {
  return text.length <= UNAVAILABLE_REASON_MAX ? text : `${text.slice(0, UNAVAILABLE_REASON_MAX - 1)}…`;
}
