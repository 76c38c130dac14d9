/**
 * The layer for OpenCode's own clients as the composition root (host/app.ts) wires it: the relay's
 * workspace gate (one index of runtime facts for phones and computers), the host's rules for sessions, and the control
 * channel's "make a computer's credential", refused where the layer cannot be served.
 * @module
 */
import type { Logger } from '../log.ts';
import type { DeviceRegistry } from '../devices/registry.ts';
import type { Metrics } from '../metrics/metrics.ts';
import type { PermissionGrants } from '../rpc/permissions.ts';
import { sessionRulesKeeper } from '../policy/device-runtime.ts';
import type { PermissionRule } from '../policy/rules.ts';
import type { WorkspaceGate } from '../policy/workspaces.ts';
import type { RuntimeBridge } from '../runtime/bridge.ts';
import { makeComputerCredential, type ComputerCredential } from './computers.ts';
import { compatRefusal, type Exposure } from './exposure.ts';
import { createCompatLayer, type CompatLayer } from './layer.ts';

export interface CompatHostOptions extends Exposure {
  devices: DeviceRegistry;
  permissions: Pick<PermissionGrants, 'reply'>;
  /** The relay's gate: it learns sessions' workspaces from the runtime's events. */
  gate: WorkspaceGate;
  runtime: Pick<RuntimeBridge, 'target' | 'getSession' | 'addSessionPermission'>;
  workspaces: string[];
  rulesFor(directory: string): PermissionRule[];
  /** The host's base URLs, best first. */
  urls(): string[];
  metrics: Metrics;
  log: Logger;
}

export interface CompatHost extends CompatLayer {
  /** A new computer's credential, or why the layer cannot be used here. */
  newComputer(name: string): { value: ComputerCredential } | { status: number; error: string };
}

export function openCompatHost(opts: CompatHostOptions): CompatHost {
  const { runtime, log } = opts;
  const refusal = compatRefusal(opts);
  if (refusal) log.info("OpenCode's own clients cannot use this host", { reason: refusal });
  const layer = createCompatLayer({
    devices: opts.devices,
    target: () => runtime.target,
    gate: opts.gate,
    permissions: opts.permissions,
    rules: sessionRulesKeeper({ runtime, rulesFor: opts.rulesFor, log }),
    rulesFor: opts.rulesFor,
    metrics: opts.metrics,
    log,
    ...(refusal ? { refusal } : {}),
  });
  return {
    ...layer,
    newComputer(name) {
      if (refusal) return { status: 409, error: refusal };
      try {
        const made = makeComputerCredential(opts.devices, name, opts.urls());
        log.info('made a credential for a computer', { device: made.deviceId, name: made.name });
        return { value: made };
      } catch (err) {
        if (err instanceof RangeError) return { status: 400, error: err.message };
        throw err;
      }
    },
  };
}
