import { For, Show } from 'solid-js';
import { useApp } from '../../app/context.ts';
import { formatRoute } from '../../routes.ts';
import { StatusBadge } from '../../ui/StatusBadge.tsx';

/**
 * A session's place among its task's sessions: the sub-agent sessions its tasks started (each
 * opens with its own live conversation), and for a sub-agent's session the session it works for.
 */
export function SubSessions(props: { sessionId: string }) {
  const { relay } = useApp();
  const parentId = () => relay.sessions.get(props.sessionId)?.parentId;
  const children = () => relay.sessions.children(props.sessionId);
  const link = (id: string) => formatRoute({ name: 'session', param: id });
  return (
    <>
      <Show when={parentId()}>
        {(p) => (
          <p class="sub-sessions__parent">
            Sub-agent of <a href={link(p())}>{relay.titleOf(p())}</a>
          </p>
        )}
      </Show>
      <Show when={children().length}>
        <nav class="sub-sessions" aria-label="Sub-agents">
          <h2 class="section-title">Sub-agents</h2>
          <ul class="session-list">
            <For each={children()}>
              {(c) => (
                <li>
                  <a class="session-row" href={link(c.sessionId)}>
                    <span class="session-row__title">{relay.titleOf(c.sessionId)}</span>
                    <span class="session-row__meta">
                      <StatusBadge status={relay.statusOf(c.sessionId)} />
                    </span>
                  </a>
                </li>
              )}
            </For>
          </ul>
        </nav>
      </Show>
    </>
  );
}
