import { createSignal, createUniqueId, For, Show } from 'solid-js';
import { useApp } from '../../app/context.ts';
import { changeable, typedText, type OutboxItem } from '../../state/outbox.ts';
import { Button } from '../../ui/Button.tsx';
import { AttachmentChip } from '../../ui/Composer.tsx';
import { formatBytes } from '../../attachments/prepare.ts';

const PHASE_LABEL: Record<OutboxItem['phase'], string> = {
  queued: 'Queued',
  waiting: 'Queued',
  sending: 'Sending…',
  failed: 'Not sent',
};

/** One task in the outbox: its text and state, and Edit/Cancel while queued or Retry/Delete once refused. */
function QueuedTask(props: { item: OutboxItem }) {
  const { relay } = useApp();
  const fieldId = createUniqueId();
  const [editing, setEditing] = createSignal(false);
  const [draft, setDraft] = createSignal('');
  const [error, setError] = createSignal('');
  const act = async (run: () => Promise<void>) => {
    setError('');
    try {
      await run();
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    }
  };
  const startEdit = () => {
    setDraft(props.item.text);
    setEditing(true);
  };
  const save = () =>
    act(async () => {
      await relay.outbox.edit(props.item.key, draft());
      setEditing(false);
    });
  return (
    <li class="queued" data-phase={props.item.phase}>
      <Show when={editing()} fallback={<p class="queued__text">{typedText(props.item)}</p>}>
        <label for={fieldId} class="visually-hidden">
          Edit queued task
        </label>
        <textarea id={fieldId} class="composer__field" rows="3" value={draft()} onInput={(e) => setDraft(e.currentTarget.value)} />
      </Show>
      <Show when={props.item.attachments?.length}>
        <ul class="attachments" aria-label="Attached files">
          <For each={props.item.attachments}>{(f) => <AttachmentChip file={f} />}</For>
        </ul>
      </Show>
      <Show when={props.item.upload}>
        {(u) => (
          <p class="queued__upload">
            <progress aria-label="Sending attached files" max={u().total} value={u().sent} />
            <span>
              {formatBytes(u().sent)} of {formatBytes(u().total)}
            </span>
          </p>
        )}
      </Show>
      <p class="queued__state">
        <span class="badge" data-status={props.item.phase === 'failed' ? 'failed' : 'waiting'}>
          <span class="badge__dot" aria-hidden="true" />
          {PHASE_LABEL[props.item.phase]}
        </span>
        <Show when={props.item.phase !== 'failed' && props.item.note}>
          <span class="queued__note">{props.item.note}</span>
        </Show>
      </p>
      <Show when={props.item.failed}>
        {(failed) => (
          <p class="note note--error" role="alert">
            {failed().message}
          </p>
        )}
      </Show>
      <Show when={error()}>
        <p class="note note--error" role="alert">
          {error()}
        </p>
      </Show>
      <div class="queued__actions">
        <Show when={props.item.phase === 'failed'}>
          <Button variant="primary" onClick={() => void act(() => relay.outbox.retry(props.item.key))}>
            Retry
          </Button>
          <Button variant="danger" onClick={() => void act(() => relay.outbox.remove(props.item.key))}>
            Delete
          </Button>
        </Show>
        <Show when={changeable(props.item)}>
          <Show
            when={editing()}
            fallback={
              <>
                <Button onClick={startEdit}>Edit</Button>
                <Button variant="quiet" onClick={() => void act(() => relay.outbox.remove(props.item.key))}>
                  Cancel task
                </Button>
              </>
            }
          >
            <Button variant="primary" disabled={!draft().trim()} onClick={() => void save()}>
              Save
            </Button>
            <Button variant="quiet" onClick={() => setEditing(false)}>
              Keep as it was
            </Button>
          </Show>
        </Show>
      </div>
    </li>
  );
}

/** Tasks written on this phone that the computer has not accepted yet, oldest first. */
export function QueuedTasks(props: { items: readonly OutboxItem[] }) {
  return (
    <Show when={props.items.length > 0}>
      <ul class="queued-list" aria-label="Queued tasks">
        <For each={props.items}>{(item) => <QueuedTask item={item} />}</For>
      </ul>
    </Show>
  );
}
