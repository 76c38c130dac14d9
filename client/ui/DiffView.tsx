import { createSignal, For, Show } from 'solid-js';
import { diffStats, type DiffLine } from './diff.ts';

const SHOWN = 80;

/** A diff with added and removed lines marked (by colour and by their +/− sign). */
export function DiffView(props: { lines: DiffLine[]; path?: string }) {
  const [all, setAll] = createSignal(false);
  const stats = () => diffStats(props.lines);
  const shown = () => (all() ? props.lines : props.lines.slice(0, SHOWN));
  const label = () => `Changes${props.path ? ` to ${props.path}` : ''}: ${stats().additions} added, ${stats().deletions} removed`;
  return (
    <figure class="diff">
      <figcaption class="diff__caption">
        <span class="diff__path">{props.path ?? 'Changes'}</span>
        <span class="diff__stats">
          <span class="diff__plus">+{stats().additions}</span> <span class="diff__minus">−{stats().deletions}</span>
        </span>
      </figcaption>
      {/* biome-ignore lint/a11y/useSemanticElements: the <pre> itself scrolls and takes focus, so it is the named region (a <section> around it would name the wrong element). */}
      <pre class="diff__body" tabindex="0" role="region" aria-label={label()}>
        <For each={shown()}>
          {(line) => (
            <span class={`diff__line diff__line--${line.kind}`}>
              {line.kind === 'add' ? '+' : line.kind === 'del' ? '−' : line.kind === 'hunk' ? '' : ' '}
              {line.text}
              {'\n'}
            </span>
          )}
        </For>
      </pre>
      <Show when={props.lines.length > SHOWN}>
        <button type="button" class="link-button" aria-expanded={all()} onClick={() => setAll(!all())}>
          {all() ? 'Show less' : `Show all ${props.lines.length} lines`}
        </button>
      </Show>
    </figure>
  );
}
