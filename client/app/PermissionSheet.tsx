import { createSignal, For, Show } from 'solid-js';
import type { PermissionReply } from '../../shared/protocol/messages.ts';
import type { PermissionAskedEvent } from '../../shared/protocol/runtime-events.ts';
import { explainRequest } from '../net/explain.ts';
import { Button } from '../ui/Button.tsx';
import { DiffView } from '../ui/DiffView.tsx';
import { parseDiff } from '../ui/diff.ts';
import { Sheet } from '../ui/Sheet.tsx';
import { describeRequest, type ApprovalsUi } from './approvals.ts';
import { useApp } from './context.ts';

/** What exactly the agent wants to do: the command, the file and its diff, or the raw request. */
function RequestDetails(props: { req: PermissionAskedEvent }) {
  const meta = () => props.req.metadata;
  const str = (k: string) => (typeof meta()[k] === 'string' ? (meta()[k] as string) : undefined);
  return (
    <>
      <Show when={props.req.permission === 'bash'}>
        <p>Run this command on your computer:</p>
        <pre class="command" tabindex="0"><code>{str('command') ?? props.req.patterns.join('\n')}</code></pre>
        <Show when={str('description')}>
          <p class="hint">{str('description')}</p>
        </Show>
      </Show>
      <Show when={props.req.permission === 'edit'}>
        <p>
          Change the file <code>{str('filepath') ?? props.req.patterns[0]}</code>:
        </p>
        <Show when={str('diff')} fallback={<p class="hint">Your computer did not send the change itself.</p>}>
          <DiffView lines={parseDiff(str('diff')!)} path={str('filepath') ?? props.req.patterns[0]} />
        </Show>
      </Show>
      <Show when={props.req.permission !== 'bash' && props.req.permission !== 'edit'}>
        <p>
          Use <strong>{props.req.permission}</strong> on:
        </p>
        <ul class="patterns">
          <For each={props.req.patterns}>{(p) => <li><code>{p}</code></li>}</For>
        </ul>
      </Show>
    </>
  );
}

/** The approval sheet: Allow once / Always allow for this session / Deny. */
export default function PermissionSheet(props: { ui: ApprovalsUi }) {
  const { relay } = useApp();
  const [busy, setBusy] = createSignal(false);
  const [error, setError] = createSignal('');
  const req = () => props.ui.current();
  const answer = async (reply: PermissionReply) => {
    const r = req();
    if (!r || busy()) return;
    setBusy(true);
    setError('');
    try {
      await relay.replyPermission(r, reply);
    } catch (err) {
      setError(explainRequest(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <Sheet open={props.ui.open() && req() !== undefined} title={req() ? describeRequest(req()!).title : 'Approval'} onClose={() => props.ui.later()}>
      <Show when={req()} keyed>
        {(r) => (
          <div class="approval">
            <p class="hint">
              {relay.sessions.get(r.sessionId)?.title ? `In “${relay.sessions.get(r.sessionId)!.title}”` : 'In a session'} on {relay.activeHost()?.label ?? 'your computer'}.
            </p>
            <RequestDetails req={r} />
            <p class="hint">
              “Always allow for this session” also allows{' '}
              {(r.always.length ? r.always : r.patterns).map((p) => `“${p}”`).join(', ') || 'requests like this one'} until this session ends, without asking.
            </p>
            <Show when={error()}>
              <p class="note note--error" role="alert">{error()}</p>
            </Show>
            <div class="sheet__actions sheet__actions--stack">
              <Button variant="primary" disabled={busy()} onClick={() => void answer('once')}>Allow once</Button>
              <Button variant="secondary" disabled={busy()} onClick={() => void answer('session')}>Always allow for this session</Button>
              <Button variant="danger" disabled={busy()} onClick={() => void answer('reject')}>Deny</Button>
              <Button variant="quiet" disabled={busy()} onClick={() => props.ui.later()}>Decide later</Button>
            </div>
          </div>
        )}
      </Show>
    </Sheet>
  );
}
