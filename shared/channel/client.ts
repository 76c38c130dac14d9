/**
 * The device's side of the relay channel, for the PWA and for Node test clients alike: it needs
 * only a WebSocket-like object (the browser's WebSocket and the `ws` package both fit).
 *
 *   const pending = await pair({ socket, offer: offerFromLink(parsePairLink(location.hash)), deviceKey, name, platform });
 *   show(pending.code);                       // the 6 digits the host shows too
 *   const channel = await pending.approved;   // after the person at the host said yes
 *   await channel.request({ t: 'sessions.list' });
 *
 * Later connections use `connect({ socket, hostKey, deviceKey, ... })`. Failures reject with a
 * RelayClosedError whose `code` (e.g. 'pair.declined', 'device.revoked') says what to show.
 * @module
 */
import { verificationCode } from '../noise/sas.ts';
import { generateKeyPair, randomBytes, type KeyPair } from '../noise/primitives.ts';
import { ChannelError, createTransport, type Transport } from '../noise/transport.ts';
import { concatBytes } from '../noise/bytes.ts';
import type { HandshakeState } from '../noise/handshake.ts';
import { toHex } from '../encoding.ts';
import {
  PROTOCOL_VERSION,
  decodeJson,
  encodeMessage,
  parseHostMessage,
  splitMessages,
  type DeviceHello,
  type HostMessage,
  type Request,
  type RequestBody,
  type RequestType,
  type Resync,
  type ResultOf,
  type RuntimeStatus,
} from '../protocol/messages.ts';
import type { RelayRuntimeEvent } from '../protocol/runtime-events.ts';
import { createDeltaExpander } from '../protocol/compact-deltas.ts';
import { RelayClosedError, RequestError, readResult } from './errors.ts';
import { codeSecretBytes, pairingPsk } from '../pairing/keys.ts';
import { checkCodeHostKey, type PairLink, type TypedCode } from '../pairing/link.ts';
import { MODE, deviceHandshake } from './handshake.ts';
import { closeErrorCode, closeFor, type CloseErrorCode } from './close.ts';

/** What the client needs of a WebSocket; the browser's and `ws`'s both fit. */
export interface SocketLike {
  binaryType: string;
  readonly readyState: number;
  send(data: Uint8Array): void;
  close(code?: number, reason?: string): void;
  // `any`: each WebSocket implementation types its events differently; we read `data`, `code`, `reason`.
  // (With `unknown`, neither the browser's nor `ws`'s socket would be assignable to this interface.)
  // biome-ignore lint/suspicious/noExplicitAny: see above.
  onopen: ((event: any) => void) | null;
  // biome-ignore lint/suspicious/noExplicitAny: see above.
  onmessage: ((event: any) => void) | null;
  // biome-ignore lint/suspicious/noExplicitAny: see above.
  onclose: ((event: any) => void) | null;
  // biome-ignore lint/suspicious/noExplicitAny: see above.
  onerror: ((event: any) => void) | null;
}

/** WebSocket.OPEN / CONNECTING, which `ws` and browsers share. */
const CONNECTING = 0;
const OPEN = 1;

/** An offer, however it reached the device. `secret` is what the psk is derived from. */
export interface PairOffer {
  hostKey: Uint8Array;
  offerId: string;
  secret: Uint8Array;
}

export function offerFromLink(link: PairLink): PairOffer {
  return { hostKey: link.hostKey, offerId: link.offerId, secret: link.secret };
}

/** A typed code plus the host key fetched with `fetchHostKey`; throws OfferError when they do not match. */
export function offerFromCode(code: TypedCode, hostKey: Uint8Array): PairOffer {
  checkCodeHostKey(code, hostKey);
  return { hostKey, offerId: code.offerId, secret: codeSecretBytes(code.secret) };
}

export type Welcome = Extract<HostMessage, { t: 'welcome' }>;
export type { RequestBody, ResultOf };
export { RelayClosedError, RequestError };

export interface RelayChannel {
  readonly welcome: Welcome;
  /** Resolves with the answer, read by the request's own result parser (shared/protocol/requests.ts). */
  request<T extends RequestType>(request: RequestBody<T>): Promise<ResultOf<T>>;
  close(code?: number, reason?: string): void;
  /** Settles when the connection ends, with how it ended. */
  readonly closed: Promise<RelayClosedError>;
}

