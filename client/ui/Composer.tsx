import { createEffect, createSignal, createUniqueId, For, on, onCleanup, Show } from 'solid-js';
import { ATTACHMENTS_PER_TASK } from '../../shared/protocol/attachments.ts';
import { formatBytes, prepareAttachment } from '../attachments/prepare.ts';
import type { OutboxAttachment } from '../storage/db.ts';
import type { CommandChoice } from '../../shared/protocol/composer.ts';
import { enterNewline } from '../state/preferences.ts';
import { Button } from './Button.tsx';

export interface ComposerProps {
  /** The text field's label, e.g. "New task" or "Follow-up". */
  label: string;
  placeholder?: string;
  submitLabel: string;
  /** Why sending is not possible now (shown, and the button is disabled). */
  blocked?: string;
  /** What happens to a task sent now, when that is not the obvious (e.g. offline: it is queued). */
  note?: string;
  /** Text put into the box from outside (edit and resend): each new object replaces the box's text. */
  fill?: { text: string };
  /** The runtime's commands, offered when the text starts with `/`. */
  commands?: readonly CommandChoice[];
  /** Offer attaching photos and files (sent with the text). */
  attach?: boolean;
  /** Why images cannot go with this task (the chosen model reads no images); shown once one is attached. */
  imagesRefused?: string;
  /** Resolves when taken (sent or queued); a rejection's message is shown and the text and files kept. */
  onSend(text: string, attachments: OutboxAttachment[]): Promise<void>;
}

/** An attached file as the composer and the queue show it: a thumbnail for an image, else its name and size. */
export function AttachmentChip(props: { file: OutboxAttachment; onRemove?: () => void }) {
  const image = () => props.file.mime.startsWith('image/');
  const url = image() ? URL.createObjectURL(props.file.blob) : undefined;
  onCleanup(() => url && URL.revokeObjectURL(url));
  return (
    <li class="attachment">
      <Show when={url}>{(u) => <img class="attachment__thumb" src={u()} alt="" />}</Show>
      <span class="attachment__name">{props.file.name}</span>
      <span class="attachment__size">{formatBytes(props.file.size)}</span>
      <Show when={props.onRemove}>
        {(remove) => (
          <button type="button" class="attachment__remove" aria-label={`Remove ${props.file.name}`} onClick={() => remove()()}>
            ×
          </button>
        )}
      </Show>
    </li>
  );
}

/** The commands whose name starts with what follows a leading `/`, while no argument is typed yet. */
export function matchingCommands(text: string, commands: readonly CommandChoice[]): CommandChoice[] {
  const typed = /^\/(\S*)$/.exec(text);
  if (!typed) return [];
  const prefix = typed[1]!.toLowerCase();
  return commands.filter((c) => c.name.toLowerCase().startsWith(prefix));
}

/** The browser grows the box with its text itself (Chromium 123+; not Safari yet, which gets `fit`). */
const SIZED_BY_CSS = typeof CSS !== 'undefined' && CSS.supports('field-sizing', 'content');

/**
 * A text box that grows with its text (up to a limit, then scrolls) and a send button. Enter sends
 * (the phone keyboard's Send key is an Enter) and Shift+Enter starts a new line, unless the person
 * chose Enter-for-newline (client/state/preferences.ts); Ctrl/⌘+Enter always sends. The text stays
 * if sending fails.
 */
