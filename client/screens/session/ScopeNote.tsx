import { Show } from 'solid-js';
import { useApp } from '../../app/context.ts';

/** What this phone may not do on the computer in use, and where that is changed. */
export function ScopeNote() {
  const { relay } = useApp();
  const host = () => relay.activeHost()?.label ?? 'your computer';
  const text = () => {
    const run = relay.may('run');
    const approve = relay.may('approve');
    if (run && approve) return '';
    if (!run && !approve) return `This phone may only read sessions on ${host()}: it cannot start or stop tasks or answer approvals.`;
    if (!run) return `This phone may read sessions and answer approvals on ${host()}, but not start or stop tasks.`;
    return `This phone may start and stop tasks on ${host()}, but not answer approvals; another device has to.`;
  };
  return (
    <Show when={relay.activeHost() && text()}>
      <div class="note" role="note" aria-label="What this phone may do">
        <p>
          {text()} To change that, run <code>npm start -- devices</code> on {host()}.
        </p>
      </div>
    </Show>
  );
}
