import { createEffect, For, on, Show, Suspense } from 'solid-js';
import { useApp } from '../../app/context.ts';
import { createAnswer } from './answer.ts';
import { tokenRows, usageLine } from './usage-figures.ts';
import './session-info.css';

/**
 * The session's context and token use, and its cost when priced, under the session bar. Asked
 * once the host's newest messages are in, on reconnecting, and each time a turn ends (the host
 * adds it up from the runtime's replies, so it is current as of the last finished one).
 */
export function SessionUsage(props: { sessionId: string }) {
  const { relay, connection } = useApp();
  const connected = () => connection.state.status === 'connected';
  // Without figures (a session the host does not know yet, a host that is going away) the line is
  // left out; the next turn's end asks again. Not asked before the session's newest messages are
  // in: the host adds the figures up from every message, which in a long session means reading
  // megabytes from the runtime, and the newest page waited behind that (1.6 s instead of 0.4 s to
  // open a 2,000-message session, bench).
  const usage = createAnswer(
    () => relay.request({ t: 'session.usage', sessionId: props.sessionId }),
    () => connected() && relay.sessionLoad(props.sessionId).fetched === true,
  );
  // A turn ended: running (or waiting for approval) became anything else.
  createEffect(
    on(
      () => relay.statusOf(props.sessionId),
      (now, before) => {
        const active = (s: string | undefined) => s === 'running' || s === 'waiting';
        if (active(before) && !active(now) && connected()) void usage.refetch();
      },
    ),
  );
  return (
    // Its own boundary (answer.ts): the app's would blank the whole screen on each open.
    <Suspense>
      <Show when={usage.value()}>
        {(u) => (
          <details class="usage" aria-label="Context and token use">
            <summary class="usage__line">{usageLine(u())}</summary>
            <dl class="usage__tokens">
              <For each={tokenRows(u())}>
                {([label, value]) => (
                  <div>
                    <dt>{label}</dt>
                    <dd>{value}</dd>
                  </div>
                )}
              </For>
              <Show when={u().context}>
                {(c) => (
                  <div>
                    <dt>Model</dt>
                    <dd>
                      {c().providerId}/{c().modelId}
                    </dd>
                  </div>
                )}
              </Show>
            </dl>
          </details>
        )}
      </Show>
    </Suspense>
  );
}
