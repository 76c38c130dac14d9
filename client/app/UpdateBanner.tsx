import { Match, Switch } from 'solid-js';
import type { UpdateBridge } from '../sw/bridge.ts';
import { Banner } from '../ui/Banner.tsx';
import { Button } from '../ui/Button.tsx';

export function UpdateBanner(props: { updates: UpdateBridge }) {
  const status = () => props.updates.state.status;
  const later = (
    <Button variant="quiet" onClick={() => props.updates.dismiss()}>
      Later
    </Button>
  );
  return (
    <Switch>
      <Match when={status() === 'waiting'}>
        <Banner message="A new version is ready.">
          {later}
          <Button variant="primary" onClick={() => props.updates.reload()}>
            Reload
          </Button>
        </Banner>
      </Match>
      <Match when={status() === 'confirm-discard'}>
        <Banner message="Reloading now loses the text you typed.">
          {later}
          <Button variant="danger" onClick={() => props.updates.reload({ discard: true })}>
            Reload anyway
          </Button>
        </Banner>
      </Match>
      <Match when={status() === 'activating'}>
        <Banner message="Updating…" />
      </Match>
      <Match when={status() === 'ready'}>
        <Banner message="A new version is active.">
          <Button variant="primary" onClick={() => props.updates.reload()}>
            Reload
          </Button>
        </Banner>
      </Match>
    </Switch>
  );
}
