/**
 * The phone's connection to one paired computer over the encrypted channel: connect (trying the
 * host's addresses in order), keep it alive with a ping heartbeat that also measures the round
 * trip, and reconnect with jittered backoff, at once when the phone comes back online or the app
 * comes back to the front. Reconnects carry the last event number so the host can resume.
 *
 * Later work (outbox, racing addresses) builds on `state` and `request`; nothing here knows
 * about sessions or screens.
 * @module
 */
import { connect as channelConnect, type ConnectOptions, type RelayChannel, type RequestBody, type ResultOf, type SocketLike, type Welcome } from '../../shared/channel/client.ts';
import { relaySocketUrl } from '../../shared/pairing/link.ts';
import type { Resync, RuntimeStatus } from '../../shared/protocol/messages.ts';
import type { ErrorCode } from '../../shared/protocol/errors.ts';
import type { HostRecord } from '../storage/db.ts';
import { candidateAddresses } from './addresses.ts';
import { createBackoff, type Backoff } from './backoff.ts';
import { ConnectTimeout, FATAL_CODES, NotConnected, errorCode, explainConnection } from './explain.ts';

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
  onEvent(seq: number, event: Record<string, unknown>): void;
  onRuntime(runtime: RuntimeStatus): void;
  /** Round-trip time of a heartbeat ping. */
  onRtt(ms: number): void;
}

/** The browser around the link, injectable for tests. */
export interface LinkEnvironment {
  openSocket(url: string): SocketLike;
  online(): boolean;
  /** Moments worth trying at once: back online, app visible again. Returns an unsubscribe. */
  onWake(listener: () => void): () => void;
  onOffline(listener: () => void): () => void;
  /** The page's origin, tried first when it is one of the host's addresses. */
  origin: string;
  now(): number;
}

export interface HostLinkOptions {
  host: HostRecord;
  device: { name: string; platform: string };
  handlers: LinkHandlers;
  env?: LinkEnvironment;
  connect?: (opts: ConnectOptions) => Promise<RelayChannel>;
  backoff?: Backoff;
  connectTimeoutMs?: number;
  pingEveryMs?: number;
  pingTimeoutMs?: number;
}

export interface HostLink {
  readonly hostId: string;
  state(): LinkState;
  /** Sends a request on the open connection; rejects with NotConnected when there is none. */
  request<R extends RequestBody>(body: R): Promise<ResultOf<R['t']>>;
  /** Drops the current connection (if any) and connects again now. */
  reconnectNow(): void;
  /** Ends the link for good (switching computers, forgetting one). */
  close(): void;
}

export function browserEnvironment(win: Window = window): LinkEnvironment {
  return {
    openSocket: (url) => new WebSocket(url) as unknown as SocketLike,
    online: () => win.navigator.onLine !== false,
    onWake(listener) {
      const visible = () => win.document.visibilityState === 'visible' && listener();
      win.addEventListener('online', listener);
      win.document.addEventListener('visibilitychange', visible);
      win.addEventListener('pageshow', listener);
      return () => {
        win.removeEventListener('online', listener);
        win.document.removeEventListener('visibilitychange', visible);
        win.removeEventListener('pageshow', listener);
      };
    },
    onOffline(listener) {
      win.addEventListener('offline', listener);
      return () => win.removeEventListener('offline', listener);
    },
    origin: win.location.origin,
    now: () => performance.now(),
  };
}

