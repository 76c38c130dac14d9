import { createUniqueId, For, Show } from 'solid-js';
import type { TodoItem } from '../../../shared/protocol/runtime-events.ts';

const MARK: Record<string, { icon: string; words: string }> = {
  completed: { icon: '✓', words: 'done' },
  in_progress: { icon: '◐', words: 'in progress' },
  cancelled: { icon: '✕', words: 'cancelled' },
  pending: { icon: '○', words: 'to do' },
};

/** The agent's todo list for this session. */
export function TodoList(props: { todos: readonly TodoItem[] }) {
  const id = createUniqueId();
  const done = () => props.todos.filter((t) => t.status === 'completed').length;
  return (
    <Show when={props.todos.length > 0}>
      <section class="todos" aria-labelledby={id}>
        <h2 class="todos__title" id={id}>
          Todo list{' '}
          <span class="todos__count">
            {done()} of {props.todos.length} done
          </span>
        </h2>
        <ul class="todos__list">
          <For each={props.todos}>
            {(t) => {
              const mark = MARK[t.status] ?? { icon: '•', words: t.status };
              return (
                <li class="todo" data-status={t.status}>
                  <span class="todo__mark" aria-hidden="true">
                    {mark.icon}
                  </span>
                  <span class="todo__text">{t.content}</span>
                  <span class="visually-hidden"> ({mark.words})</span>
                </li>
              );
            }}
          </For>
        </ul>
      </section>
    </Show>
  );
}
