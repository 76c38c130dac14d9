import { createEffect, createMemo, createSignal, For, onCleanup, onMount, Show, untrack } from 'solid-js';
import { useApp } from '../../app/context.ts';
import { createMarkdownView } from '../../markdown/render.ts';
import type { FileItem, NoticeItem, TextItem, ToolView } from '../../state/timeline.ts';
import { formatBytes } from '../../attachments/prepare.ts';
import { sentImage } from '../../attachments/previews.ts';
import { ATTACHMENT_MAX_BYTES, isImageType } from '../../../shared/protocol/attachments.ts';
import { Button } from '../../ui/Button.tsx';
import { Sheet } from '../../ui/Sheet.tsx';
import { DiffView } from '../../ui/DiffView.tsx';
import { additionDiff, parseDiff } from '../../ui/diff.ts';

/** Markdown that grows as deltas arrive; only its unfinished last block is ever rebuilt. */
function Markdown(props: { text: string }) {
  const view = createMarkdownView();
  createEffect(() => view.update(props.text));
  return view.root;
}

export function TextPart(props: { item: TextItem }) {
  const [open, setOpen] = createSignal(false);
  return (
    <Show
      when={props.item.kind === 'text'}
      fallback={
        <div class="reasoning">
          <button type="button" class="link-button" aria-expanded={open()} onClick={() => setOpen(!open())}>
            {props.item.done() ? 'Thought' : 'Thinking…'}
          </button>
          <Show when={open()}>
            <p class="reasoning__text">{props.item.text()}</p>
          </Show>
        </div>
      }
    >
      <Show
        when={props.item.role() === 'user'}
        fallback={
          <div class="assistant">
            <span class="visually-hidden">Agent:</span>
            <Markdown text={props.item.text()} />
          </div>
        }
      >
        <p class="bubble">
          <span class="visually-hidden">You: </span>
          {props.item.text()}
        </p>
      </Show>
    </Show>
  );
}

/** `onRetry`: runs a turn cut short again (only for a phone allowed to run tasks). */
/**
 * A file sent with a prompt: a thumbnail when this phone still has the picture, or once the host
 * sent it (`hostImage`, present while connected; asked when the row first scrolls into view), else
 * its name and size only.
 * Tapping the thumbnail shows the whole picture.
 */
export function FilePart(props: { item: FileItem; hostImage?: (item: FileItem) => Promise<Blob> }) {
  const [fromHost, setFromHost] = createSignal<Blob>();
  const [failed, setFailed] = createSignal('');
  const [open, setOpen] = createSignal(false);
  const url = createMemo(() => {
    const blob = sentImage(props.item.messageId, props.item.name) ?? fromHost();
    if (!blob) return undefined;
    const made = URL.createObjectURL(blob);
    onCleanup(() => URL.revokeObjectURL(made));
    return made;
  });
  let row!: HTMLDivElement;
  const [seen, setSeen] = createSignal(false);
  onMount(() => {
    // Only pictures the host sends back: asking for anything else would only be refused.
    if (!isImageType(props.item.mime) || (props.item.size ?? 0) > ATTACHMENT_MAX_BYTES) return;
    const visible = new IntersectionObserver((entries) => {
      if (!entries.some((e) => e.isIntersecting)) return;
      visible.disconnect();
      setSeen(true);
    });
    visible.observe(row);
    onCleanup(() => visible.disconnect());
  });
  // Asked once the row was on screen and the host can be asked; a failed picture is asked for
  // again when the connection comes back (a new `hostImage`).
  createEffect(() => {
    const load = props.hostImage;
    if (!load || !seen() || untrack(url)) return;
    load(props.item).then(setFromHost, (err: unknown) => setFailed(err instanceof Error ? err.message : String(err)));
  });
  return (
    <div class="attachment attachment--sent" ref={row}>
      <Show
        when={url()}
        fallback={
          <span aria-hidden="true" title={failed() ? `The picture could not be loaded: ${failed()}` : undefined}>
            {props.item.mime.startsWith('image/') ? '🖼' : '📎'}
          </span>
        }
      >
        {(u) => (
          <>
            <button type="button" class="attachment__open" aria-label={`Show ${props.item.name}`} onClick={() => setOpen(true)}>
              <img class="attachment__thumb" src={u()} alt={`Attached: ${props.item.name}`} />
            </button>
            {/* Made when opened: a closed one would repeat the file's name in the conversation. */}
            <Show when={open()}>
              <Sheet open={open()} title={props.item.name} onClose={() => setOpen(false)}>
                <img class="attachment__full" src={u()} alt={props.item.name} />
                <Button variant="secondary" onClick={() => setOpen(false)}>
                  Close
                </Button>
              </Sheet>
            </Show>
          </>
        )}
      </Show>
      <span class="attachment__name">{props.item.name}</span>
      <Show when={props.item.size !== undefined}>
        <span class="attachment__size">{formatBytes(props.item.size!)}</span>
      </Show>
    </div>
  );
}