export function createHostLink(opts: HostLinkOptions): HostLink {
  const { host, handlers } = opts;
  const env = opts.env ?? browserEnvironment();
  const connect = opts.connect ?? channelConnect;
  const backoff = opts.backoff ?? createBackoff();
  const connectTimeoutMs = opts.connectTimeoutMs ?? 10_000;
  const pingEveryMs = opts.pingEveryMs ?? 20_000;
  const pingTimeoutMs = opts.pingTimeoutMs ?? 10_000;
  const name = host.label;

  let current: LinkState = { phase: 'connecting', reason: `Reaching ${name}` };
  let channel: RelayChannel | undefined;
  let attempting = false;
  let closed = false;
  let retryTimer: ReturnType<typeof setTimeout> | undefined;
  let pingTimer: ReturnType<typeof setTimeout> | undefined;
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

  const connectTo = async (address: string): Promise<RelayChannel> => {
    const socket = env.openSocket(relaySocketUrl(address));
    let timer: ReturnType<typeof setTimeout> | undefined;
    let timedOut = false;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        timedOut = true;
        socket.close();
        reject(new ConnectTimeout(address));
      }, connectTimeoutMs);
    });
    lastSeen = undefined;
    heldResync = undefined;
    resyncing = false;
    const opening = connect({
      socket,
      hostKey: host.hostKey,
      deviceKey: host.deviceKey,
      name: opts.device.name,
      platform: opts.device.platform,
      ...(after !== undefined && epoch !== undefined ? { after, epoch } : {}),
      onEvent: (seq, event) => {
        lastSeen = seq;
        // Replayed and live events of a resumed connection move the resume point; during a
        // resync it moves only once the reload is done.
        if (!resyncing && !heldResync) after = seq;
        handlers.onEvent(seq, event);
      },
      onRuntime: (runtime) => handlers.onRuntime(runtime),
      // It may come before connect() resolves: handled once the connection is adopted.
      onResync: (resync) => {
        if (channel) startResync(resync, channel);
        else heldResync = resync;
      },
    });
    // A connection that completes after its timeout is closed rather than leaked.
    opening.then((c) => timedOut && c.close(1000, 'timed out'), () => {});
    try {
      return await Promise.race([opening, timeout]);
    } finally {
      clearTimeout(timer);
    }
  };

  const stopWith = (err: unknown) => {
    const { message, code } = explainConnection(err, name);
    setState({ phase: 'stopped', reason: message, ...(code ? { code } : {}) });
  };

  const scheduleRetry = (err: unknown) => {
    clearTimeout(retryTimer);
    if (!env.online()) {
      setState({ phase: 'offline', reason: 'This phone is offline' });
      return;
    }
    const delay = backoff.next();
    const why = explainConnection(err, name).message;
    setState({ phase: 'waiting', reason: `${why}; trying again in ${Math.max(1, Math.round(delay / 1000))} s`, retryAt: env.now() + delay });
    retryTimer = setTimeout(() => void attempt(), delay);
  };

  const heartbeat = () => {
    clearTimeout(pingTimer);
    pingTimer = setTimeout(() => void ping(), pingEveryMs);
  };

  const ping = async () => {
    const open = channel;
    if (!open) return;
    const started = env.now();
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      await Promise.race([
        open.request({ t: 'ping', at: Date.now() }),
        new Promise((_, reject) => (timer = setTimeout(() => reject(new Error('ping timed out')), pingTimeoutMs))),
      ]);
      if (open === channel) handlers.onRtt(env.now() - started);
    } catch {
      // No answer: the socket is dead even if the browser has not noticed (phone slept, Wi-Fi changed).
      if (open === channel) open.close(4000, 'heartbeat: no answer');
    } finally {
      clearTimeout(timer);
      if (open === channel) heartbeat();
    }
  };

  const attempt = async () => {
    if (closed || attempting || channel) return;
    clearTimeout(retryTimer);
    if (!env.online()) {
      setState({ phase: 'offline', reason: 'This phone is offline' });
      return;
    }
    attempting = true;
    setState({ phase: 'connecting', reason: backoff.attempts ? `Trying ${name} again` : `Reaching ${name}` });
    let failure: unknown = new Error('no address to try');
    const addresses = candidateAddresses(host.addresses, env.origin);
    for (const address of addresses) {
      if (closed) break;
      try {
        const opened = await connectTo(address);
        attempting = false;
        if (closed) {
          opened.close(1000, 'closed');
          return;
        }
        adopt(opened, address);
        return;
      } catch (err) {
        failure = err;
        const code = errorCode(err);
        if (code && FATAL_CODES.has(code)) break;
      }
    }
    attempting = false;
    if (closed) return;
    const code = errorCode(failure);
    if (code && FATAL_CODES.has(code)) stopWith(failure);
    else scheduleRetry(failure);
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

  const adopt = (opened: RelayChannel, address: string) => {
    channel = opened;
    backoff.reset();
    const welcome = opened.welcome;
    // A host that predates resync messages: its events number from its own epoch.
    if (welcome.resumed || welcome.seq === undefined) epoch = welcome.epoch;
    if (!welcome.resumed && welcome.seq === undefined) after = lastSeen;
    setState({ phase: 'connected', address });
    handlers.onWelcome(welcome);
    handlers.onRuntime(welcome.runtime);
    if (heldResync) {
      const resync = heldResync;
      heldResync = undefined;
      startResync(resync, opened);
    }
    void ping(); // a first round trip right away, then the heartbeat
    opened.closed.then((err) => {
      if (opened !== channel) return;
      channel = undefined;
      clearTimeout(pingTimer);
      if (closed) return;
      const code = errorCode(err);
      if (code && FATAL_CODES.has(code)) stopWith(err);
      else scheduleRetry(err);
    });
  };

  const wake = () => {
    if (closed) return;
    if (channel) {
      void ping(); // prove the connection survived the sleep
      return;
    }
    if (current.phase === 'stopped') return;
    backoff.reset();
    void attempt();
  };

  const offWake = env.onWake(wake);
  const offOffline = env.onOffline(() => {
    if (!channel && !closed && current.phase !== 'stopped') {
      clearTimeout(retryTimer);
      setState({ phase: 'offline', reason: 'This phone is offline' });
    }
  });

  void attempt();

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
      void attempt();
    },
    close() {
      if (closed) return;
      closed = true;
      offWake();
      offOffline();
      clearTimeout(retryTimer);
      clearTimeout(pingTimer);
      const old = channel;
      channel = undefined;
      old?.close(1000, 'closed by the app');
      setState({ phase: 'stopped', reason: 'Disconnected' });
    },
  };
}
