import { createSignal, createUniqueId, For, lazy, onCleanup, Show, Suspense } from 'solid-js';
import { useApp } from '../../app/context.ts';
import { SecureContextNote } from '../../app/SecureContextNote.tsx';
import { explainRequest } from '../../net/explain.ts';
import { formatRoute } from '../../routes.ts';
import { Button } from '../../ui/Button.tsx';
import { Composer } from '../../ui/Composer.tsx';
import { Screen } from '../../ui/Screen.tsx';
import { timeAgo } from '../../ui/time.ts';
import { PAIRED_IN_TAB, installHint } from '../pair/install.ts';
import { QueuedTasks } from '../session/QueuedTasks.tsx';
import { ScopeNote } from '../session/ScopeNote.tsx';
import { createComposerOptions, createRememberedChoice, imagesRefused, turnOf } from '../session/composer-options.ts';
import type { OutboxAttachment } from '../../storage/db.ts';
import { inWorkspace, workspaceName } from '../../state/sessions.ts';
import { RowStateBadge } from './RowStateBadge.tsx';
import { rowState } from './row-state.ts';
import { OlderSessions, SessionSearch } from './SessionSearch.tsx';

/** Shown once the runtime's options arrive (connected): not part of the first screen's code. */
const TurnPicker = lazy(() => import('../session/TurnPicker.tsx').then((m) => ({ default: m.TurnPicker })));

/** Which computer's sessions are shown; a picker once there are several. */
function HostSwitcher() {
  const { relay } = useApp();
  const id = createUniqueId();
  return (
    <div class="host-switcher">
      <Show
        when={relay.hosts().length > 1}
        fallback={
          <p class="host-switcher__one">
            On <strong>{relay.activeHost()?.label}</strong>
          </p>
        }
      >
        <label for={id}>Computer</label>
        <select id={id} class="select" value={relay.activeHost()?.hostId} onChange={(e) => void relay.switchHost(e.currentTarget.value)}>
          <For each={relay.hosts()}>{(h) => <option value={h.hostId}>{h.label}</option>}</For>
        </select>
      </Show>
      <a class="host-switcher__pair" href="#/pair">
        Pair another computer
      </a>
    </div>
  );
}

/**
 * After pairing in a browser tab: the installed app keeps storage of its own and pairs too. On a
 * plain-HTTP page there is no installing: say what is missing there instead.
 */
function InstallNote() {
  const [shown, setShown] = createSignal(sessionStorage.getItem(PAIRED_IN_TAB) === '1');
  const dismiss = () => {
    sessionStorage.removeItem(PAIRED_IN_TAB);
    setShown(false);
  };
  const gotIt = () => (
    <div class="note__actions">
      <Button variant="quiet" onClick={dismiss}>
        Got it
      </Button>
    </div>
  );
  return (
    <Show when={shown()}>
      <Show when={window.isSecureContext} fallback={<SecureContextNote>{gotIt()}</SecureContextNote>}>
        <div class="note" role="status">
          <p>{installHint()}</p>
          {gotIt()}
        </div>
      </Show>
    </Show>
  );
}

/** The app was opened from an address the computer does not list: its pairing stays there. */
function UnlistedNote() {
  const { relay } = useApp();
  return (
    <Show when={relay.unlistedHere()}>
      {(stable) => (
        <div class="note" role="note" aria-label="Another address">
          <p>
            The app is open at <strong>{location.host}</strong>, an address {relay.activeHost()?.label} does not list. This phone’s pairing belongs to this address only. Use{' '}
            {relay.activeHost()?.label}’s own address, <a href={`${stable()}/#/pair`}>{new URL(stable()).host}</a>, and pair the app there once: it keeps working when this address
            changes.
          </p>
        </div>
      )}
    </Show>
  );
}

/** Workspaces whose sessions the computer could not list this time; the rest of the list is live. */
function UnavailableNote() {
  const { relay } = useApp();
  const [asking, setAsking] = createSignal(false);
  const retry = async () => {
    setAsking(true);
    try {
      await relay.refreshSessions();
    } finally {
      setAsking(false);
    }
  };
  const saved = (workspace: string) => relay.sessions.list().some((s) => s.directory !== undefined && inWorkspace(s.directory, workspace));
  return (
    <Show when={relay.unavailable().length > 0}>
      <div class="note" role="note" aria-label="Sessions not loaded">
        <For each={relay.unavailable()}>
          {(u) => (
            <p>
              Sessions in <strong title={u.workspace}>{workspaceName(u.workspace)}</strong> could not be loaded: {u.reason.replace(/\.$/, '')}.
              {saved(u.workspace) ? ' Those shown from it are this phone’s saved copy.' : ''}
            </p>
          )}
        </For>
        <div class="note__actions">
          <Button variant="quiet" disabled={asking()} onClick={() => void retry()}>
            Try again
          </Button>
        </div>
      </div>
    </Show>
  );
}

