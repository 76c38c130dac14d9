import { createSignal, For, onCleanup, onMount, Show } from 'solid-js';
import { useApp } from '../../app/context.ts';
import { explainRequest } from '../../net/explain.ts';
import { formatRoute } from '../../routes.ts';
import { Button } from '../../ui/Button.tsx';
import type { SessionSummary } from '../../state/sessions.ts';

/** Pause after the last keystroke before the host is asked. */
const DEBOUNCE_MS = 300;

/**
 * Finds sessions by title: those this phone lists at once, then the host's matches (older ones
 * included) and the sessions whose transcript this phone has cached with the text in it.
 */
export function SessionSearch() {
  const { relay } = useApp();
  const [text, setText] = createSignal('');
  const [found, setFound] = createSignal<SessionSummary[]>([]);
  const [error, setError] = createSignal('');
  let timer: ReturnType<typeof setTimeout> | undefined;
  onCleanup(() => clearTimeout(timer));

  const wanted = () => text().trim().toLowerCase();
  const local = () => (wanted() ? relay.sessions.list().filter((s) => s.title.toLowerCase().includes(wanted())) : []);
  const results = () => {
    const seen = new Set(local().map((s) => s.sessionId));
    return [...local(), ...found().filter((s) => !seen.has(s.sessionId))];
  };

  const search = (value: string) => {
    setText(value);
    setFound([]);
    setError('');
    clearTimeout(timer);
    const query = value.trim();
    if (!query) return;
    timer = setTimeout(() => {
      relay.searchSessions(query).then(
        (sessions) => query === text().trim() && setFound(sessions),
        (err: unknown) => setError(explainRequest(err)),
      );
    }, DEBOUNCE_MS);
  };

  return (
    <div class="session-search">
      <input class="session-search__field" type="search" aria-label="Search sessions" placeholder="Search sessions" value={text()} onInput={(e) => search(e.currentTarget.value)} />
      <Show when={error()}>
        <p class="note note--error" role="alert">
          {error()}
        </p>
      </Show>
      <Show when={wanted()}>
        <Show when={results().length} fallback={<p class="hint">No session found with “{text().trim()}”.</p>}>
          <ul class="session-list" aria-label="Search results">
            <For each={results()}>
              {(s) => (
                <li>
                  <a class="session-row" href={formatRoute({ name: 'session', param: s.sessionId })}>
                    <span class="session-row__title">{s.title}</span>
                  </a>
                </li>
              )}
            </For>
          </ul>
        </Show>
      </Show>
    </div>
  );
}

/** Loads the host's older sessions when the end of the list comes into view (or on a tap). */
export function OlderSessions() {
  const { relay } = useApp();
  let end!: HTMLDivElement;
  const [loading, setLoading] = createSignal(false);
  const more = async () => {
    setLoading(true);
    try {
      await relay.loadOlderSessions();
    } finally {
      setLoading(false);
    }
  };
  onMount(() => {
    const observer = new IntersectionObserver((entries) => {
      if (entries.some((e) => e.isIntersecting) && relay.hasOlderSessions()) void more();
    });
    observer.observe(end);
    onCleanup(() => observer.disconnect());
  });
  return (
    <div ref={end} class="older-sessions">
      <Show when={relay.hasOlderSessions()}>
        <Button variant="quiet" disabled={loading()} onClick={() => void more()}>
          {loading() ? 'Loading older sessions…' : 'Load older sessions'}
        </Button>
      </Show>
    </div>
  );
}