export function NoticePart(props: { item: NoticeItem; onRetry?: (promptId: string) => Promise<void> }) {
  const [error, setError] = createSignal('');
  const [sent, setSent] = createSignal(false);
  const retry = async (promptId: string) => {
    setError('');
    try {
      await props.onRetry!(promptId);
      setSent(true);
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    }
  };
  return (
    <Show when={props.item.retry} fallback={<p class={`notice notice--${props.item.tone}`}>{props.item.text}</p>}>
      {(promptId) => (
        <div class={`notice notice--${props.item.tone}`} role="note">
          <p>{props.item.text}</p>
          <Show when={props.onRetry}>
            <Button variant="secondary" disabled={sent()} onClick={() => void retry(promptId())}>
              {sent() ? 'Sent again' : 'Retry'}
            </Button>
          </Show>
          <Show when={error()}>
            <p class="note note--error" role="alert">
              {error()}
            </p>
          </Show>
        </div>
      )}
    </Show>
  );
}

const TOOL_LABEL: Record<string, string> = {
  bash: 'Command',
  write: 'Write file',
  edit: 'Edit file',
  multiedit: 'Edit file',
  patch: 'Patch files',
  apply_patch: 'Patch files',
  read: 'Read file',
  glob: 'Find files',
  grep: 'Search',
  list: 'List folder',
  webfetch: 'Fetch web page',
  todowrite: 'Update todo list',
  todoread: 'Read todo list',
  task: 'Sub-agent',
  question: 'Question',
};

const LONG_LINES = 12;
const LONG_CHARS = 1200;

function statusLabel(s: ToolView, waiting: boolean): string {
  // Held by a permission request: it is the person, not the agent, who is awaited.
  if (waiting && (s.status === 'pending' || s.status === 'running')) return 'Waiting for you';
  if (s.status === 'error') return s.denied === 'timeout' ? 'Timed out' : s.denied ? 'Denied' : 'Failed';
  return { pending: 'Preparing', running: 'Running', completed: 'Done' }[s.status];
}

/** Output shown in full when short; when long, only its first lines are rendered until asked for all. */
function Output(props: { text: string }) {
  const [all, setAll] = createSignal(false);
  // Split once per output, not on every read: a long session renders many of them.
  const lines = createMemo(() => props.text.replace(/\n$/, '').split('\n'));
  const long = () => lines().length > LONG_LINES || props.text.length > LONG_CHARS;
  const shown = () => (all() || !long() ? props.text : lines().slice(0, LONG_LINES).join('\n').slice(0, LONG_CHARS));
  return (
    <div class="tool__output">
      {/* biome-ignore lint/a11y/useSemanticElements: the <pre> itself scrolls and takes focus, so it is the named region (a <section> around it would name the wrong element). */}
      <pre tabindex="0" role="region" aria-label="Output">
        {shown()}
      </pre>
      <Show when={long()}>
        <button type="button" class="link-button" aria-expanded={all()} onClick={() => setAll(!all())}>
          {all() ? 'Show less output' : `Show all output (${lines().length} lines)`}
        </button>
      </Show>
    </div>
  );
}

