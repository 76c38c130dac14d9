/**
 * The phone's connection to one paired computer over the encrypted channel: connect by racing
 * the host's known addresses (race.ts; the last winner first), keep it alive with a ping
 * heartbeat that also measures the round trip, and reconnect: while the app is visible by probing
 * the host's addresses every second or two and shaking hands as soon as one answers, hidden or
 * after minutes of failure with jittered backoff (retry-schedule.ts), and at once when the phone
 * comes back online, changes network, the app comes back to the front or the person asks. A
 * connection that survived a sleep is not trusted: it must answer a ping within a second or two,
 * or it is closed and replaced. Reconnects carry the last event number so the host can resume.
 *
 * The outbox builds on `state` and `request`; nothing here knows about sessions or screens.
 * @module
 */
import { connect as channelConnect, type ConnectOptions, type RelayChannel, type RequestBody, type ResultOf, type SocketLike, type Welcome } from '../../shared/channel/client.ts';
import type { RequestType } from '../../shared/protocol/messages.ts';
import type { RelayRuntimeEvent } from '../../shared/protocol/runtime-events.ts';
import { relaySocketUrl } from '../../shared/pairing/link.ts';
import type { Resync, RuntimeStatus } from '../../shared/protocol/messages.ts';
import type { ErrorCode } from '../../shared/protocol/errors.ts';
import type { HostRecord } from '../storage/db.ts';
import { candidateAddresses, preferAddress } from './addresses.ts';
import { createBackoff, type Backoff } from './backoff.ts';
import { ConnectTimeout, FATAL_CODES, NotConnected, errorCode, explainConnection } from './explain.ts';
import { raceAddresses, type Race } from './race.ts';
import { createRetrySchedule, type RetrySchedule } from './retry-schedule.ts';

export type LinkState =
  | { phase: 'connecting'; reason: string }
  | { phase: 'connected'; address: string }
  /** Between attempts. */
  | { phase: 'waiting'; reason: string; retryAt: number }
  | { phase: 'offline'; reason: string }
  /** Given up: trying again cannot help (unpaired, removed, incompatible) or the link was closed. */
  | { phase: 'stopped'; reason: string; code?: ErrorCode };

export interface LinkHandlers {
  onState(state: LinkState): void;
  /** A new connection is up (`welcome.resumed` says whether missed events follow). */
  onWelcome(welcome: Welcome): void;
  /**
   * The host could not replay what was missed: reload what `resync` names. Resolves once
   * reloaded; until then the resume point stays where it was, so a connection lost meanwhile
   * resyncs again (docs/protocol.md, "Resume rules").
   */
  onResync(resync: Resync): Promise<void>;
  /** `event` undefined: one this app cannot read (a newer host's); its seq still counts. */
  onEvent(seq: number, event: RelayRuntimeEvent | undefined): void;
  onRuntime(runtime: RuntimeStatus): void;
  /** Round-trip time of a heartbeat ping. */
  onRtt(ms: number): void;
}

/** The browser around the link, injectable for tests. */
export interface LinkEnvironment {
  openSocket(url: string): SocketLike;
  online(): boolean;
  /** Moments worth trying at once: back online, app visible again, another network. Returns an unsubscribe. */
  onWake(listener: () => void): () => void;
  onOffline(listener: () => void): () => void;
  /** The page's origin, tried first when it is one of the host's addresses. */
  origin: string;
  now(): number;
  /** Whether a person can see the app (default: always); hidden, the link backs off. */
  visible?(): boolean;
  /**
   * Whether anything answers at `address` within `timeoutMs`: a cheap check, no handshake, that
   * lets a visible app notice the host is back within a second or two. Without it every retry is
   * a full handshake, and the link backs off.
   */
  probe?(address: string, timeoutMs: number): Promise<boolean>;
  /** The address that won the last race for this host, kept across app restarts. */
  rememberedAddress?(hostId: string): string | undefined;
  rememberAddress?(hostId: string, address: string): void;
}

