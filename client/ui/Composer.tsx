import { createEffect, createSignal, createUniqueId, For, on, Show } from 'solid-js';
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
  /** Resolves when taken (sent or queued); a rejection's message is shown and the text kept. */
  onSend(text: string): Promise<void>;
}

/** The commands whose name starts with what follows a leading `/`, while no argument is typed yet. */
export function matchingCommands(text: string, commands: readonly CommandChoice[]): CommandChoice[] {
  const typed = /^\/(\S*)$/.exec(text);
  if (!typed) return [];
  const prefix = typed[1]!.toLowerCase();
  return commands.filter((c) => c.name.toLowerCase().startsWith(prefix));
}

/**
 * A text box that grows with its text (up to a limit, then scrolls) and a send button. Enter sends
 * (the phone keyboard's Send key is an Enter) and Shift+Enter starts a new line, unless the person
 * chose Enter-for-newline (client/state/preferences.ts); Ctrl/⌘+Enter always sends. The text stays
 * if sending fails.
 */
export function Composer(props: ComposerProps) {
  const ids = { field: createUniqueId(), error: createUniqueId(), commands: createUniqueId() };
  let field!: HTMLTextAreaElement;
  const [text, setText] = createSignal('');
  const [sending, setSending] = createSignal(false);
  const [error, setError] = createSignal('');

  const fit = () => {
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
    if (!value || sending() || props.blocked) return;
    setSending(true);
    setError('');
    try {
      await props.onSend(value);
      setText('');
      field.value = '';
      fit();
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    } finally {
      setSending(false);
    }
  };

  const note = () => error() || props.blocked || props.note;
  const suggestions = () => matchingCommands(text(), props.commands ?? []);
  const pick = (command: CommandChoice) => {
    const value = `/${command.name} `;
    setText(value);
    field.value = value;
    fit();
    field.focus();
  };

  return (
    <form class="composer" onSubmit={(e) => void send(e)}>
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
      <Button type="submit" variant="primary" disabled={sending() || !text().trim() || Boolean(props.blocked)}>
        {sending() ? 'Sending…' : props.submitLabel}
      </Button>
      <Show when={note()}>
        <p id={ids.error} class={`composer__note${error() ? ' composer__note--error' : ''}`} role={error() ? 'alert' : undefined}>
          {note()}
        </p>
      </Show>
    </form>
  );
}
