import { ErrorBoundary, Show, Suspense } from 'solid-js';
import { Dynamic } from 'solid-js/web';
import { SCREENS } from '../routes.ts';
import { Banner } from '../ui/Banner.tsx';
import { Button } from '../ui/Button.tsx';
import { StatusPill } from '../ui/StatusPill.tsx';
import { AppContext, type AppServices } from './context.ts';
import { UpdateBanner } from './UpdateBanner.tsx';

/** The shell: top bar with the connection status, the update banner, and the current screen. */
export function App(props: { services: AppServices }) {
  const connection = () => props.services.connection.state;
  const route = () => props.services.router.route();
  return (
    <AppContext.Provider value={props.services}>
      <header class="topbar">
        <a class="topbar__brand" href="#/">Relay</a>
        <StatusPill status={connection().status} reason={connection().reason} />
        <a class="topbar__icon" href="#/settings" aria-current={route()?.name === 'settings' ? 'page' : undefined}>
          <svg viewBox="0 0 24 24" width="24" height="24" aria-hidden="true">
            <path d="M4 7h10M18 7h2M4 17h2M10 17h10" />
            <circle cx="16" cy="7" r="2" />
            <circle cx="8" cy="17" r="2" />
          </svg>
          <span class="visually-hidden">Settings</span>
        </a>
      </header>
      <UpdateBanner updates={props.services.updates} />
      <main class="outlet">
        <ErrorBoundary
          fallback={() => (
            // Solid's lazy() remembers a failed import, so only a fresh page load retries it.
            <Banner tone="error" message="This screen could not be loaded. Check the connection to your computer.">
              <Button variant="primary" onClick={() => location.reload()}>Try again</Button>
            </Banner>
          )}
        >
          <Suspense fallback={<p class="loading">Loading…</p>}>
            <Show when={route()} keyed>
              {(r) => <Dynamic component={SCREENS[r.name].component} param={r.param} />}
            </Show>
          </Suspense>
        </ErrorBoundary>
      </main>
    </AppContext.Provider>
  );
}