export interface HostLinkOptions {
  host: HostRecord;
  device: { name: string; platform: string };
  handlers: LinkHandlers;
  env?: LinkEnvironment;
  connect?: (opts: ConnectOptions) => Promise<RelayChannel>;
  backoff?: Backoff;
  /** When to probe and when to back off (default: retry-schedule.ts's, on `backoff`). */
  schedule?: RetrySchedule;
  /** How long a probe waits for an answer (default 1.5 s). */
  probeTimeoutMs?: number;
  /** One address's handshake (default 10 s). */
  connectTimeoutMs?: number;
  /** How long the preferred address runs alone before the others join the race (default 300 ms). */
  headStartMs?: number;
  /** Heartbeat: a ping this often (default 5 s), answered within `pingTimeoutMs` (default 3 s). */
  pingEveryMs?: number;
  pingTimeoutMs?: number;
  /** How soon a connection that survived a sleep or a network change must answer (default 1.5 s). */
  wakePingTimeoutMs?: number;
}

export interface HostLink {
  readonly hostId: string;
  state(): LinkState;
  /** Sends a request on the open connection; rejects with NotConnected when there is none. */
  request<T extends RequestType>(body: RequestBody<T>): Promise<ResultOf<T>>;
  /** Drops the current connection (if any) and connects again now. */
  reconnectNow(): void;
  /** Ends the link for good (switching computers, forgetting one). */
  close(): void;
}

const REMEMBERED = 'relay.address.';

export function browserEnvironment(win: Window = window): LinkEnvironment {
  // The Network Information API (Chromium on Android): `change` when the phone switches networks.
  const connection = (win.navigator as { connection?: EventTarget }).connection;
  return {
    openSocket: (url) => new WebSocket(url),
    online: () => win.navigator.onLine !== false,
    onWake(listener) {
      const visible = () => win.document.visibilityState === 'visible' && listener();
      win.addEventListener('online', listener);
      win.document.addEventListener('visibilitychange', visible);
      win.addEventListener('pageshow', listener);
      connection?.addEventListener('change', listener);
      return () => {
        win.removeEventListener('online', listener);
        win.document.removeEventListener('visibilitychange', visible);
        win.removeEventListener('pageshow', listener);
        connection?.removeEventListener('change', listener);
      };
    },
    onOffline(listener) {
      win.addEventListener('offline', listener);
      return () => win.removeEventListener('offline', listener);
    },
    origin: win.location.origin,
    now: () => performance.now(),
    visible: () => win.document.visibilityState !== 'hidden',
    async probe(address, timeoutMs) {
      try {
        // Opaque (no-cors) is enough: any HTTP answer means the host is listening again. The
        // service worker lets /healthz through to the network (client/sw/sw.ts).
        await win.fetch(new URL('/healthz', address), { mode: 'no-cors', cache: 'no-store', signal: AbortSignal.timeout(timeoutMs) });
        return true;
      } catch {
        return false;
      }
    },
    rememberedAddress(hostId) {
      try {
        return win.localStorage.getItem(REMEMBERED + hostId) ?? undefined;
      } catch {
        return undefined; // storage blocked: race without a favourite
      }
    },
    rememberAddress(hostId, address) {
      try {
        win.localStorage.setItem(REMEMBERED + hostId, address);
      } catch {
        // storage blocked or full: the next race starts without a favourite
      }
    },
  };
}

/** One address's connection attempt, holding what the host sends until the attempt wins. */
interface Candidate {
  readonly result: Promise<RelayChannel>;
  abandon(): void;
  /** This attempt won: from now on its messages go straight to the link; returns what came before. */
  win(): { events: Array<[number, RelayRuntimeEvent | undefined]>; resync?: Resync; runtime?: RuntimeStatus };
}

