import { createEffect, createMemo, createSignal, For, onCleanup, onMount, Show, Suspense, type Accessor } from 'solid-js';
import type { FileChange } from '../../../shared/protocol/changes.ts';
import { useApp } from '../../app/context.ts';
import { explainRequest } from '../../net/explain.ts';
import { Button } from '../../ui/Button.tsx';
import { parseDiff } from '../../ui/diff.ts';
import { createAnswer } from './answer.ts';
import { numberLines, visibleRows, type NumberedLine } from './diff-numbers.ts';
import { VcsStatus } from './VcsStatus.tsx';
import './review.css';

/** Height of one diff row in px (review.css sets the same). */
const ROW = 20;

/**
 * A session's review and management, loaded only when opened (it is not part of the first
 * screen): what the session changed (files with their counts, a windowed diff per file, each file
 * read-only), the workspace's branch and uncommitted files, undo to before a chosen turn after confirming the files it changes, and bring it
 * back; rename, fork, compact and delete.
 */
export default function ReviewPanel(props: { sessionId: string; directory?: string }) {
  const { relay, router } = useApp();
  const id = props.sessionId;
  const mayRun = () => relay.may('run');
  const [error, setError] = createSignal('');
  const [working, setWorking] = createSignal('');
  // The list stays in place while an undo asks again; the first load waits in its own boundary below.
  const diff = createAnswer(() => relay.request({ t: 'session.diff', sessionId: id }));
  const changes = diff.value;
  const diffError = diff.error;
  const [open, setOpen] = createSignal<string>();
  const [file, setFile] = createSignal<{ path: string; content: string }>();

  const act = async (what: string, run: () => Promise<unknown>) => {
    setError('');
    setWorking(what);
    try {
      await run();
    } catch (err) {
      setError(explainRequest(err));
    } finally {
      setWorking('');
    }
  };

  // Undo: the turns are the session's user messages, oldest first, from the transcript the session
  // screen already holds (asking the host for the whole of it again fails on a session over the
  // frame limit, and costs a long session's megabytes twice).
  const timeline = relay.timeline(id);
  const turns = createMemo(() => {
    const texts = new Map<string, string[]>();
    for (const item of timeline.items()) {
      const prompt = item.kind === 'file' || (item.kind === 'text' && item.role() === 'user');
      if (!prompt) continue;
      const words = texts.get(item.messageId) ?? [];
      if (item.kind === 'text') words.push(item.text());
      texts.set(item.messageId, words);
    }
    return [...texts].map(([messageId, words]) => ({ messageId, text: words.join(' ').slice(0, 60) || 'a message' }));
  });
  const [target, setTarget] = createSignal('');
  const [confirming, setConfirming] = createSignal<FileChange[]>();
  const askRevert = () =>
    act('Checking…', async () => {
      const messageId = target() || turns()[0]?.messageId;
      if (!messageId) throw new Error('Nothing to undo: the session has no turn yet.');
      setTarget(messageId);
      setConfirming((await relay.request({ t: 'session.diff', sessionId: id, messageId })).files);
    });
  const revert = () =>
    act('Undoing…', async () => {
      await relay.request({ t: 'session.revert', sessionId: id, messageId: target() });
      setConfirming(undefined);
      await diff.refetch();
    });
  const unrevert = () =>
    act('Bringing back…', async () => {
      await relay.request({ t: 'session.unrevert', sessionId: id });
      await diff.refetch();
    });
  const view = (path: string) =>
    act('Opening…', async () => {
      const absolute = props.directory ? `${props.directory.replace(/[\\/]+$/, '')}/${path}` : path;
      const read = await relay.request({ t: 'file.read', path: absolute });
      setFile({ path, content: read.content });
    });

  const [title, setTitle] = createSignal(relay.sessions.get(id)?.title ?? '');
  const [deleting, setDeleting] = createSignal(false);
  const rename = () => act('Renaming…', () => relay.request({ t: 'session.rename', sessionId: id, title: title().trim() }));
  const fork = () =>
    act('Forking…', async () => {
      const made = await relay.request({ t: 'session.fork', sessionId: id });
      router.navigate({ name: 'session', param: made.sessionId });
    });
  const compact = () => act('Compacting…', () => relay.request({ t: 'session.compact', sessionId: id }));
  const remove = () =>
    act('Deleting…', async () => {
      await relay.request({ t: 'session.delete', sessionId: id });
      router.navigate({ name: 'sessions' });
    });

  return (
    <section class="review" aria-label="Changes and session actions">
      <h2 class="review__title">Changes</h2>
      <Show when={error()}>
        <p class="note note--error" role="alert">
          {error()}
        </p>
      </Show>
      <Show when={working()}>
        <p class="loading" role="status">
          {working()}
        </p>
      </Show>
      <Suspense fallback={<p class="loading">Loading changes…</p>}>
        <Show when={diffError()}>
          <p class="note note--error" role="alert">
            {diffError()}
          </p>
        </Show>
        <Show when={changes()}>
          {(c) => (
            <Show when={c().files.length} fallback={<p class="hint">This session changed no files.</p>}>
              <ul class="review__files">
                <For each={c().files}>
                  {(f) => (
                    <li class="review__file">
                      <button type="button" class="review__file-name" aria-expanded={open() === f.path} onClick={() => setOpen(open() === f.path ? undefined : f.path)}>
                        {f.path}
                      </button>
                      <span class="review__counts">
                        <span class="diff__plus">+{f.additions}</span> <span class="diff__minus">−{f.deletions}</span>
                      </span>
                      <Show when={open() === f.path}>
                        <Show when={f.patch} fallback={<p class="hint">{f.patchOmitted ? 'This diff is too large to show on the phone.' : 'No diff for this file.'}</p>}>
                          {(patch) => <NumberedDiff lines={numberLines(parseDiff(patch()))} path={f.path} />}
                        </Show>
                        <Show when={f.status !== 'deleted'}>
                          <Button variant="quiet" onClick={() => void view(f.path)}>
                            View file
                          </Button>
                        </Show>
                      </Show>
                    </li>
                  )}
                </For>
              </ul>
            </Show>
          )}
        </Show>
      </Suspense>
      <Show when={file()}>
        {(f) => (
          <figure class="review__file-view">
            <figcaption>{f().path} (read-only)</figcaption>
            <NumberedDiff
              lines={numberLines(
                f()
                  .content.replace(/\n$/, '')
                  .split('\n')
                  .map((text) => ({ kind: 'ctx' as const, text })),
              )}
              path={f().path}
            />
            <Button variant="quiet" onClick={() => setFile(undefined)}>
              Close file
            </Button>
          </figure>
        )}
      </Show>
      <VcsStatus sessionId={id} />

      <Show when={mayRun()}>
        <h2 class="review__title">Undo</h2>
        <label class="review__field">
          Undo from
          <select value={target()} onChange={(e) => setTarget(e.currentTarget.value)}>
            <For each={turns()}>{(t) => <option value={t.messageId}>{t.text}</option>}</For>
          </select>
        </label>
        <div class="review__actions">
          <Button variant="danger" disabled={!!working()} onClick={() => void askRevert()}>
            Undo…
          </Button>
          <Button disabled={!!working()} onClick={() => void unrevert()}>
            Bring back undone changes
          </Button>
        </div>
        <Show when={confirming()}>
          {(files) => (
            <div class="review__confirm" role="alertdialog" aria-label="Confirm undo">
              <p>Undo this turn and every later one? These files change back:</p>
              <ul>
                <For each={files()} fallback={<li>no files (only the conversation)</li>}>
                  {(f) => <li>{f.path}</li>}
                </For>
              </ul>
              <Button variant="danger" onClick={() => void revert()}>
                Undo these changes
              </Button>
              <Button onClick={() => setConfirming(undefined)}>Cancel</Button>
            </div>
          )}
        </Show>

        <h2 class="review__title">Session</h2>
        <label class="review__field">
          Title
          <input value={title()} maxlength="200" onInput={(e) => setTitle(e.currentTarget.value)} />
        </label>
        <div class="review__actions">
          <Button disabled={!title().trim() || !!working()} onClick={() => void rename()}>
            Rename
          </Button>
          <Button disabled={!!working()} onClick={() => void fork()}>
            Fork
          </Button>
          <Button disabled={!!working()} onClick={() => void compact()}>
            Compact
          </Button>
          <Button variant="danger" disabled={!!working()} onClick={() => setDeleting(true)}>
            Delete…
          </Button>
        </div>
        <Show when={deleting()}>
          <div class="review__confirm" role="alertdialog" aria-label="Confirm delete">
            <p>Delete this session on your computer, for every device? This cannot be undone.</p>
            <Button variant="danger" onClick={() => void remove()}>
              Delete session
            </Button>
            <Button onClick={() => setDeleting(false)}>Cancel</Button>
          </div>
        </Show>
      </Show>
    </section>
  );
}