/** `timedOut`: this phone saw the host dismiss the question for want of an answer (the runtime's words say only "dismissed"). */
function questionStatus(s: ToolView, timedOut: boolean): string {
  if (s.status === 'completed') return 'Answered';
  if (s.status === 'error') {
    if (s.denied === 'timeout' || (s.denied && timedOut)) return 'Timed out';
    return s.denied ? 'Dismissed' : 'Failed';
  }
  return 'Waiting for you';
}

/** The `question` tool in the transcript: each question and the answer given, not the tool's JSON. */
function QuestionCard(props: { state: ToolView }) {
  const s = props.state;
  return (
    <dl class="tool__questions">
      <For each={s.questions ?? []}>
        {(q, i) => (
          <>
            <dt>{q.question}</dt>
            <dd>
              <Show
                when={s.answers}
                fallback={<span class="hint">{s.status === 'completed' ? 'No answer' : s.status === 'error' ? 'Not answered' : 'Waiting for your answer'}</span>}
              >
                {(answers) => <>{answers()[i()]?.length ? answers()[i()]!.join(', ') : 'No answer'}</>}
              </Show>
            </dd>
          </>
        )}
      </For>
    </dl>
  );
}

/** `waiting`: a permission request for this call waits for an answer. */
export function ToolPart(props: { state: ToolView; waiting?: boolean }) {
  const s = props.state;
  if (s.tool === 'question') {
    const { relay } = useApp();
    return (
      <div class="tool" data-status={s.status}>
        <div class="tool__head">
          <span class="tool__name">{TOOL_LABEL.question}</span>
          <span class="chip" data-status={s.status}>
            {questionStatus(s, relay.questionTimedOut(s.callId))}
          </span>
        </div>
        <QuestionCard state={s} />
      </div>
    );
  }
  const path = () => s.subject?.path;
  const diffLines = () => {
    if (s.diff) return parseDiff(s.diff);
    const content = s.subject?.content;
    return s.tool === 'write' && content !== undefined ? additionDiff(content) : undefined;
  };
  const args = () => {
    if (s.tool === 'bash') return undefined;
    if (path()) return undefined;
    // The list itself is shown as the session's checklist (TodoList), not as JSON.
    if (s.tool === 'todowrite') return undefined;
    const json = JSON.stringify(s.input);
    return json === '{}' ? undefined : json.length > 300 ? `${json.slice(0, 300)}…` : json;
  };
  return (
    <div class="tool" data-status={props.waiting ? 'waiting' : s.status}>
      <div class="tool__head">
        <span class="tool__name">{TOOL_LABEL[s.tool] ?? s.tool}</span>
        <span class="chip" data-status={props.waiting ? 'waiting' : s.status}>
          {statusLabel(s, props.waiting === true)}
        </span>
      </div>
      <Show when={s.tool === 'bash' && s.subject?.command}>
        <pre class="command" tabindex="0">
          <code>$ {s.subject?.command}</code>
        </pre>
      </Show>
      <Show when={path() && !diffLines()}>
        <p class="tool__path">
          <code>{path()}</code>
        </p>
      </Show>
      <Show when={args()}>
        <p class="tool__args">
          <code>{args()}</code>
        </p>
      </Show>
      <Show when={diffLines()}>{(lines) => <DiffView lines={lines()} path={path()} />}</Show>
      <Show when={s.output && s.tool !== 'write' && s.tool !== 'edit' && s.tool !== 'todowrite'}>
        <Output text={s.output!} />
      </Show>
      <Show when={s.error}>
        <p class="tool__error">{s.denied === 'timeout' ? `Timed out: ${s.error}.` : s.error}</p>
      </Show>
    </div>
  );
}
