import { createEffect, createSignal, For, on, Show } from 'solid-js';
import type { PermissionReply } from '../../shared/protocol/messages.ts';
import type { PermissionAskedEvent } from '../../shared/protocol/runtime-events.ts';
import { explainRequest } from '../net/explain.ts';
import { Button } from '../ui/Button.tsx';
import { DiffView } from '../ui/DiffView.tsx';
import { parseDiff } from '../ui/diff.ts';
import { Sheet } from '../ui/Sheet.tsx';
import { autoAnswer, describeRequest, relativePath, sessionGrantWords, useSecondClock, type ApprovalsUi } from './approvals.ts';
import { useApp } from './context.ts';

/** What exactly the agent wants to do: the command, the file and its diff, or the raw request. */
function RequestDetails(props: { req: PermissionAskedEvent; directory?: string; description?: string }) {
  const str = (k: 'command' | 'description' | 'path' | 'diff') => props.req.subject?.[k];
  const path = () => relativePath(str('path') ?? props.req.patterns[0] ?? '', props.directory);
  return (
    <>
      <Show when={props.req.permission === 'bash'}>
        <p>Run this command on your computer:</p>
        <pre class="command" tabindex="0">
          <code>{str('command') ?? props.req.patterns.join('\n')}</code>
        </pre>
        <Show when={str('description') ?? props.description}>{(d) => <p class="hint">The agent says: {d()}</p>}</Show>
      </Show>
      <Show when={props.req.permission === 'edit'}>
        <p>
          Change the file <code>{path()}</code>:
        </p>
        <Show when={str('diff')} fallback={<p class="hint">Your computer did not send the change itself.</p>}>
          <DiffView lines={parseDiff(str('diff')!)} path={path()} />
        </Show>
      </Show>
      <Show when={props.req.permission !== 'bash' && props.req.permission !== 'edit'}>
        <p>
          Use <strong>{props.req.permission}</strong> on:
        </p>
        <ul class="patterns">
          <For each={props.req.patterns}>
            {(p) => (
              <li>
                <code>{relativePath(p, props.directory)}</code>
              </li>
            )}
          </For>
        </ul>
      </Show>
    </>
  );
}

/**
 * The approval sheet: Allow once / Always allow for this session / Deny. A request that expired
 * says so and why, and offers nothing to answer; an answer the host refused is reported as such.
 */
export default function PermissionSheet(props: { ui: ApprovalsUi }) {
  const { relay } = useApp();
  const [busy, setBusy] = createSignal(false);
  const [error, setError] = createSignal('');
  const item = () => props.ui.current();
  const now = useSecondClock();
  const hostName = () => relay.activeHost()?.label ?? 'your computer';
  // A refusal belongs to the request it was about.
  createEffect(
    on(
      () => item()?.request.requestId,
      () => setError(''),
      { defer: true },
    ),
  );
  /** Why the person denies, for the agent (optional). */
  const [reason, setReason] = createSignal('');
  createEffect(
    on(
      () => item()?.request.requestId,
      () => setReason(''),
      { defer: true },
    ),
  );
  const answer = async (reply: PermissionReply) => {
    const r = item();
    if (!r || r.ended !== undefined || busy()) return;
    setBusy(true);
    setError('');
    try {
      await relay.replyPermission(r.request, reply, reply === 'reject' ? reason().trim() || undefined : undefined);
    } catch (err) {
      setError(explainRequest(err));
    } finally {
      setBusy(false);
    }
  };
  const title = () => {
    const r = item();
    if (!r) return 'Approval';
    if (r.timedOut) return 'This request timed out';
    return r.ended !== undefined ? 'This request expired' : describeRequest(r.request).title;
  };
  /** The agent's own words for the call (its `description` input), from the session's tool card. */
  const toolDescription = (r: PermissionAskedEvent) => {
    const call = r.tool?.callId;
    const tool = call
      ? relay
          .timeline(r.sessionId)
          .items()
          .find((i) => i.kind === 'tool' && i.state.callId === call)
      : undefined;
    const d = tool?.kind === 'tool' ? tool.state.subject?.description : undefined;
    return typeof d === 'string' && d.trim() ? d : undefined;
  };
  const close = () => (item()?.ended !== undefined ? props.ui.dismiss() : props.ui.later());
  return (
    <Sheet open={props.ui.open() && item() !== undefined} title={title()} onClose={close}>
      <Show when={item()} keyed>
        {({ request: r, ended: expired, timedOut }) => (
          <div class="approval">
            <p class="hint">
              {relay.sessions.get(r.sessionId)?.title ? `In “${relay.sessions.get(r.sessionId)!.title}”` : 'In a session'} on {relay.activeHost()?.label ?? 'your computer'}.
            </p>
            <Show when={expired !== undefined && timedOut}>
              <p class="note note--error">Timed out: {expired}. Nothing was allowed, and the agent was told why. Ask again in the session if it is still needed.</p>
            </Show>
            <Show when={expired !== undefined && !timedOut}>
              <p class="note note--error">
                Expired: {expired}. Your computer can no longer take an answer to it, so nothing was allowed. Ask again in the session if it is still needed.
              </p>
            </Show>
            <Show when={expired === undefined && autoAnswer(r.deadline, hostName(), now())}>
              <p class="hint countdown" role="timer">
                {autoAnswer(r.deadline, hostName(), now())}
              </p>
            </Show>
            <RequestDetails req={r} directory={relay.sessions.get(r.sessionId)?.directory} description={toolDescription(r)} />
            <Show when={expired === undefined}>
              <p class="hint">“Always allow for this session” allows {sessionGrantWords(r, relay.sessions.get(r.sessionId)?.directory)}, without asking again.</p>
            </Show>
            <Show when={error()}>
              <p class="note note--error" role="alert">
                {error()}
              </p>
            </Show>
            <Show
              when={expired === undefined}
              fallback={
                <div class="sheet__actions sheet__actions--stack">
                  <Button variant="primary" onClick={() => props.ui.dismiss()}>
                    Dismiss
                  </Button>
                </div>
              }
            >
              <label class="approval__reason">
                <span>If you deny: tell the agent why (optional)</span>
                <textarea rows="2" maxLength={2000} value={reason()} onInput={(e) => setReason(e.currentTarget.value)} placeholder="e.g. use the test database instead" />
              </label>
              <div class="sheet__actions sheet__actions--stack">
                <Button variant="primary" disabled={busy()} onClick={() => void answer('once')}>
                  Allow once
                </Button>
                <Button variant="secondary" disabled={busy()} onClick={() => void answer('session')}>
                  Always allow for this session
                </Button>
                <Button variant="danger" disabled={busy()} onClick={() => void answer('reject')}>
                  Deny
                </Button>
                <Button variant="quiet" disabled={busy()} onClick={() => props.ui.later()}>
                  Decide later
                </Button>
              </div>
            </Show>
          </div>
        )}
      </Show>
    </Sheet>
  );
}
