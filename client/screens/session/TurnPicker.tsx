import { createUniqueId, For, Show } from 'solid-js';
import type { ComposerOptions, ModelChoice, ModelRef } from '../../../shared/protocol/composer.ts';
import type { SessionChoice } from '../../storage/choices.ts';
import { modelKey } from './composer-options.ts';

export interface TurnPickerProps {
  options: ComposerOptions;
  choice: SessionChoice;
  onChange(choice: SessionChoice): void;
}

/**
 * The agent, model and variant (reasoning effort) of the next turns (each option says whether it
 * is selected: a select's own `value` is set before its options exist); "default" leaves the choice
 * to the runtime, and the runtime's own default is marked.
 */
export function TurnPicker(props: TurnPickerProps) {
  const ids = { agent: createUniqueId(), model: createUniqueId(), variant: createUniqueId() };
  const providers = () => {
    const groups = new Map<string, { name: string; models: ModelChoice[] }>();
    for (const m of props.options.models) {
      const group = groups.get(m.providerId) ?? { name: m.providerName, models: [] };
      group.models.push(m);
      groups.set(m.providerId, group);
    }
    return [...groups.values()];
  };
  const isDefaultModel = (m: ModelRef) => props.options.defaultModel !== undefined && modelKey(props.options.defaultModel) === modelKey(m);
  const model = () => {
    const chosen = props.choice.model ?? props.options.defaultModel;
    return chosen && props.options.models.find((m) => modelKey(m) === modelKey(chosen));
  };
  const set = (change: Partial<SessionChoice>) => {
    const next: SessionChoice = { ...props.choice, ...change };
    for (const k of Object.keys(next) as (keyof SessionChoice)[]) if (next[k] === undefined) delete next[k];
    props.onChange(next);
  };

  return (
    <div class="turn-picker">
      <Show when={props.options.agents.length > 0}>
        <label class="turn-picker__field" for={ids.agent}>
          <span class="visually-hidden">Agent</span>
          <select id={ids.agent} onChange={(e) => set({ agent: e.currentTarget.value || undefined })}>
            <option value="" selected={!props.choice.agent}>
              Default{props.options.defaultAgent ? ` (${props.options.defaultAgent})` : ''}
            </option>
            <For each={props.options.agents}>
              {(a) => (
                <option value={a.name} title={a.description} selected={a.name === props.choice.agent}>
                  {a.name}
                  {a.name === props.options.defaultAgent ? ' · default' : ''}
                </option>
              )}
            </For>
          </select>
        </label>
      </Show>
      <Show when={props.options.models.length > 0}>
        <label class="turn-picker__field" for={ids.model}>
          <span class="visually-hidden">Model</span>
          <select
            id={ids.model}
            onChange={(e) => {
              const picked = props.options.models.find((m) => modelKey(m) === e.currentTarget.value);
              // A variant belongs to its model: a new model starts at its own default.
              set({ model: picked ? { providerId: picked.providerId, modelId: picked.modelId } : undefined, variant: undefined });
            }}
          >
            <option value="" selected={!props.choice.model}>
              Default{props.options.defaultModel ? ` (${props.options.defaultModel.modelId})` : ''}
            </option>
            <For each={providers()}>
              {(p) => (
                <optgroup label={p.name}>
                  <For each={p.models}>
                    {(m) => (
                      <option value={modelKey(m)} selected={props.choice.model !== undefined && modelKey(props.choice.model) === modelKey(m)}>
                        {m.name}
                        {isDefaultModel(m) ? ' · default' : ''}
                      </option>
                    )}
                  </For>
                </optgroup>
              )}
            </For>
          </select>
        </label>
      </Show>
      <Show when={(model()?.variants.length ?? 0) > 0}>
        <label class="turn-picker__field" for={ids.variant}>
          <span class="visually-hidden">Effort</span>
          <select id={ids.variant} onChange={(e) => set({ variant: e.currentTarget.value || undefined })}>
            <option value="" selected={!props.choice.variant}>
              Default
            </option>
            <For each={model()!.variants}>
              {(v) => (
                <option value={v} selected={v === props.choice.variant}>
                  {v}
                </option>
              )}
            </For>
          </select>
        </label>
      </Show>
    </div>
  );
}
