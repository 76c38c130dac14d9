/**
 * A request's answer for one part of a screen, as a Solid resource that never throws where it is
 * read (a resource that rejects does, taking the screen with it): a failure is its `error()` text.
 * Read through `latest`, so asking again keeps the last answer on screen; only the first load
 * suspends, for the part's own <Suspense> to show, not the screen's (which would take the whole
 * screen, and what is being typed in it, out of the page).
 * @module
 */
import { createResource } from 'solid-js';
import { explainRequest } from '../../net/explain.ts';

export interface Answer<T> {
  value(): T | undefined;
  error(): string | undefined;
  /** Asked and not answered yet, the first time or again. */
  loading(): boolean;
  /** Asks again; resolves once answered. */
  refetch(): Promise<void>;
}

/** `when`: asked only once (and each time again while) it is true. */
export function createAnswer<T>(ask: () => Promise<T>, when: () => boolean = () => true): Answer<T> {
  const [settled, { refetch }] = createResource(
    () => when() || undefined,
    () =>
      ask().then(
        (value) => ({ value }),
        (err: unknown) => ({ error: explainRequest(err) }),
      ),
  );
  return {
    value: () => {
      const s = settled.latest;
      return s && 'value' in s ? s.value : undefined;
    },
    error: () => {
      const s = settled.latest;
      return s && 'error' in s ? s.error : undefined;
    },
    loading: () => settled.loading,
    async refetch() {
      await refetch();
    },
  };
}
