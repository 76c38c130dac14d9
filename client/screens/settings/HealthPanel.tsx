import { createSignal, onCleanup, onMount, Show } from 'solid-js';
import { useApp } from '../../app/context.ts';
import { troubleshootingUrl } from '../../app/links.ts';
import { Button } from '../../ui/Button.tsx';
import { duration, timeAgo } from '../../ui/time.ts';
import { MetricsSection } from './MetricsSection.tsx';

const RUNTIME_LABEL = { starting: 'Starting', ready: 'Ready', restarting: 'Restarting', failed: 'Not running' } as const;

/**
 * Is the computer reachable, how fast, how long has it been up, is its coding agent running,
 * can it reach a model, how did the last task end, what it counted lately, and what to do when
 * something is wrong.
 */
export function HealthPanel() {
  const { relay } = useApp();
  const h = relay.health;
  const [now, setNow] = createSignal(Date.now());
  onMount(() => {
    void relay.refreshHealth();
    const timer = setInterval(() => {
      setNow(Date.now());
      void relay.refreshHealth();
    }, 10_000);
    onCleanup(() => clearInterval(timer));
  });
  const lastTaskTitle = () => {
    const id = h.lastTask?.sessionId;
    return (id && relay.sessions.get(id)?.title) || 'a session';
  };
  const reachable = () => {
    if (h.phase === 'connected') return `Yes${h.rttMs !== undefined ? `, ${h.rttMs} ms round trip` : ''}${h.pingAt ? ` (checked ${timeAgo(h.pingAt, now())})` : ''}`;
    if (h.phase === 'unpaired') return 'No computer paired';
    return `No: ${h.reason}`;
  };
  /**
   * Disconnected, what the host last said may no longer hold (the runtime may have stopped with
   * it): said as last known, with its age, never as if it were live.
   */
  const asOf = () => (h.phase !== 'connected' && h.lostAt !== undefined ? ` — ${timeAgo(h.lostAt, now())} (last known)` : '');
  const runtime = () => {
    if (!h.runtime) return h.phase === 'connected' ? 'Unknown' : 'Not known while disconnected';
    const version = h.runtime.version ? ` (OpenCode ${h.runtime.version})` : '';
    return `${RUNTIME_LABEL[h.runtime.state]}${asOf()}${version}${h.runtime.error ? `: ${h.runtime.error}` : ''}`;
  };
  const provider = () => {
    if (h.providerProblem) return `Not working: ${h.providerProblem}. On the computer, run opencode auth login.`;
    const providers = h.runtime?.providers;
    if (providers?.some((p) => p !== 'opencode')) return `Configured: ${providers.filter((p) => p !== 'opencode').join(', ')}${asOf()}`;
    if (providers) return `None of your own: only OpenCode Zen’s free models (online)${asOf()}. On the computer, run opencode auth login.`;
    if (h.lastTask?.result === 'finished') return 'Working (the last task got answers)';
    return 'Not reported by the computer yet';
  };
  const lastTask = () => {
    const t = h.lastTask;
    if (!t) return h.phase === 'connected' ? 'None since the app opened' : 'None seen since the app opened (not connected now)';
    const what = { finished: 'finished', failed: 'failed', stopped: 'was stopped' }[t.result];
    // While disconnected a later task may have ended unseen: this is only the last one this phone saw.
    const seen = h.phase === 'connected' ? '' : ' (the last this phone saw; not connected now)';
    return `“${lastTaskTitle()}” ${what} ${timeAgo(t.at, now())}${seen}${t.note ? `: ${t.note}` : ''}`;
  };

  return (
    <>
      <section class="health" aria-labelledby="health-title">
        <h2 class="section-title" id="health-title">
          Connection health
        </h2>
        <dl class="facts">
          <dt>Computer</dt>
          <dd>{relay.activeHost()?.label ?? 'None'}</dd>
          <dt>Reachable</dt>
          <dd>{reachable()}</dd>
          <Show when={h.address && h.phase === 'connected'}>
            <dt>Address</dt>
            <dd>{h.address}</dd>
          </Show>
          <dt>Host up for</dt>
          <dd>{h.uptimeSeconds !== undefined ? duration(h.uptimeSeconds) : 'Not known from here'}</dd>
          <Show when={h.hostVersion}>
            <dt>Host version</dt>
            <dd>{h.hostVersion}</dd>
          </Show>
          <dt>Coding agent</dt>
          <dd>{runtime()}</dd>
          <dt>Model provider</dt>
          <dd>{provider()}</dd>
          <dt>Last task</dt>
          <dd>{lastTask()}</dd>
        </dl>
        <div class="actions">
          <Button variant="primary" disabled={!relay.activeHost()} onClick={() => relay.reconnectNow()}>
            Reconnect now
          </Button>
          <a class="button button--secondary" href="#/pair">
            Pair again
          </a>
          <a class="button button--quiet" href={troubleshootingUrl(h.code)}>
            Troubleshooting guide
          </a>
        </div>
      </section>
      <MetricsSection />
    </>
  );
}
