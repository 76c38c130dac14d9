/**
 * The runtime as the relay uses it: the one port between the relay's parts (router, tasks, keyed
 * sessions, permission grants, questions, workspace gate) and OpenCode. host/policy/device-runtime.ts
 * provides it over the bridge (host/runtime/bridge.ts) with ids checked and the host's rules
 * attached; tests give a recording one (e2e/fixtures/relay-host.ts). Each part takes the `Pick`
 * of it that it calls, so a change of what the relay needs shows up here first.
 * @module
 */
import type { RelayRuntimeEvent } from '../../shared/protocol/runtime-events.ts';
import type { SessionsList } from '../../shared/protocol/sessions-list.ts';
import type { PermissionsList } from './permissions-list.ts';

/** A file on the host that goes with a prompt (an attachment, host/attachments/store.ts). */
export interface TurnFile {
  path: string;
  mime: string;
  filename: string;
}

/** How a turn runs (the composer's choice); absent fields are the runtime's defaults. */
export interface TurnOptions {
  messageId: string;
  agent?: string;
  model?: { providerId: string; modelId: string };
  variant?: string;
  /** Sent after the text as the runtime's file parts. */
  files?: TurnFile[];
}

/** A waiting request as the runtime lists it (OpenCode's PermissionRequest). */
export interface ListedPermission {
  id: string;
  sessionID: string;
  permission: string;
  patterns: string[];
  always: string[];
  metadata?: Record<string, unknown>;
  tool?: { messageID: string; callID: string };
}

/** A waiting question of the agent as the runtime lists it (OpenCode's QuestionRequest). */
export interface ListedQuestion {
  id: string;
  sessionID: string;
  questions: unknown[];
  tool?: { messageID: string; callID: string };
}

/** What the runtime answered for the composer: OpenCode's `/agent`, `/command`, `/config/providers` and its configured `model`. */
export interface RuntimeChoices {
  agents: unknown;
  commands: unknown;
  providers: unknown;
  /** The config's `model` (`provider/model`) and `default_agent`, when set. */
  model?: unknown;
  defaultAgent?: unknown;
}

/** What the runtime answered about a directory's version control: OpenCode's `/vcs` and `/vcs/status`. */
export interface RuntimeVcs {
  info: unknown;
  files: unknown;
}

export interface RuntimePort {
  /** Every workspace's sessions (at most `limit` each, titles matching `search`), and the workspaces that could not answer. */
  listSessions(query?: { limit?: number; search?: string }): Promise<SessionsList>;
  /** A session's directory never changes: the workspace gate remembers it. */
  getSession(sessionId: string): Promise<{ directory: string }>;
  /** One workspace's root sessions created since `since` (ms); rejects when its instance cannot answer. */
  sessionsCreatedSince(since: number, directory?: string): Promise<readonly unknown[]>;
  /**
   * The session's messages as the runtime stores them: only the newest `limit` when given; with
   * `before` (a message id), only those before it, the last `limit` of them or (from a runtime that
   * cannot page there) all. An id not in the session: `request.unknown`.
   */
  messages(sessionId: string, limit?: number, before?: string): Promise<unknown>;
  /** `title` undefined lets the runtime name the session from its first prompt; `metadata` stays with the session. */
  createSession(title: string | undefined, directory?: string, metadata?: Record<string, unknown>): Promise<unknown>;
  /** Resolves once the runtime accepted the prompt (it then runs on its own). */
  prompt(sessionId: string, text: string, opts: TurnOptions): Promise<void>;
  /** Runs one of the runtime's commands; resolves once the runtime took it (it then runs on its own). */
  command(sessionId: string, command: string, args: string, opts: TurnOptions): Promise<void>;
  /** The agents, models and commands of a workspace (undefined: the first). */
  choices(directory?: string): Promise<RuntimeChoices>;
  /** The configured providers and their models of the instance of `directory` (OpenCode's `/config/providers`). */
  providers(directory: string): Promise<unknown>;
  /** The branch and changed files of `directory` (a workspace, or inside one). */
  vcs(directory: string): Promise<RuntimeVcs>;
  /** The runtime's status of one session (OpenCode's `{type: idle | busy | retry, …}`). */
  sessionStatus(sessionId: string): Promise<unknown>;
  abort(sessionId: string): Promise<unknown>;
  /** Resolve with the session as the runtime now has it. */
  revert(sessionId: string, messageId: string, partId?: string): Promise<unknown>;
  unrevert(sessionId: string): Promise<unknown>;
  renameSession(sessionId: string, title: string): Promise<unknown>;
  forkSession(sessionId: string, messageId?: string): Promise<unknown>;
  deleteSession(sessionId: string): Promise<unknown>;
  compact(sessionId: string, model: { providerID: string; modelID: string }): Promise<unknown>;
  listPermissions(): Promise<PermissionsList<ListedPermission>>;
  /** Never `always`: OpenCode's "always" is process-wide, so the host keeps session grants itself. */
  replyPermission(requestId: string, reply: 'once' | 'reject', message?: string): Promise<void>;
  /** The agent's waiting questions, listed like `listPermissions`. */
  listQuestions(): Promise<PermissionsList<ListedQuestion>>;
  /** Answers a question: one list of labels (or typed text) per question, in order. */
  replyQuestion(requestId: string, answers: string[][]): Promise<void>;
  /** Dismisses a question: the runtime fails the tool call and ends the turn. */
  rejectQuestion(requestId: string): Promise<void>;
  onEvent(listener: (event: RelayRuntimeEvent) => void): () => void;
}
