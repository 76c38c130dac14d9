import { createSignal, For, Show } from 'solid-js';
import type { FileChange } from '../../../shared/protocol/changes.ts';
import { useApp } from '../../app/context.ts';
import { explainRequest } from '../../net/explain.ts';
import { Button } from '../../ui/Button.tsx';

/** Reverting (or undoing it) under a running turn would pull the files from under the agent: refused here as on the host. */
export const REVERT_WHILE_RUNNING = 'Not while the agent is working in this session: stop it or wait until it is done, then try again.';

/**
 * Undo from the timeline, on one of the person's messages: "Revert to here" undoes this message
 * and everything after it (the runtime's revert), after a confirmation listing the files that
 * change back; the message the session is reverted to offers to undo the revert.
 */
export function RevertAction(props: { sessionId: string; messageId: string; revertedTo?: string; busy: boolean }) {
  const { relay } = useApp();
  const [error, setError] = createSignal('');
  const [working, setWorking] = createSignal(false);
  const [confirming, setConfirming] = createSignal<FileChange[]>();

  const act = async (run: () => Promise<unknown>) => {
    setError('');
    if (props.busy) {
      setError(REVERT_WHILE_RUNNING);
      return;
    }
    setWorking(true);
    try {
      await run();
    } catch (err) {
      setError(explainRequest(err));
    } finally {
      setWorking(false);
    }
  };
  const ask = () => act(async () => setConfirming((await relay.request({ t: 'session.diff', sessionId: props.sessionId, messageId: props.messageId })).files));
  const revert = () =>
    act(async () => {
      await relay.request({ t: 'session.revert', sessionId: props.sessionId, messageId: props.messageId });
      setConfirming(undefined);
    });
  const unrevert = () => act(() => relay.request({ t: 'session.unrevert', sessionId: props.sessionId }));

  return (
    <div class="revert">
      <Show
        when={props.revertedTo === props.messageId}
        fallback={
          <button type="button" class="link-button part__edit" disabled={working()} onClick={() => void ask()}>
            Revert to here…
          </button>
        }
      >
        <p class="revert__state">
          Reverted: this message and everything after it are undone.{' '}
          <button type="button" class="link-button" disabled={working()} onClick={() => void unrevert()}>
            Undo revert
          </button>
        </p>
      </Show>
      <Show when={error()}>
        <p class="note note--error" role="alert">
          {error()}
        </p>
      </Show>
      <Show when={confirming()}>
        {(files) => (
          <div class="revert__confirm" role="alertdialog" aria-label="Confirm revert">
            <p>Undo this message and everything after it? These files change back:</p>
            <ul>
              <For each={files()} fallback={<li>no files (only the conversation)</li>}>
                {(f) => <li>{f.path}</li>}
              </For>
            </ul>
            <div class="revert__actions">
              <Button variant="danger" disabled={working()} onClick={() => void revert()}>
                Revert
              </Button>
              <Button onClick={() => setConfirming(undefined)}>Cancel</Button>
            </div>
          </div>
        )}
      </Show>
    </div>
  );
}
