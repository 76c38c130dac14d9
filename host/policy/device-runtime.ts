/**
 * The runtime as devices reach it through the relay: every id is checked before it becomes part
 * of a runtime URL (runtime-ids.ts), and every session a device creates or prompts carries the
 * host's permission rules for its workspace as its own last rules, so they win over whatever
 * the workspace's `opencode.json` says (rules.ts). A session made elsewhere (the runtime's own
 * UI, an older host run, a changed config.json) gets the rules appended before its first prompt
 * from a device in this host run.
 * @module
 */
import type { Logger } from '../log.ts';
import { trimOldest } from '../../shared/bounded.ts';
import type { RuntimePort } from '../runtime/port.ts';
import { endsWithRules, type PermissionRule } from './rules.ts';
import { runtimeId } from './runtime-ids.ts';

interface RuntimeSession {
  id: string;
  directory: string;
  permission?: PermissionRule[];
}

/** The bridge's calls this needs (host/runtime/bridge.ts fits). */
export interface PolicyRuntime extends Omit<RuntimePort, 'createSession' | 'getSession'> {
  createSession(title: string | undefined, directory?: string, permission?: PermissionRule[], metadata?: Record<string, unknown>): Promise<RuntimeSession>;
  getSession(sessionId: string): Promise<RuntimeSession>;
  addSessionPermission(sessionId: string, permission: PermissionRule[]): Promise<unknown>;
}

export interface DeviceRuntimeOptions {
  runtime: PolicyRuntime;
  /** The host's rules for sessions in `directory`. */
  rulesFor(directory: string): PermissionRule[];
  /** The workspace a session is created in when the device names none. */
  defaultDirectory: string;
  log: Logger;
}

/** Sessions known to carry the host's rules, remembered per host run (bounded). */
const REMEMBERED = 5000;

/** Makes sure a session carries the host's rules before it is prompted (also used by host/compat/). */
export interface SessionRules {
  /** Appends the host's rules to the session unless it already ends with them. */
  ensure(sessionId: string): Promise<void>;
  /** Notes a session created with the host's rules. */
  remember(sessionId: string): void;
}

export function sessionRulesKeeper(opts: Pick<DeviceRuntimeOptions, 'rulesFor' | 'log'> & { runtime: Pick<PolicyRuntime, 'getSession' | 'addSessionPermission'> }): SessionRules {
  const { runtime, log } = opts;
  const covered = new Set<string>();
  const remember = (id: string) => {
    covered.add(id);
    trimOldest(covered, REMEMBERED);
  };
  return {
    remember,
    async ensure(sessionId) {
      if (covered.has(sessionId)) return;
      const session = await runtime.getSession(sessionId);
      const rules = opts.rulesFor(session.directory);
      if (!endsWithRules(session.permission, rules)) {
        await runtime.addSessionPermission(sessionId, rules);
        log.info("gave a session the host's permission rules", { sessionId, directory: session.directory });
      }
      remember(sessionId);
    },
  };
}

export function deviceRuntime(opts: DeviceRuntimeOptions): RuntimePort {
  const { runtime } = opts;
  const rules = sessionRulesKeeper(opts);

  return {
    listSessions: (query) => runtime.listSessions(query),
    getSession: async (sessionId) => runtime.getSession(runtimeId(sessionId, 'session')),
    sessionsCreatedSince: (since, directory) => runtime.sessionsCreatedSince(since, directory),
    messages: async (sessionId, limit, before) => runtime.messages(runtimeId(sessionId, 'session'), limit, before === undefined ? undefined : runtimeId(before, 'message')),
    sessionStatus: async (sessionId) => runtime.sessionStatus(runtimeId(sessionId, 'session')),
    async createSession(title, directory, metadata) {
      const session = await runtime.createSession(title, directory, opts.rulesFor(directory ?? opts.defaultDirectory), metadata);
      rules.remember(session.id);
      return session;
    },
    async prompt(sessionId, text, promptOpts) {
      await rules.ensure(runtimeId(sessionId, 'session'));
      await runtime.prompt(sessionId, text, promptOpts);
    },
    async command(sessionId, command, args, turn) {
      await rules.ensure(runtimeId(sessionId, 'session'));
      await runtime.command(sessionId, command, args, turn);
    },
    choices: (directory) => runtime.choices(directory),
    providers: (directory) => runtime.providers(directory),
    vcs: (directory) => runtime.vcs(directory),
    abort: async (sessionId) => runtime.abort(runtimeId(sessionId, 'session')),
    revert: async (sessionId, messageId, partId) =>
      runtime.revert(runtimeId(sessionId, 'session'), runtimeId(messageId, 'message'), partId === undefined ? undefined : runtimeId(partId, 'part')),
    unrevert: async (sessionId) => runtime.unrevert(runtimeId(sessionId, 'session')),
    renameSession: async (sessionId, title) => runtime.renameSession(runtimeId(sessionId, 'session'), title),
    // A fork carries its origin's rules, but is checked like any other session before its first prompt.
    forkSession: async (sessionId, messageId) => runtime.forkSession(runtimeId(sessionId, 'session'), messageId === undefined ? undefined : runtimeId(messageId, 'message')),
    deleteSession: async (sessionId) => runtime.deleteSession(runtimeId(sessionId, 'session')),
    compact: async (sessionId, model) => runtime.compact(runtimeId(sessionId, 'session'), model),
    listPermissions: () => runtime.listPermissions(),
    replyPermission: async (requestId, reply, message) => runtime.replyPermission(runtimeId(requestId, 'permission request'), reply, message),
    listQuestions: () => runtime.listQuestions(),
    replyQuestion: async (requestId, answers) => runtime.replyQuestion(runtimeId(requestId, 'question'), answers),
    rejectQuestion: async (requestId) => runtime.rejectQuestion(runtimeId(requestId, 'question')),
    onEvent: (listener) => runtime.onEvent(listener),
  };
}