export function createHostLink(opts: HostLinkOptions): HostLink {
  const { host, handlers } = opts;
  const env = opts.env ?? browserEnvironment();
  const connect = opts.connect ?? channelConnect;
  const backoff = opts.backoff ?? createBackoff();
  const schedule = opts.schedule ?? createRetrySchedule(backoff);
  const probeTimeoutMs = opts.probeTimeoutMs ?? 1_500;
  const connectTimeoutMs = opts.connectTimeoutMs ?? 10_000;
  const headStartMs = opts.headStartMs ?? 300;
  const pingEveryMs = opts.pingEveryMs ?? 5_000;
  const pingTimeoutMs = opts.pingTimeoutMs ?? 3_000;
  const wakePingTimeoutMs = opts.wakePingTimeoutMs ?? 1_500;
  const name = host.label;

  let current: LinkState = { phase: 'connecting', reason: `Reaching ${name}` };
  let channel: RelayChannel | undefined;
  let race: Race<RelayChannel> | undefined;
  let closed = false;
  let retryTimer: ReturnType<typeof setTimeout> | undefined;
  let pingTimer: ReturnType<typeof setTimeout> | undefined;
  /** Since when the host has been unreachable (reset by a connection), for the retry schedule. */
  let failingSince: number | undefined;
  /** The last handshake followed a probe that got an answer, and failed anyway. */
  let handshakeFailed = false;
  /** Bumped by every retry scheduled or attempt started: a probe finishing late finds it moved on. */
  let waitId = 0;
  /** Every address the host is known by (welcomes add new ones), and the last race's winner. */
  let known = [...host.addresses];
  let preferred = env.rememberedAddress?.(host.hostId);
  /** Resume point: the last event applied and the host run it belongs to. */
  let after: number | undefined;
  let epoch: string | undefined;
  /** This connection's last event, and a resync waiting for the connection to be adopted. */
  let lastSeen: number | undefined;
  let heldResync: Resync | undefined;
  let resyncing = false;

  const setState = (next: LinkState) => {
    current = next;
    handlers.onState(next);
  };

  const isFatal = (err: unknown) => {
    const code = errorCode(err);
    return code !== undefined && FATAL_CODES.has(code);
  };

  const applyEvent = (seq: number, event: RelayRuntimeEvent | undefined) => {
    lastSeen = seq;
    // Replayed and live events of a resumed connection move the resume point; during a resync
    // it moves only once the reload is done.
    if (!resyncing && !heldResync) after = seq;
    handlers.onEvent(seq, event);
  };

  const connectTo = (address: string): Candidate => {
    const socket = env.openSocket(relaySocketUrl(address));
    let opened: RelayChannel | undefined;
    let abandoned = false;
    let won = false;
    const early: ReturnType<Candidate['win']> = { events: [] };
    let timer: ReturnType<typeof setTimeout> | undefined;
    const abandon = (why: string) => {
      if (abandoned) return;
      abandoned = true;
      clearTimeout(timer);
      if (opened) opened.close(1000, why);
      else socket.close(1000, why);
    };
    const opening = connect({
      socket,
      hostKey: host.hostKey,
      deviceKey: host.deviceKey,
      name: opts.device.name,
      platform: opts.device.platform,
      ...(after !== undefined && epoch !== undefined ? { after, epoch } : {}),
      onEvent: (seq, event) => (won ? applyEvent(seq, event) : early.events.push([seq, event])),
      onRuntime: (runtime) => {
        if (won) handlers.onRuntime(runtime);
        else early.runtime = runtime;
      },
      onResync: (resync) => {
        if (won && opened && opened === channel) startResync(resync, opened);
        else early.resync = resync;
      },
    });
    const result = new Promise<RelayChannel>((resolve, reject) => {
      timer = setTimeout(() => {
        abandon('timed out');
        reject(new ConnectTimeout(address));
      }, connectTimeoutMs);
      opening.then(
        (c) => {
          clearTimeout(timer);
          opened = c;
          // Completed after its timeout, or after another address won: closed rather than leaked.
          if (abandoned) c.close(1000, 'not needed');
          else resolve(c);
        },
        (err: unknown) => {
          clearTimeout(timer);
          reject(err);
        },
      );
    });
    return {
      result,
      abandon: () => abandon('another address answered'),
      win() {
        won = true;
        return early;
      },
    };
  };

  const stopWith = (err: unknown) => {
    const { message, code } = explainConnection(err, name);
    setState({ phase: 'stopped', reason: message, ...(code ? { code } : {}) });
  };

  const scheduleRetry = (err: unknown) => {
    clearTimeout(retryTimer);
    const id = ++waitId;
    if (!env.online()) {
      setState({ phase: 'offline', reason: 'This phone is offline' });
      return;
    }
    failingSince ??= env.now();
    const plan = env.probe
      ? schedule.next({ visible: env.visible?.() ?? true, failingForMs: env.now() - failingSince, handshakeFailed })
      : { kind: 'handshake' as const, delayMs: backoff.next() };
    const why = explainConnection(err, name).message;
    const next = plan.kind === 'probe' ? ', trying again…' : `; trying again in ${Math.max(1, Math.round(plan.delayMs / 1000))} s`;
    setState({ phase: 'waiting', reason: `${why}${next}`, retryAt: env.now() + plan.delayMs });
    retryTimer = setTimeout(() => (plan.kind === 'probe' ? void probe(err, id) : attempt()), plan.delayMs);
  };

  /** Shakes hands once any address answers a probe; otherwise waits for the next one. */
  const probe = async (err: unknown, id: number) => {
    const addresses = preferAddress(candidateAddresses(known, env.origin), preferred);
    const answered = await new Promise<boolean>((resolve) => {
      let left = addresses.length;
      if (left === 0) resolve(false);
      for (const address of addresses) {
        env.probe!(address, probeTimeoutMs).then(
          (ok) => (ok ? resolve(true) : --left === 0 && resolve(false)),
          () => --left === 0 && resolve(false),
        );
      }
    });
    // Woken, closed or asked to reconnect meanwhile: that attempt decides.
    if (id !== waitId || closed || race || channel) return;
    if (answered) attempt(true);
    else {
      handshakeFailed = false; // the host is gone again: probing is what finds it soonest
      scheduleRetry(err);
    }
  };

  const heartbeat = () => {
    clearTimeout(pingTimer);
    pingTimer = setTimeout(() => void ping(pingTimeoutMs), pingEveryMs);
  };

  /** Proves the connection is alive within `timeoutMs`; otherwise replaces it. */
  const ping = async (timeoutMs: number) => {
    const open = channel;
    if (!open) return;
    const started = env.now();
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      await Promise.race([open.request({ t: 'ping', at: Date.now() }), new Promise((_, reject) => (timer = setTimeout(() => reject(new Error('ping timed out')), timeoutMs)))]);
      if (open === channel) handlers.onRtt(env.now() - started);
    } catch {
      // No answer: the socket is dead even if the browser has not noticed (phone slept, Wi-Fi changed).
      replace(open, 'heartbeat: no answer');
    } finally {
      clearTimeout(timer);
      if (open === channel) heartbeat();
    }
  };

  /** Closes `old` (so dead sockets do not pile up) and connects again at once. */
  const replace = (old: RelayChannel, why: string) => {
    if (old !== channel) return;
    channel = undefined;
    clearTimeout(pingTimer);
    old.close(4000, why);
    backoff.reset();
    attempt();
  };

  /** A full connection attempt (a race of handshakes); `afterProbe` when a probe just got an answer. */
  const attempt = (afterProbe = false) => {
    if (closed || race || channel) return;
    clearTimeout(retryTimer);
    waitId++;
    if (!env.online()) {
      setState({ phase: 'offline', reason: 'This phone is offline' });
      return;
    }
    const candidates = new Map<string, Candidate>();
    const r = raceAddresses<RelayChannel>({
      addresses: preferAddress(candidateAddresses(known, env.origin), preferred),
      headStartMs,
      isFinal: isFatal,
      start(address) {
        const candidate = connectTo(address);
        candidates.set(address, candidate);
        return candidate;
      },
    });
    race = r;
    // Only now: the sockets are opening meanwhile, rather than after the screen has been updated.
    setState({ phase: 'connecting', reason: backoff.attempts ? `Trying ${name} again` : `Reaching ${name}` });
    r.result.then(
      ({ value, address }) => {
        race = undefined;
        if (closed) value.close(1000, 'closed');
        else adopt(value, address, candidates.get(address)!);
      },
      (err: unknown) => {
        if (race === r) race = undefined;
        if (closed) return;
        if (isFatal(err)) stopWith(err);
        else {
          // Reachable yet failing: stays so until a probe finds the host gone or a connection works.
          if (afterProbe) handshakeFailed = true;
          scheduleRetry(err);
        }
      },
    );
  };

  const startResync = (resync: Resync, on: RelayChannel) => {
    resyncing = true;
    const upTo = Math.max(lastSeen ?? 0, resync.seq);
    handlers.onResync(resync).then(
      () => {
        if (on !== channel) return;
        resyncing = false;
        after = Math.max(upTo, lastSeen ?? 0);
        epoch = on.welcome.epoch;
      },
      () => {
        if (on === channel) resyncing = false; // the old point stays: the next connection resyncs again
      },
    );
  };

  const adopt = (opened: RelayChannel, address: string, candidate: Candidate) => {
    channel = opened;
    // localStorage writes block the page: only when the winner changed.
    if (address !== preferred) env.rememberAddress?.(host.hostId, address);
    preferred = address;
    backoff.reset();
    failingSince = undefined;
    handshakeFailed = false;
    lastSeen = undefined;
    resyncing = false;
    const welcome = opened.welcome;
    known = [...new Set([...known, ...welcome.host.addresses])];
    // A host that predates resync messages: its events number from its own epoch.
    if (welcome.resumed || welcome.seq === undefined) epoch = welcome.epoch;
    if (!welcome.resumed && welcome.seq === undefined) after = undefined;
    setState({ phase: 'connected', address });
    handlers.onWelcome(welcome);
    handlers.onRuntime(welcome.runtime);
    const early = candidate.win();
    if (early.runtime) handlers.onRuntime(early.runtime);
    heldResync = early.resync;
    for (const [seq, event] of early.events) applyEvent(seq, event);
    if (heldResync) {
      const resync = heldResync;
      heldResync = undefined;
      startResync(resync, opened);
    }
    void ping(pingTimeoutMs); // a first round trip right away, then the heartbeat
    opened.closed.then((err) => {
      if (opened !== channel) return;
      channel = undefined;
      clearTimeout(pingTimer);
      if (closed) return;
      if (isFatal(err)) stopWith(err);
      // The host closed it to hand out the device's new scopes: the next welcome carries them.
      else if (errorCode(err) === 'device.access-changed') attempt();
      else scheduleRetry(err);
    });
  };

  const wake = () => {
    if (closed || current.phase === 'stopped') return;
    if (channel) {
      void ping(wakePingTimeoutMs); // do not trust a connection that went through a sleep or a network change
      return;
    }
    backoff.reset();
    failingSince = undefined; // someone is looking again: back to the short schedule
    attempt();
  };

  const offWake = env.onWake(wake);
  const offOffline = env.onOffline(() => {
    if (!channel && !closed && current.phase !== 'stopped') {
      clearTimeout(retryTimer);
      waitId++;
      setState({ phase: 'offline', reason: 'This phone is offline' });
    }
  });

  attempt();

  return {
    hostId: host.hostId,
    state: () => current,
    request(body) {
      if (!channel) return Promise.reject(new NotConnected(name));
      return channel.request(body);
    },
    reconnectNow() {
      if (closed) return;
      const old = channel;
      channel = undefined;
      clearTimeout(pingTimer);
      old?.close(1000, 'reconnecting');
      backoff.reset();
      failingSince = undefined;
      attempt();
    },
    close() {
      if (closed) return;
      closed = true;
      offWake();
      offOffline();
      clearTimeout(retryTimer);
      clearTimeout(pingTimer);
      race?.cancel(new Error('closed by the app'));
      const old = channel;
      channel = undefined;
      old?.close(1000, 'closed by the app');
      setState({ phase: 'stopped', reason: 'Disconnected' });
    },
  };
}
