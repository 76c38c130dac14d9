/**
 * Runtime and bridge wired together: the supervisor keeps a runtime up, the bridge talks to it
 * and follows it to its new address after every restart. The bridge exists from the start (it
 * refuses calls until the runtime has an address) so the host can listen while OpenCode starts.
 * The bridge covers every workspace the runtime is given (its sessions, events, permission requests).
 * @module
 */
import { createRuntimeBridge, type RuntimeBridge } from './bridge.ts';
import { createRuntimeSupervisor, type RuntimeState, type RuntimeSupervisor, type RuntimeSupervisorOptions } from './supervisor.ts';

export interface Runtime {
  supervisor: RuntimeSupervisor;
  bridge: RuntimeBridge;
  /**
   * The first `ready` state. Rejects with the runtime's last error when it failed first; the
   * supervisor keeps retrying in the background until `stop()`.
   */
  ready: Promise<RuntimeState>;
  stop(): Promise<void>;
}

export function startRuntime(opts: RuntimeSupervisorOptions): Runtime {
  const supervisor = createRuntimeSupervisor({ ...opts, log: opts.log.child('runtime') });
  const bridge = createRuntimeBridge({ ...(opts.workspaces ? { directories: opts.workspaces } : {}), log: opts.log.child('bridge') });
  const follow = (s: RuntimeState) => {
    if (s.status === 'ready' && s.url) bridge.setTarget({ url: s.url, password: supervisor.password });
  };
  const unfollow = supervisor.onState(follow);
  const ready = supervisor.start().then((s) => {
    follow(s);
    return s;
  });
  // The caller may only look at `ready` later (or never, when it reports state instead).
  ready.catch(() => {});
  return {
    supervisor,
    bridge,
    ready,
    async stop() {
      unfollow();
      await bridge.close();
      await supervisor.stop();
    },
  };
}