type Highlighter = typeof import('../../markdown/highlight.ts');

/**
 * A row's code, highlighted as the file's language (named by its extension) once the code
 * blocks' highlighter (markdown/highlight.ts) is loaded. Line by line: a row can be shown
 * without the rows around it, at the cost of constructs that span lines.
 */
function RowCode(props: { text: string; lang: string; highlighter: Accessor<Highlighter | undefined> }) {
  let node!: HTMLSpanElement;
  createEffect(() => props.highlighter()?.highlightInto(node, props.text, props.lang));
  return <span ref={node}>{props.text}</span>;
}

/**
 * A diff (or a file) with line numbers, in a box that scrolls both ways; only the rows in view
 * are in the page, so a 5,000-line diff scrolls smoothly. Lines are not wrapped: a box wider
 * than the screen shows a shade at its right edge and says it scrolls sideways.
 */
function NumberedDiff(props: { lines: NumberedLine[]; path: string }) {
  let box!: HTMLElement;
  const lang = /\.([\w+-]+)$/.exec(props.path)?.[1]?.toLowerCase() ?? '';
  // The line number columns fit the largest number (review.css).
  const digits = String(props.lines.reduce((most, l) => Math.max(most, l.old ?? 0, l.new ?? 0), 0)).length;
  const [highlighter, setHighlighter] = createSignal<Highlighter>();
  // Loaded with the first diff of a file that has an extension; not loaded (offline, old cache): plain text.
  if (lang) import('../../markdown/highlight.ts').then(setHighlighter, () => {});
  const [range, setRange] = createSignal({ from: 0, to: 60 });
  const [wide, setWide] = createSignal(false);
  const update = () => {
    setRange(visibleRows(box.scrollTop, box.clientHeight || 400, ROW, props.lines.length));
    setWide(box.scrollWidth > box.clientWidth + 1 && box.scrollLeft + box.clientWidth < box.scrollWidth - 1);
  };
  onMount(() => {
    update();
    const observer = new ResizeObserver(update);
    observer.observe(box);
    onCleanup(() => observer.disconnect());
  });
  const sign = (l: NumberedLine) => (l.kind === 'add' ? '+' : l.kind === 'del' ? '−' : ' ');
  return (
    <div class={`review-diff${wide() ? ' review-diff--wide' : ''}`}>
      {/* A named section is a region: it scrolls, so it takes focus for the keyboard. */}
      <section
        ref={box}
        class="review-diff__box"
        tabindex="0"
        aria-label={`${props.path}: ${props.lines.length} lines`}
        style={{ height: `${Math.min(props.lines.length * ROW + 2, 400)}px`, '--num-width': `${Math.max(3, digits)}ch` }}
        onScroll={update}
      >
        <div class="review-diff__rows" style={{ height: `${props.lines.length * ROW}px`, 'padding-top': `${range().from * ROW}px` }}>
          <For each={props.lines.slice(range().from, range().to)}>
            {(l) => (
              <div class={`review-diff__row review-diff__row--${l.kind}`}>
                <span class="review-diff__num">{l.old ?? ''}</span>
                <span class="review-diff__num">{l.new ?? ''}</span>
                <span class="review-diff__text">
                  <Show when={l.kind !== 'hunk'} fallback={l.text}>
                    {`${sign(l)} `}
                    <RowCode text={l.text} lang={lang} highlighter={highlighter} />
                  </Show>
                </span>
              </div>
            )}
          </For>
        </div>
      </section>
      <Show when={wide()}>
        <p class="review-diff__cue" aria-hidden="true">
          Long lines: scroll sideways →
        </p>
      </Show>
    </div>
  );
}