export default function SessionsScreen() {
  const { relay, router, connection } = useApp();
  const [now, setNow] = createSignal(Date.now());
  const clock = setInterval(() => setNow(Date.now()), 30_000);
  onCleanup(() => clearInterval(clock));
  const host = relay.activeHost;
  const connected = () => connection.state.status === 'connected';

  /** New tasks whose session is not made yet. */
  const queuedNew = () => relay.outbox.items().filter((i) => !i.sessionId);
  const queuedIn = (sessionId: string) => relay.outbox.items().filter((i) => i.sessionId === sessionId).length;

  const options = createComposerOptions();
  /** How new tasks run; once a task's session is made, it is that session's choice (tasks.ts). */
  const [choice, setChoice] = createRememberedChoice();

  const start = async (text: string, attachments: OutboxAttachment[]) => {
    const turn = turnOf(text, attachments, choice(), options());
    try {
      const id = await relay.newTask(turn.text, turn.choice, turn.attachments);
      // Sent at once: open it. Otherwise it shows below as queued.
      if (id) router.navigate({ name: 'session', param: id });
    } catch (err) {
      throw new Error(explainRequest(err));
    }
  };

  return (
    <Screen title="Sessions">
      <Show
        when={host()}
        fallback={
          <Show when={relay.started()}>
            <p>This phone is not paired with a computer yet.</p>
            <p>
              <a class="button button--primary" href="#/pair">
                Pair with your computer
              </a>
            </p>
          </Show>
        }
      >
        <HostSwitcher />
        <UnlistedNote />
        <InstallNote />
        <ScopeNote />
        <Show when={relay.may('run')}>
          {/* Its own boundary: loading the picker must not blank the screen (App's fallback). */}
          <Suspense>
            <Show when={options()}>{(o) => <TurnPicker options={o()} choice={choice()} onChange={setChoice} />}</Show>
          </Suspense>
          <Composer
            commands={options()?.commands}
            label="New task"
            placeholder="What should the agent do?"
            submitLabel="Start task"
            attach
            imagesRefused={imagesRefused(options(), choice())}
            note={connected() ? undefined : `Not connected: the task stays on this phone and is sent when ${host()!.label} is reachable.`}
            onSend={start}
          />
        </Show>
        <QueuedTasks items={queuedNew()} />
        <Show when={relay.listError()}>
          <p class="note note--error" role="alert">
            {relay.listError()}
          </p>
        </Show>
        <UnavailableNote />
        <Show when={!relay.sessionsFresh() && relay.sessions.list().length > 0}>
          <p class="hint" role="status">
            Saved copy from this phone; it updates when {host()!.label} answers.
          </p>
        </Show>
        <h2 class="section-title" id="sessions-heading">
          Recent sessions
        </h2>
        <SessionSearch />
        <Show when={relay.sessions.list().length > 0} fallback={<p class="hint">{queuedNew().length ? 'No sessions yet.' : 'No sessions yet. Start a task above.'}</p>}>
          <ul class="session-list" aria-labelledby="sessions-heading">
            <For each={relay.sessions.list()}>
              {(s) => (
                <li>
                  <a class="session-row" href={formatRoute({ name: 'session', param: s.sessionId })}>
                    <span class="session-row__title">{relay.titleOf(s.sessionId)}</span>
                    <Show when={s.preview}>
                      <span class="session-row__preview">{s.preview}</span>
                    </Show>
                    <span class="session-row__meta">
                      <RowStateBadge state={rowState(relay.statusOf(s.sessionId), s.stopped)} />
                      <Show when={queuedIn(s.sessionId)}>{(n) => <span class="session-row__queued">{n()} queued</span>}</Show>
                      <span class="session-row__time">{timeAgo(s.updatedAt, now())}</span>
                    </span>
                  </a>
                </li>
              )}
            </For>
          </ul>
          <OlderSessions />
        </Show>
      </Show>
    </Screen>
  );
}
