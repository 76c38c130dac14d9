import { ErrorBoundary, lazy, Show, Suspense } from 'solid-js';
import { Dynamic } from 'solid-js/web';
import { SCREENS } from './screens.ts';
import { Banner } from '../ui/Banner.tsx';
import { Button } from '../ui/Button.tsx';
import { StatusPill } from '../ui/StatusPill.tsx';
import { ApprovalBadge } from './ApprovalBadge.tsx';
import { APPROVAL_WORDS, createApprovalsUi } from './approvals.ts';
import { RequestBanner } from './RequestBanner.tsx';
import { QUESTION_WORDS, createQuestionsUi } from './questions.ts';
import { AppContext, type AppServices } from './context.ts';
import { UpdateBanner } from './UpdateBanner.tsx';

// Only needed once a computer asks for something.
const PermissionSheet = lazy(() => import('./PermissionSheet.tsx'));
const QuestionSheet = lazy(() => import('./QuestionSheet.tsx'));

/** The shell: top bar with the connection status, banners, the current screen, and approvals. */
export function App(props: { services: AppServices }) {
  const connection = () => props.services.connection.state;
  const route = () => props.services.router.route();
  const approvals = createApprovalsUi(props.services);
  // An approval's sheet goes first: a question's waits until it is closed.
  const questions = createQuestionsUi(props.services, () => approvals.open() && approvals.current() !== undefined);
  return (
    <AppContext.Provider value={props.services}>
      <header class="topbar">
        <a class="topbar__brand" href="#/">
          Relay
        </a>
        <StatusPill status={connection().status} reason={connection().reason} onRetry={() => props.services.relay.reconnectNow()} />
        <ApprovalBadge ui={approvals} questions={questions} />
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
      <RequestBanner ui={approvals} words={APPROVAL_WORDS} />
      <RequestBanner ui={questions} words={QUESTION_WORDS} />
      <main class="outlet">
        <ErrorBoundary
          fallback={() => (
            // Solid's lazy() remembers a failed import, so only a fresh page load retries it.
            <Banner tone="error" message="This screen could not be loaded. Check the connection to your computer.">
              <Button variant="primary" onClick={() => location.reload()}>
                Try again
              </Button>
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
      <Show when={approvals.pending().length > 0}>
        <Suspense>
          <PermissionSheet ui={approvals} />
        </Suspense>
      </Show>
      <Show when={questions.pending().length > 0}>
        <Suspense>
          <QuestionSheet ui={questions} />
        </Suspense>
      </Show>
    </AppContext.Provider>
  );
}
