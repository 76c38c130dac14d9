import { createSignal, For, Show } from 'solid-js';
import { useApp } from '../../app/context.ts';
import type { HostRecord } from '../../storage/db.ts';
import { Button } from '../../ui/Button.tsx';
import { Sheet } from '../../ui/Sheet.tsx';

/** Paired computers: which one is in use, switch, forget. */
export function HostsSection() {
  const { relay } = useApp();
  const [forgetting, setForgetting] = createSignal<HostRecord>();
  const forget = async () => {
    const host = forgetting();
    setForgetting(undefined);
    if (host) await relay.forgetHost(host.hostId);
  };
  return (
    <section aria-labelledby="hosts-title">
      <h2 class="section-title" id="hosts-title">
        Computers
      </h2>
      <Show when={relay.hosts().length > 0} fallback={<p class="hint">No computer paired yet.</p>}>
        <ul class="hosts">
          <For each={relay.hosts()}>
            {(host) => (
              <li class="host">
                <span class="host__name">
                  {host.label}
                  <Show when={host.hostId === relay.activeHost()?.hostId}>
                    <span class="host__current"> (in use)</span>
                  </Show>
                </span>
                <span class="host__actions">
                  <Show when={host.hostId !== relay.activeHost()?.hostId}>
                    <Button variant="secondary" onClick={() => void relay.switchHost(host.hostId)} aria-label={`Use ${host.label}`}>
                      Use
                    </Button>
                  </Show>
                  <Button variant="quiet" onClick={() => setForgetting(host)} aria-label={`Forget ${host.label}`}>
                    Forget
                  </Button>
                </span>
              </li>
            )}
          </For>
        </ul>
      </Show>
      <p>
        <a href="#/pair">Pair another computer</a>
      </p>
      <Sheet title={`Forget ${forgetting()?.label ?? 'this computer'}?`} open={forgetting() !== undefined} onClose={() => setForgetting(undefined)}>
        <p>This phone deletes its key for that computer and what it saved from it. To use it again, pair again.</p>
        <p class="hint">The computer still lists this phone until you remove it there (npm start -- devices).</p>
        <div class="sheet__actions">
          <Button variant="secondary" onClick={() => setForgetting(undefined)}>
            Cancel
          </Button>
          <Button variant="danger" onClick={() => void forget()}>
            Forget
          </Button>
        </div>
      </Sheet>
    </section>
  );
}
