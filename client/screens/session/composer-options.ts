/**
 * What a composer offers besides its text (the runtime's agents, models and commands), shared by
 * a session's follow-up composer and the new-task composer. Apart from TurnPicker.tsx, so the
 * sessions screen (the first screen) can load the picker itself only once there is something to pick.
 * @module
 */
import { createEffect, createSignal, on, type Accessor } from 'solid-js';
import type { ComposerOptions, ModelRef } from '../../../shared/protocol/composer.ts';
import type { TurnChoice } from '../../../shared/protocol/requests.ts';
import { useApp } from '../../app/context.ts';
import type { SessionChoice } from '../../storage/choices.ts';
import type { OutboxAttachment } from '../../storage/db.ts';

export const modelKey = (m: ModelRef) => `${m.providerId}/${m.modelId}`;

/**
 * What the runtime offers a session's composer, or a new task's (no `sessionId`: the device's
 * first workspace), asked once connected; a phone that may only read needs none. Until the answer
 * comes, what the computer offered last time (kept on this phone): a page opened offline still
 * offers the choices, the commands and the images warning, and a task queued then runs as chosen.
 */
export function createComposerOptions(sessionId?: string): Accessor<ComposerOptions | undefined> {
  const { relay, connection } = useApp();
  const [options, setOptions] = createSignal<ComposerOptions>();
  let fresh = false;
  let savedAsked = false;
  createEffect(() => {
    // Once what names the directory is loaded: the computer in use, and the session's list entry.
    if (savedAsked || !relay.may('run') || !relay.activeHost() || (sessionId !== undefined && !relay.sessions.get(sessionId))) return;
    savedAsked = true;
    void relay.savedComposerOptions(sessionId).then((saved) => {
      if (saved && !fresh) setOptions(saved);
    });
  });
  createEffect(() => {
    if (connection.state.status !== 'connected' || !relay.may('run') || fresh) return;
    relay.composerOptions(sessionId).then(
      (o) => {
        fresh = true;
        setOptions(o);
      },
      () => {
        // Without them the composer still sends, with the last options or the runtime's defaults; asked again on reconnecting.
      },
    );
  });
  return options;
}

/**
 * The agent, model and variant of a session's next turns, or of new tasks (no `sessionId`), as
 * last chosen on this phone for the computer in use: read once that computer is known (after a
 * reload it is not yet when the screen opens) and again when the person switches computers; each
 * choice is remembered. A choice made while the last one is still being read wins.
 */
export function createRememberedChoice(sessionId?: string): [Accessor<SessionChoice>, (choice: SessionChoice) => void] {
  const { relay } = useApp();
  const [choice, setChoice] = createSignal<SessionChoice>({});
  let chosen = 0;
  createEffect(
    on(
      () => relay.activeHost()?.hostId,
      (hostId) => {
        const asked = ++chosen;
        setChoice({});
        if (hostId) void relay.sessionChoice(sessionId).then((c) => c && asked === chosen && setChoice(c));
      },
    ),
  );
  const choose = (next: SessionChoice) => {
    chosen++;
    setChoice(next);
    void relay.rememberChoice(sessionId, next);
  };
  return [choice, choose];
}

/** Said before sending, not by a failed turn: the model the task would use reads no images. */
export function imagesRefused(options: ComposerOptions | undefined, choice: SessionChoice): string | undefined {
  const ref = choice.model ?? options?.defaultModel;
  const model = ref && options?.models.find((m) => modelKey(m) === modelKey(ref));
  return model && model.images === false ? `${model.name} does not read images: choose a model that does, or remove the photo.` : undefined;
}

/**
 * A composer's text as a turn: `/name arguments` naming one of the runtime's commands runs that
 * command with the arguments as its text; any other text is a prompt with its files.
 */
export function turnOf(
  text: string,
  attachments: OutboxAttachment[],
  choice: SessionChoice,
  options: ComposerOptions | undefined,
): { text: string; choice: TurnChoice; attachments: OutboxAttachment[] } {
  const typed = /^\/(\S+)(?:\s+([\s\S]*))?$/.exec(text);
  const command = typed && options?.commands.find((c) => c.name === typed[1]);
  if (!command) return { text, choice, attachments };
  if (attachments.length) throw new Error('A command takes no attached files: remove them, or write a prompt instead.');
  return { text: (typed[2] ?? '').trim(), choice: { ...choice, command: command.name }, attachments: [] };
}
