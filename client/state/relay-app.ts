/**
 * What the screens read and call: the app's model of the computers it is paired with
 * (`RelayApp`), and what main.tsx gives the wiring (`RelayAppDeps`). relay.ts composes it from one
 * store per domain.
 * @module
 */
import type { Accessor } from 'solid-js';
import type { PermissionReply, Scope } from '../../shared/protocol/messages.ts';
import type { PermissionAskedEvent } from '../../shared/protocol/runtime-events.ts';
import type { QuestionAnswers, QuestionAskedEvent } from '../../shared/protocol/questions.ts';
import type { UnavailableWorkspace } from '../../shared/protocol/sessions-list.ts';
import type { DeviceIdentity } from '../net/device-name.ts';
import type { HostLink } from '../net/host-link.ts';
import type { ComposerOptions } from '../../shared/protocol/composer.ts';
import type { SessionChoice } from '../storage/choices.ts';
import type { HostRecord, RelayDatabase } from '../storage/db.ts';
import type { ExpiredPermission } from './approvals.ts';
import type { ConnectionStore } from './connection.ts';
import type { Health } from './health.ts';
import type { EndedQuestion } from './questions.ts';
import type { Outbox } from './outbox.ts';
import type { SessionsStore, SessionSummary } from './sessions.ts';
import type { Tasks } from './tasks.ts';
import type { SessionStatus, Timeline } from './timeline.ts';
import type { SessionLoad } from './timelines.ts';

export interface RelayApp {
  /** Paired computers, oldest pairing first. */
  readonly hosts: Accessor<readonly HostRecord[]>;
  readonly activeHost: Accessor<HostRecord | undefined>;
  /** True once stored computers and cached sessions have been read. */
  readonly started: Accessor<boolean>;
  readonly sessions: SessionsStore;
  /** True once the connected host answered `sessions.list` (the list is live, not cached). */
  readonly sessionsFresh: Accessor<boolean>;
  readonly listError: Accessor<string>;
  /** Workspaces the host could not list in its last answer, with why (session-list.ts). */
  readonly unavailable: Accessor<readonly UnavailableWorkspace[]>;
  /** Older sessions than those listed are on the host (session-list.ts). */
  readonly hasOlderSessions: Accessor<boolean>;
  loadOlderSessions(): Promise<void>;
  /** Sessions whose title contains the text, as the host finds them. */
  searchSessions(text: string): Promise<SessionSummary[]>;
  /** Approvals the computer in use waits for, oldest first. */
  readonly permissions: Accessor<readonly PermissionAskedEvent[]>;
  /** Requests that expired before they were answered, shown until the person dismisses them. */
  readonly expiredPermissions: Accessor<readonly ExpiredPermission[]>;
  /** The agent's questions the computer in use waits on, oldest first (questions.ts). */
  readonly questions: Accessor<readonly QuestionAskedEvent[]>;
  /** Questions that timed out or were lost before this phone answered, shown until dismissed. */
  readonly endedQuestions: Accessor<readonly EndedQuestion[]>;
  readonly health: Health;
  /** The connected computer's stable address, when it does not list this page's (hosts.ts). */
  readonly unlistedHere: Accessor<string | undefined>;
  statusOf(sessionId: string): SessionStatus;
  timeline(sessionId: string): Timeline;
  sessionLoad(sessionId: string): SessionLoad;
  start(): Promise<void>;
  /** Stores a newly paired computer and switches to it. */
  addHost(record: HostRecord): Promise<void>;
  switchHost(hostId: string): Promise<void>;
  forgetHost(hostId: string): Promise<void>;
  renameHost(hostId: string, label: string): Promise<void>;
  newTask: Tasks['newTask'];
  sendTask: Tasks['sendTask'];
  /** What the session is called: OpenCode's title, or the first words of its first prompt until it has one (titles.ts). */
  titleOf(sessionId: string): string;
  /**
   * The agent, model and variant last chosen on this phone for a session, or without one for new
   * tasks on the computer in use (none: the runtime's defaults).
   */
  sessionChoice(sessionId: string | undefined): Promise<SessionChoice | undefined>;
  rememberChoice(sessionId: string | undefined, choice: SessionChoice): Promise<void>;
  /**
   * What the runtime offers a session's composer, or a new task's (no `sessionId`), asked of the
   * computer in use; kept on this phone per computer and directory for when it is not reachable.
   */
  composerOptions(sessionId?: string): Promise<ComposerOptions>;
  /** What the computer in use offered last time for the same directory, from this phone. */
  savedComposerOptions(sessionId?: string): Promise<ComposerOptions | undefined>;
  /** Tasks not yet accepted by the computer in use, and what the person may do with them. */
  readonly outbox: Pick<Outbox, 'items' | 'edit' | 'remove' | 'retry'>;
  /** Whether this device holds `scope` on the computer in use (as its last welcome said). */
  may(scope: Scope): boolean;
  /**
   * Stops the session's turn; resolves with whether one was running (false: it had already ended,
   * or a restart cut it). Either way the session is read again, so nothing shows running that is not.
   */
  stop(sessionId: string): Promise<{ running: boolean }>;
  /** Sends the prompt of a turn cut short again, as a new task (through the outbox). */
  retry(sessionId: string, promptId: string): Promise<void>;
  /** Answers a waiting request (approvals.ts: rejects when it expired). */
  replyPermission(request: PermissionAskedEvent, reply: PermissionReply, message?: string): Promise<void>;
  dismissExpired(requestId: string): void;
  /** Answers a question: one list of chosen labels (or typed text) per question. */
  replyQuestion(request: QuestionAskedEvent, answers: QuestionAnswers): Promise<void>;
  /** Dismisses a question (the agent's turn ends). */
  rejectQuestion(request: QuestionAskedEvent): Promise<void>;
  dismissEndedQuestion(requestId: string): void;
  /** Whether a `question` tool call's question timed out (questions.ts). */
  questionTimedOut(callId: string): boolean;
  reconnectNow(): void;
  /** One request to the computer in use (for features with state of their own, such as metrics). */
  request: HostLink['request'];
  refreshSessions(): Promise<void>;
  refreshHealth(): Promise<void>;
}

export interface RelayAppDeps {
  connection: ConnectionStore;
  db: () => Promise<RelayDatabase>;
  /** The network layer, imported on first use so the first screen does not wait for the crypto. */
  loadNet: () => Promise<typeof import('../net/host-link.ts')>;
  device: () => DeviceIdentity;
  origin: string;
  fetchHealth?: () => Promise<unknown>;
  now?: () => number;
}
