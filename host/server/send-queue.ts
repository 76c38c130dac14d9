/**
 * Flow control for one WebSocket: frames go to uWS while its buffer is below `highWater`; after
 * that they wait here, in order, and `drain` (uWS's drain event) moves them on. A device that
 * does not read at all fills the queue to `maxQueued` and is disconnected — it resumes from its
 * last event after reconnecting. Encrypted frames must never be dropped silently: one missing
 * frame breaks every later one (implicit nonces), so any loss closes the socket.
 * @module
 */

/** The part of a uWS WebSocket the queue uses. */
export interface FrameSocket {
  /** 1 sent, 0 buffered (will drain), 2 dropped (over maxBackpressure). */
  send(message: Uint8Array, isBinary: boolean): number;
  getBufferedAmount(): number;
  cork(cb: () => void): unknown;
}

export interface SendQueueOptions {
  highWater: number;
  maxQueued: number;
  /** Called once when the socket cannot keep up; the queue is closed by then. */
  onOverflow: () => void;
}

export interface SendQueue {
  send(frame: Uint8Array): void;
  /** Sends what waits, as far as the socket's buffer allows. */
  drain(): void;
  /** The socket is closed: drop everything and never touch it again. */
  close(): void;
  readonly closed: boolean;
  readonly queuedBytes: number;
}

const DROPPED = 2;

export function createSendQueue(socket: FrameSocket, opts: SendQueueOptions): SendQueue {
  const waiting: Uint8Array[] = [];
  let queuedBytes = 0;
  let closed = false;

  const close = () => {
    closed = true;
    waiting.length = 0;
    queuedBytes = 0;
  };

  const overflow = () => {
    if (closed) return;
    close();
    opts.onOverflow();
  };

  /** Hands one frame to uWS; false when that failed and the queue is closed. */
  const write = (frame: Uint8Array): boolean => {
    let status = 0;
    // Corked: sends made outside a uWS callback (runtime events, approvals) must be corked.
    socket.cork(() => {
      status = socket.send(frame, true);
    });
    // closeOnBackpressureLimit may have closed the socket inside send(); overflow() checks.
    if (status === DROPPED) overflow();
    return !closed;
  };

  return {
    send(frame) {
      if (closed) return;
      if (waiting.length === 0 && socket.getBufferedAmount() < opts.highWater) {
        write(frame);
        return;
      }
      if (queuedBytes + frame.length > opts.maxQueued) return overflow();
      waiting.push(frame);
      queuedBytes += frame.length;
    },
    drain() {
      socket.cork(() => {
        while (!closed && waiting.length > 0 && socket.getBufferedAmount() < opts.highWater) {
          const frame = waiting.shift()!;
          queuedBytes -= frame.length;
          if (!write(frame)) return;
        }
      });
    },
    close,
    get closed() {
      return closed;
    },
    get queuedBytes() {
      return queuedBytes;
    },
  };
}
