/**
 * What a composer offers besides its text (the runtime's agents, models and commands), shared by
 * a session's follow-up composer and the new-task composer. Apart from TurnPicker.tsx, so the
 * sessions screen (the first screen) can load the picker itself only once there is something to pick.
 * @module
 */
import { createEffect, createSignal, type Accessor } from 'solid-js';
import type { ComposerOptions, ModelRef } from '../../../shared/protocol/composer.ts';
import { useApp } from '../../app/context.ts';
import type { SessionChoice } from '../../storage/choices.ts';

export const modelKey = (m: ModelRef) => `${m.providerId}/${m.modelId}`;

/**
 * What the runtime offers a session's composer, or a new task's (no `sessionId`: the device's
 * first workspace), asked once connected; a phone that may only read needs none.
 */
export function createComposerOptions(sessionId?: string): Accessor<ComposerOptions | undefined> {
  const { relay, connection } = useApp();
  const [options, setOptions] = createSignal<ComposerOptions>();
  createEffect(() => {
    if (connection.state.status !== 'connected' || !relay.may('run') || options()) return;
    relay.request({ t: 'composer.options', ...(sessionId ? { sessionId } : {}) }).then(setOptions, () => {
      // Without them the composer still sends, with the runtime's defaults; asked again on reconnecting.
    });
  });
  return options;
}

/** Said before sending, not by a failed turn: the model the task would use reads no images. */
export function imagesRefused(options: ComposerOptions | undefined, choice: SessionChoice): string | undefined {
  const ref = choice.model ?? options?.defaultModel;
  const model = ref && options?.models.find((m) => modelKey(m) === modelKey(ref));
  return model && model.images === false ? `${model.name} does not read images: choose a model that does, or remove the photo.` : undefined;
}
