/**
 * The pairing screen's state: start → (scanning) → contacting → confirm (code shown, waiting for
 * the person at the computer) → done, or failed with what to do. A link for the host's stable
 * address that arrives while the app is open somewhere else stops at `elsewhere` first, before
 * the offer is used. The network side (and its crypto) is imported when pairing starts, not when
 * the screen opens.
 * @module
 */
import { createSignal, type Accessor } from 'solid-js';
import type { ErrorCode } from '../../../shared/protocol/errors.ts';
import type { DeviceIdentity } from '../../net/device-name.ts';
import { pairLinkAt } from '../../app/pair-link.ts';
import { stableOriginElsewhere } from '../../net/addresses.ts';
import { explainPairing } from '../../net/explain.ts';
import type { PairingAttempt, PairingTarget } from '../../net/pairing.ts';
import type { HostRecord } from '../../storage/db.ts';

export type PairPhase =
  | { step: 'start' }
  | { step: 'scanning' }
  | { step: 'contacting'; host: string }
  /** The link is for `stable`, the page is at another origin: go there (`link`), or pair here. */
  | { step: 'elsewhere'; host: string; stable: string; link: string }
  | { step: 'confirm'; host: string; code: string; expiresAt?: number }
  | { step: 'done'; host: string }
  | { step: 'failed'; host: string; message: string; code?: ErrorCode };

export interface PairFlow {
  readonly phase: Accessor<PairPhase>;
  /** A `#pair=` link, opened by the camera app or read by the in-app scanner. */
  fromLink(link: string): void;
  /** A code typed by the person; the page's own host is asked for its key. */
  fromCode(code: string): void;
  scan(): void;
  /** At `elsewhere`: pair at this page's origin after all. */
  pairHere(): void;
  /** Back to the start, abandoning a pairing under way. */
  reset(): void;
}

export interface PairFlowDeps {
  origin: string;
  device: () => DeviceIdentity;
  /** Stores the new computer; the flow is done when it resolves. */
  onPaired(record: HostRecord): Promise<void>;
  loadNet?: () => Promise<typeof import('../../net/pairing.ts')>;
}

export function createPairFlow(deps: PairFlowDeps): PairFlow {
  const loadNet = deps.loadNet ?? (() => import('../../net/pairing.ts'));
  const [phase, setPhase] = createSignal<PairPhase>({ step: 'start' });
  let attempt: PairingAttempt | undefined;
  /** The link's target while the person decides where to pair (`elsewhere`). */
  let held: PairingTarget | undefined;
  /** Bumped by reset(), so a pairing abandoned half-way cannot move the screen any more. */
  let run = 0;

  /** `link`: the pairing link the target came from, to check where it means the app to be. */
  const pairWith = async (target: () => Promise<PairingTarget>, hostGuess: string, link?: string) => {
    const mine = ++run;
    attempt?.cancel();
    attempt = undefined;
    held = undefined;
    let host = hostGuess;
    setPhase({ step: 'contacting', host });
    try {
      const t = await target();
      host = t.hostName;
      if (mine !== run) return;
      const stable = link === undefined ? undefined : stableOriginElsewhere(t.addresses, deps.origin);
      if (stable && link !== undefined) {
        held = t;
        setPhase({ step: 'elsewhere', host, stable, link: pairLinkAt(stable, link) });
        return;
      }
      setPhase({ step: 'contacting', host });
      const net = await loadNet();
      const started = await net.startPairing(t, deps.device(), { origin: deps.origin });
      if (mine !== run) return started.cancel();
      attempt = started;
      setPhase({ step: 'confirm', host, code: started.code, ...(t.expiresAt ? { expiresAt: t.expiresAt } : {}) });
      const record = await started.approved;
      if (mine !== run) return;
      await deps.onPaired(record);
      setPhase({ step: 'done', host: record.label });
    } catch (err) {
      if (mine !== run) return;
      const { message, code } = explainPairing(err, host);
      setPhase({ step: 'failed', host, message, ...(code ? { code } : {}) });
    } finally {
      if (mine === run) attempt = undefined;
    }
  };

  return {
    phase,
    fromLink: (link) => void pairWith(async () => (await loadNet()).targetFromLink(link), 'your computer', link),
    fromCode: (code) => void pairWith(async () => (await loadNet()).targetFromCode(code, deps.origin), 'your computer'),
    scan: () => {
      run++;
      setPhase({ step: 'scanning' });
    },
    pairHere() {
      const t = held;
      if (t) void pairWith(async () => t, t.hostName);
    },
    reset() {
      run++;
      held = undefined;
      attempt?.cancel();
      attempt = undefined;
      setPhase({ step: 'start' });
    },
  };
}

/** The phase, if it is at `step` (typed for that step): for `<Match when={…}>`. */
export function at<S extends PairPhase['step']>(phase: PairPhase, step: S): Extract<PairPhase, { step: S }> | undefined {
  return phase.step === step ? (phase as Extract<PairPhase, { step: S }>) : undefined;
}