export function Composer(props: ComposerProps) {
  const ids = { field: createUniqueId(), error: createUniqueId(), commands: createUniqueId(), files: createUniqueId() };
  let field!: HTMLTextAreaElement;
  let picker!: HTMLInputElement;
  const [text, setText] = createSignal('');
  const [files, setFiles] = createSignal<OutboxAttachment[]>([]);
  const [preparing, setPreparing] = createSignal(false);
  const refused = () => (props.imagesRefused && files().some((f) => f.mime.startsWith('image/')) ? props.imagesRefused : undefined);
  const pickFiles = async (picked: File[]) => {
    setError('');
    if (files().length + picked.length > ATTACHMENTS_PER_TASK) {
      setError(`A task can carry up to ${ATTACHMENTS_PER_TASK} files.`);
      return;
    }
    setPreparing(true);
    try {
      for (const file of picked) {
        const ready = await prepareAttachment(file);
        setFiles([...files(), ready]);
      }
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    } finally {
      setPreparing(false);
    }
  };
  const [sending, setSending] = createSignal(false);
  const [error, setError] = createSignal('');

  const fit = () => {
    // Where CSS sizes the box to its text (field-sizing, styles.css), measuring it here would lay
    // the page out once more on every key: in a long session that is most of a key's time.
    if (SIZED_BY_CSS) return;
    // From its natural height: the CSS max-height caps it, and beyond that it scrolls.
    field.style.height = 'auto';
    field.style.height = `${field.scrollHeight + field.offsetHeight - field.clientHeight}px`;
  };
  createEffect(
    on(
      () => props.fill,
      (fill) => {
        if (!fill) return;
        setText(fill.text);
        field.value = fill.text;
        fit();
        field.focus();
      },
      { defer: true },
    ),
  );
  const onKeyDown = (e: KeyboardEvent) => {
    if (e.key !== 'Enter' || e.isComposing) return;
    if (e.ctrlKey || e.metaKey || (!e.shiftKey && !enterNewline())) void send(e);
  };

  const send = async (event?: Event) => {
    event?.preventDefault();
    const value = text().trim();
    if (!value || sending() || preparing() || props.blocked || refused()) return;
    setSending(true);
    setError('');
    try {
      await props.onSend(value, files());
      setFiles([]);
      setText('');
      field.value = '';
      fit();
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    } finally {
      setSending(false);
    }
  };

  const note = () => error() || refused() || props.blocked || (preparing() ? 'Preparing the attachment…' : undefined) || props.note;
  const suggestions = () => matchingCommands(text(), props.commands ?? []);
  const pick = (command: CommandChoice) => {
    const value = `/${command.name} `;
    setText(value);
    field.value = value;
    fit();
    field.focus();
  };

  return (
    <form class="composer" classList={{ 'composer--attach': props.attach }} onSubmit={(e) => void send(e)}>
      <Show when={suggestions().length > 0}>
        <ul id={ids.commands} class="composer__commands" aria-label="Commands">
          <For each={suggestions()}>
            {(c) => (
              <li>
                <button type="button" class="composer__command" onClick={() => pick(c)}>
                  <span class="composer__command-name">/{c.name}</span>
                  <Show when={c.description}>
                    <span class="composer__command-description">{c.description}</span>
                  </Show>
                </button>
              </li>
            )}
          </For>
        </ul>
      </Show>
      <label for={ids.field} class="visually-hidden">
        {props.label}
      </label>
      <textarea
        id={ids.field}
        ref={field}
        class="composer__field"
        rows="2"
        placeholder={props.placeholder}
        value={text()}
        onInput={(e) => {
          setText(e.currentTarget.value);
          fit();
        }}
        onKeyDown={onKeyDown}
        enterkeyhint="send"
        aria-describedby={note() ? ids.error : undefined}
      />
      <Show when={props.attach}>
        <input
          ref={picker}
          id={ids.files}
          class="visually-hidden"
          type="file"
          multiple
          tabindex="-1"
          aria-label="Attach photos or files"
          onChange={(e) => {
            const picked = [...(e.currentTarget.files ?? [])];
            e.currentTarget.value = '';
            void pickFiles(picked);
          }}
        />
        <Button type="button" variant="quiet" disabled={preparing()} onClick={() => picker.click()}>
          Attach
        </Button>
      </Show>
      <Button type="submit" variant="primary" disabled={sending() || preparing() || !text().trim() || Boolean(props.blocked) || Boolean(refused())}>
        {sending() ? 'Sending…' : props.submitLabel}
      </Button>
      <Show when={files().length > 0}>
        <ul class="attachments" aria-label="Attached files">
          <For each={files()}>{(f) => <AttachmentChip file={f} onRemove={() => setFiles(files().filter((x) => x !== f))} />}</For>
        </ul>
      </Show>
      <Show when={note()}>
        <p id={ids.error} class={`composer__note${error() || refused() ? ' composer__note--error' : ''}`} role={error() || refused() ? 'alert' : undefined}>
          {note()}
        </p>
      </Show>
    </form>
  );
}