export interface ChannelHandlers {
  /**
   * A relayed event; remember `seq` (with `welcome.epoch`) to resume after a reconnect. `event` is
   * undefined for one this side cannot read (a newer host's type, or malformed): skip it, count its seq.
   */
  onEvent?: (seq: number, event: RelayRuntimeEvent | undefined) => void;
  onRuntime?: (runtime: RuntimeStatus) => void;
  /**
   * The host could not replay what the device missed (welcome `resumed: false`): reload the
   * sessions it names (all when it names none) and show only its pending permission requests.
   * It may arrive before `connect()`/`approved` resolves; events after it continue from `seq`.
   */
  onResync?: (resync: Resync) => void;
}

interface Common extends ChannelHandlers {
  /** An open or opening socket to the relay URL (see `relaySocketUrl`), or the URL itself. */
  socket: SocketLike | string;
  deviceKey: KeyPair;
  name: string;
  platform: string;
}

export interface PairOptions extends Common {
  offer: PairOffer;
}

export interface PairPending {
  /** The 6-digit code this device computed; the host shows its own, and they must match. */
  code: string;
  /** Resolves once the person at the host approved and the host welcomed the device. */
  approved: Promise<RelayChannel & { deviceId: string }>;
}

export interface ConnectOptions extends Common {
  hostKey: Uint8Array;
  /** The last event seq applied, and the epoch of the welcome it belongs to. */
  after?: number;
  epoch?: string;
}

export function generateDeviceKey(): KeyPair {
  return generateKeyPair();
}

/** Asks the host for its public key in the clear (mode 0x03), for typed codes only. */
export async function fetchHostKey(socketOrUrl: SocketLike | string): Promise<Uint8Array> {
  const socket = await opened(socketOrUrl);
  return new Promise((resolve, reject) => {
    socket.onmessage = (e) => {
      const bytes = toBytes(e.data);
      socket.close();
      if (bytes && bytes.length === 32) resolve(bytes);
      else reject(new RelayClosedError('protocol.invalid', 1000, 'the host answered the key request with something other than a key'));
    };
    socket.onclose = (e) => reject(closedError(e));
    socket.send(Uint8Array.of(MODE.hostKey));
  });
}

/** What this client speaks, said in every hello: the protocol, batched frames, compact deltas. */
const SPEAKS = { protocol: PROTOCOL_VERSION, batch: true, compactDeltas: true } as const;

export async function pair(opts: PairOptions): Promise<PairPending> {
  const psk = pairingPsk(opts.offer.secret);
  const hs = deviceHandshake(MODE.pair, opts.deviceKey, opts.offer.hostKey, psk);
  const hello: DeviceHello = { offer: opts.offer.offerId, name: opts.name, platform: opts.platform, ...SPEAKS };
  const session = await start(opts, MODE.pair, hs, hello);
  return new Promise<PairPending>((resolve, reject) => {
    let deviceId: string | undefined;
    let resolveApproved!: (c: RelayChannel & { deviceId: string }) => void;
    let rejectApproved!: (e: Error) => void;
    const approved = new Promise<RelayChannel & { deviceId: string }>((res, rej) => {
      resolveApproved = res;
      rejectApproved = rej;
    });
    approved.catch(() => {}); // the caller may look at it only after the code is shown
    let codeShown = false;
    session.setPreWelcome((m) => {
      if (m.t === 'pair.pending') {
        if (m.code !== session.code) return session.fail('protocol.invalid', 'the host reported another verification code');
        codeShown = true;
        resolve({ code: session.code, approved });
      } else if (m.t === 'pair.approved' && codeShown) {
        deviceId = m.deviceId;
      } else {
        session.fail('protocol.invalid', `unexpected ${m.t} before approval`);
      }
    });
    session.welcomed.then(
      (channel) => {
        if (deviceId === undefined || deviceId !== channel.welcome.deviceId) return session.fail('protocol.invalid', 'welcome without pair.approved');
        resolveApproved(Object.assign(channel, { deviceId }));
      },
      (err: Error) => (codeShown ? rejectApproved(err) : reject(err)),
    );
    // The key confirmation the host waits for before it asks the person (docs/protocol.md, "Approval").
    session.ping();
  });
}

