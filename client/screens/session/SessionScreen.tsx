import { createSignal, lazy, Show, Suspense } from 'solid-js';
import { useApp } from '../../app/context.ts';
import { explainRequest } from '../../net/explain.ts';
import type { ScreenProps } from '../../routes.ts';
import { Button } from '../../ui/Button.tsx';
import type { OutboxAttachment } from '../../storage/db.ts';
import { Composer } from '../../ui/Composer.tsx';
import { Screen } from '../../ui/Screen.tsx';
import { StatusBadge } from '../../ui/StatusBadge.tsx';
import { hostImage } from '../../attachments/host-images.ts';
import { QueuedTasks } from './QueuedTasks.tsx';
import { RevertAction } from './RevertAction.tsx';
import { ScopeNote } from './ScopeNote.tsx';
import { SessionUsage } from './SessionUsage.tsx';
import { SubSessions } from './SubSessions.tsx';
import { TimelineView } from './TimelineView.tsx';
import { TodoList } from './TodoList.tsx';
import { createComposerOptions, createRememberedChoice, imagesRefused, turnOf } from './composer-options.ts';
import { TurnPicker } from './TurnPicker.tsx';

/** Review and management: not on the first screen, so loaded when first opened. */
const ReviewPanel = lazy(() => import('./ReviewPanel.tsx'));

/**
 * One session: its live conversation, todo list, its tasks still in the outbox, a stop button and
 * a follow-up box (the last two only for a phone allowed to run tasks).
 */
export default function SessionScreen(props: ScreenProps) {
  const { relay, connection } = useApp();
  const id = props.param!;
  const timeline = relay.timeline(id);
  const summary = () => relay.sessions.get(id);
  // The same status the session list shows (the host's latest word), so the two never disagree.
  const status = () => relay.statusOf(id);
  const note = () => timeline.statusNote() || summary()?.note || '';
  const busy = () => status() === 'running' || status() === 'waiting';
  const connected = () => connection.state.status === 'connected';
  const mayRun = () => relay.may('run');
  const queued = () => relay.outbox.items().filter((i) => i.sessionId === id);
  const hostLabel = () => relay.activeHost()?.label ?? 'your computer';
  const load = () => relay.sessionLoad(id);
  const [stopping, setStopping] = createSignal(false);
  const [stopError, setStopError] = createSignal('');
  const [stopNote, setStopNote] = createSignal('');
  const [reviewing, setReviewing] = createSignal(false);

  const stop = async () => {
    setStopping(true);
    setStopError('');
    setStopNote('');
    try {
      const { running } = await relay.stop(id);
      if (!running) setStopNote('Nothing was running; the task had already ended.');
    } catch (err) {
      setStopError(explainRequest(err));
    } finally {
      setStopping(false);
    }
  };

  const [unseen, setUnseen] = createSignal<{ latest(): void }>();
  /** The last message put back into the composer to edit and send again. */
  const [fill, setFill] = createSignal<{ text: string }>();
  const options = createComposerOptions(id);
  const [choice, choose] = createRememberedChoice(id);

  /** Sent, and nothing of the agent's answer yet: the last part is the person's own message. */
  const thinking = () => {
    if (queued().some((i) => i.phase === 'sending')) return true;
    const last = timeline.items().at(-1);
    return status() === 'running' && last?.kind === 'text' && last.role() === 'user';
  };

  const send = async (text: string, attachments: OutboxAttachment[] = []) => {
    const turn = turnOf(text, attachments, choice(), options());
    try {
      await relay.sendTask(id, turn.text, turn.choice, turn.attachments);
    } catch (err) {
      throw new Error(explainRequest(err));
    }
  };

  return (
    <Screen title={relay.titleOf(id)} class="screen--session">
      <div class="session-bar">
        <a class="back-link" href="#/sessions">
          All sessions
        </a>
        <div class="session-bar__status" role="status">
          <StatusBadge status={status()} />
        </div>
        <Show when={busy() && mayRun()}>
          <Button variant="danger" disabled={stopping() || !connected()} onClick={() => void stop()}>
            {stopping() ? 'Stopping…' : 'Stop'}
          </Button>
        </Show>
      </div>
      <SessionUsage sessionId={id} />
      <SubSessions sessionId={id} />
      <Button variant="quiet" aria-expanded={reviewing()} onClick={() => setReviewing(!reviewing())}>
        {reviewing() ? 'Hide changes and actions' : 'Changes and actions'}
      </Button>
      <Show when={reviewing()}>
        <Suspense fallback={<p class="loading">Loading…</p>}>
          <ReviewPanel sessionId={id} directory={summary()?.directory} />
        </Suspense>
      </Show>
      <Show when={note()}>
        <p class={`note${status() === 'failed' ? ' note--error' : ''}`}>{note()}</p>
      </Show>
      <Show when={stopError()}>
        <p class="note note--error" role="alert">
          {stopError()}
        </p>
      </Show>
      <Show when={stopNote()}>
        <p class="note" role="status">
          {stopNote()}
        </p>
      </Show>
      <Show when={load().error}>
        <p class="note note--error" role="alert">
          {timeline.items().length ? `Showing the saved copy. ${load().error}` : load().error}
        </p>
      </Show>
      <Show when={load().loading && !timeline.items().length}>
        <p class="loading">Loading messages…</p>
      </Show>
      <TodoList todos={timeline.todos()} />
      <TimelineView
        items={timeline.items}
        onRetry={mayRun() ? (promptId) => relay.retry(id, promptId) : undefined}
        waiting={(callId) => relay.permissions().some((p) => p.sessionId === id && p.tool?.callId === callId)}
        onUnseen={(u, latest) => setUnseen(u ? { latest } : undefined)}
        onEditLast={mayRun() && !busy() ? (text) => setFill({ text }) : undefined}
        hostImage={connected() ? (f) => hostImage(relay.request, { sessionId: id, messageId: f.messageId, partId: f.key }, relay.activeHost()?.hostId) : undefined}
        userActions={mayRun() ? (messageId) => <RevertAction sessionId={id} messageId={messageId} revertedTo={summary()?.revertedTo} busy={busy()} /> : undefined}
      />
      <Show when={thinking()}>
        <p class="thinking" role="status">
          <span class="thinking__dots" aria-hidden="true" />
          Thinking…
        </p>
      </Show>
      <Show when={timeline.loaded() && !timeline.items().length && !load().loading && !queued().length}>
        <p class="hint">Nothing in this session yet.</p>
      </Show>
      <QueuedTasks items={queued()} />
      <ScopeNote />
      <div class="session-composer" classList={{ 'session-composer--empty': !mayRun() }}>
        <Show when={unseen()}>
          {(u) => (
            <button type="button" class="timeline__unseen" onClick={() => u().latest()}>
              New messages ↓
            </button>
          )}
        </Show>
        <Show when={mayRun()}>
          <Show when={options()}>{(o) => <TurnPicker options={o()} choice={choice()} onChange={choose} />}</Show>
          <Composer
            commands={options()?.commands}
            fill={fill()}
            label="Follow-up"
            placeholder="Reply, or give a new task"
            submitLabel="Send"
            attach
            imagesRefused={imagesRefused(options(), choice())}
            note={
              connected()
                ? busy()
                  ? 'The agent is still working: your message waits in order and goes when it is done.'
                  : undefined
                : `Not connected: your message stays on this phone and is sent when ${hostLabel()} is reachable.`
            }
            onSend={send}
          />
        </Show>
      </div>
    </Screen>
  );
}
