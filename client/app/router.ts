/**
 * Hash router: the current route as a signal. Until the home route is known (it depends on
 * whether a computer is paired), an empty fragment resolves to nothing and the outlet waits.
 * @module
 */
import { createSignal, type Accessor } from 'solid-js';
import { formatRoute, parseRoute, type Route } from '../routes.ts';

export interface Router {
  /** The screen to show; undefined while the home route is still being decided. */
  readonly route: Accessor<Route | undefined>;
  navigate(route: Route, opts?: { replace?: boolean }): void;
  setHome(route: Route): void;
  dispose(): void;
}

export function createHashRouter(win: Window = window): Router {
  const [parsed, setParsed] = createSignal(parseRoute(win.location.hash));
  const [home, setHome] = createSignal<Route>();
  const sync = () => setParsed(parseRoute(win.location.hash));
  win.addEventListener('hashchange', sync);
  return {
    route: () => parsed() ?? home(),
    navigate(route, opts = {}) {
      const hash = formatRoute(route);
      if (opts.replace) {
        win.history.replaceState(win.history.state, '', hash);
        sync(); // replaceState fires no hashchange
      } else {
        win.location.hash = hash;
      }
    },
    setHome: (route) => setHome(route),
    dispose: () => win.removeEventListener('hashchange', sync),
  };
}