export async function connect(opts: ConnectOptions): Promise<RelayChannel> {
  const hs = deviceHandshake(MODE.reconnect, opts.deviceKey, opts.hostKey);
  const hello: DeviceHello = {
    name: opts.name,
    platform: opts.platform,
    ...SPEAKS,
    ...(opts.after !== undefined ? { after: opts.after } : {}),
    ...(opts.epoch !== undefined ? { epoch: opts.epoch } : {}),
  };
  const session = await start(opts, MODE.reconnect, hs, hello);
  session.setPreWelcome((m) => session.fail('protocol.invalid', `unexpected ${m.t} before welcome`));
  return session.welcomed;
}

interface Session {
  code: string;
  welcomed: Promise<RelayChannel>;
  setPreWelcome(handler: (m: HostMessage) => void): void;
  fail(code: CloseErrorCode, text: string): void;
  ping(): void;
}

async function start(opts: Common, mode: number, hs: HandshakeState, hello: DeviceHello): Promise<Session> {
  const opening = opened(opts.socket);
  // Message 1 does not depend on the socket: its X25519 work (milliseconds in a page) overlaps
  // the connection's set-up instead of following it.
  let first: Uint8Array;
  try {
    first = concatBytes(Uint8Array.of(mode), hs.writeMessage(encodeMessage(hello)));
  } catch (err) {
    void opening.then(
      (s) => s.close(),
      () => {},
    );
    throw err;
  }
  const socket = await opening;
  const requestPrefix = toHex(randomBytes(4));
  let nextId = 0;
  const pending = new Map<string, { t: RequestType; resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  let transport: Transport | undefined;
  let welcome: Welcome | undefined;
  // `ws` may deliver message 2 and the next frames in one go, before pair()/connect() installed
  // their handler: keep those until it is.
  const early: HostMessage[] = [];
  let preWelcome: (m: HostMessage) => void = (m) => early.push(m);
  let ended: RelayClosedError | undefined;
  let resolveClosed!: (e: RelayClosedError) => void;
  const closed = new Promise<RelayClosedError>((r) => (resolveClosed = r));

  let resolveWelcome!: (c: RelayChannel) => void;
  let rejectWelcome!: (e: Error) => void;
  const welcomed = new Promise<RelayChannel>((res, rej) => {
    resolveWelcome = res;
    rejectWelcome = rej;
  });
  welcomed.catch(() => {});
  let resolveHandshake!: () => void;
  const handshook = new Promise<void>((res) => (resolveHandshake = res));

  const end = (error: RelayClosedError) => {
    if (ended) return;
    ended = error;
    transport?.close();
    for (const p of pending.values()) p.reject(error);
    pending.clear();
    rejectWelcome(error);
    resolveClosed(error);
    socket.onmessage = socket.onclose = socket.onerror = null;
  };

  const fail = (code: CloseErrorCode, text: string) => {
    const { code: closeCode, reason } = closeFor(code, text);
    if (socket.readyState === OPEN || socket.readyState === CONNECTING) socket.close(closeCode, reason);
    end(new RelayClosedError(code, closeCode, reason));
  };

  const sendMessage = (m: Request) => {
    if (ended || !transport) throw ended ?? new Error('the channel is not open yet');
    for (const frame of transport.seal(encodeMessage(m))) socket.send(frame);
  };

  const channel: RelayChannel = {
    get welcome() {
      return welcome!;
    },
    request<T extends RequestType>(body: RequestBody<T>): Promise<ResultOf<T>> {
      const id = `${requestPrefix}-${++nextId}`;
      return new Promise<ResultOf<T>>((resolve, reject) => {
        if (ended) return reject(ended);
        pending.set(id, { t: body.t, resolve: (v) => resolve(v as ResultOf<T>), reject });
        sendMessage({ ...body, id } as Request);
      });
    },
    close(code = 1000, reason = '') {
      if (socket.readyState === OPEN || socket.readyState === CONNECTING) socket.close(code, reason);
      end(new RelayClosedError(undefined, code, reason));
    },
    closed,
  };

  const onHostMessage = (m: HostMessage) => {
    switch (m.t) {
      case 'result': {
        const p = pending.get(m.id);
        if (!p) return; // e.g. the answer to the pairing key-confirmation ping
        pending.delete(m.id);
        if (!m.ok) return p.reject(new RequestError(m.error.code, m.error.message, m.error.expiry));
        try {
          p.resolve(readResult(p.t, m.data));
        } catch (err) {
          // One unreadable answer fails its request, not the connection.
          p.reject(err instanceof Error ? err : new Error(String(err)));
        }
        return;
      }
      case 'event':
        if (welcome) opts.onEvent?.(m.seq, m.event);
        return;
      case 'runtime':
        if (welcome) opts.onRuntime?.(m.runtime);
        return;
      case 'resync':
        if (!welcome) return fail('protocol.invalid', 'a resync before the welcome');
        opts.onResync?.(m);
        return;
      case 'welcome':
        if (welcome) return fail('protocol.invalid', 'a second welcome');
        welcome = m;
        return resolveWelcome(channel);
      default:
        if (welcome) return fail('protocol.invalid', `unexpected ${m.t} after welcome`);
        preWelcome(m);
    }
  };

  // The hello said `compactDeltas`: put back the ids a delta left out (docs/protocol.md, "Compact deltas").
  const expandDeltas = createDeltaExpander();
  let code = '';
  socket.onmessage = (e) => {
    if (ended) return;
    const bytes = toBytes(e.data);
    if (!bytes) return fail('protocol.invalid', 'text messages are not part of this protocol');
    if (!transport) {
      try {
        hs.readMessage(bytes);
      } catch (err) {
        return fail(
          'handshake.failed',
          err instanceof ChannelError && err.code === 'handshake.auth'
            ? 'the host could not prove it holds this offer or key (wrong code, or someone in between)'
            : 'the host sent a malformed handshake',
        );
      }
      const result = hs.result();
      code = verificationCode(result.handshakeHash);
      transport = createTransport(result);
      return resolveHandshake();
    }
    let plaintext: Uint8Array | null;
    try {
      plaintext = transport.open(bytes);
    } catch (err) {
      return fail(err instanceof ChannelError && err.code === 'frame.auth' ? 'frame.auth' : 'frame.size', err instanceof Error ? err.message : String(err));
    }
    if (plaintext === null) return;
    // The hello said `batch`: a frame may carry several messages (docs/protocol.md, "Batched frames").
    for (const part of splitMessages(plaintext)) {
      let message: HostMessage;
      try {
        message = parseHostMessage(expandDeltas(decodeJson(part, 'message')));
      } catch (err) {
        return fail('protocol.invalid', err instanceof Error ? err.message : String(err));
      }
      onHostMessage(message);
      if (ended) return;
    }
  };
  socket.onclose = (e) => end(closedError(e));
  socket.onerror = () => {}; // a close event follows and carries what we can know

  socket.send(first);
  await Promise.race([handshook, closed.then((e) => Promise.reject(e))]);
  return {
    code,
    welcomed,
    setPreWelcome(handler) {
      preWelcome = handler;
      for (const m of early.splice(0)) if (!ended) handler(m);
    },
    fail,
    ping: () => sendMessage({ t: 'ping', id: `${requestPrefix}-0`, at: Date.now() }),
  };
}

function closedError(e: { code?: number; reason?: unknown }): RelayClosedError {
  const reason = typeof e.reason === 'string' ? e.reason : e.reason instanceof Uint8Array ? new TextDecoder().decode(e.reason) : '';
  return new RelayClosedError(closeErrorCode(reason), e.code ?? 1006, reason);
}

function toBytes(data: unknown): Uint8Array | undefined {
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  if (data instanceof Uint8Array) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return undefined;
}

function opened(socketOrUrl: SocketLike | string): Promise<SocketLike> {
  const socket = typeof socketOrUrl === 'string' ? newWebSocket(socketOrUrl) : socketOrUrl;
  socket.binaryType = 'arraybuffer';
  if (socket.readyState === OPEN) return Promise.resolve(socket);
  return new Promise((resolve, reject) => {
    socket.onopen = () => resolve(socket);
    socket.onclose = (e) => reject(closedError(e));
    socket.onerror = () => {};
  });
}

function newWebSocket(url: string): SocketLike {
  const Ctor = (globalThis as { WebSocket?: new (url: string) => SocketLike }).WebSocket;
  if (!Ctor) throw new TypeError('socket: this runtime has no global WebSocket; pass an open socket (e.g. from the ws package)');
  return new Ctor(url);
}
