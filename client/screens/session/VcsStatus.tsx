import { For, Show, Suspense } from 'solid-js';
import { useApp } from '../../app/context.ts';
import { createAnswer } from './answer.ts';
import { Button } from '../../ui/Button.tsx';

const STATUS_WORD = { added: 'new', deleted: 'deleted', modified: 'changed' } as const;

/**
 * The version-control status of the session's directory, read-only: its branch and the files
 * changed in the working tree (by anyone, not only this session), with their counts.
 */
export function VcsStatus(props: { sessionId: string }) {
  const { relay } = useApp();
  // The list stays in place while Refresh asks again; the first load waits in its own boundary below.
  const answer = createAnswer(() => relay.request({ t: 'workspace.vcs', sessionId: props.sessionId }));
  const vcs = answer.value;
  const error = answer.error;
  return (
    <section class="vcs" aria-label="Version control">
      <h2 class="review__title">Version control</h2>
      <Suspense fallback={<p class="loading">Loading…</p>}>
        <Show when={error()}>
          <p class="note note--error" role="alert">
            {error()}
          </p>
        </Show>
        <Show when={vcs()}>
          {(v) => (
            <>
              <p class="vcs__branch">
                <Show when={v().branch} fallback="No branch: not a git repository, or a detached HEAD.">
                  {(b) => (
                    <>
                      On branch <strong>{b()}</strong>
                    </>
                  )}
                </Show>
              </p>
              <Show when={v().files.length} fallback={<p class="hint">No uncommitted changes.</p>}>
                <ul class="vcs__files" aria-label="Uncommitted changes">
                  <For each={v().files}>
                    {(f) => (
                      <li class="vcs__file">
                        <span class="vcs__path">{f.path}</span>
                        <span class="review__counts">
                          {STATUS_WORD[f.status]} <span class="diff__plus">+{f.additions}</span> <span class="diff__minus">−{f.deletions}</span>
                        </span>
                      </li>
                    )}
                  </For>
                </ul>
                <Show when={v().omitted}>{(n) => <p class="hint">and {n()} more changed files.</p>}</Show>
              </Show>
            </>
          )}
        </Show>
      </Suspense>
      <Button variant="quiet" disabled={answer.loading()} onClick={() => void answer.refetch()}>
        Refresh
      </Button>
    </section>
  );
}
