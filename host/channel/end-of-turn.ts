/**
 * Runs work once, at the end of this turn of the event loop: every connection that has messages
 * waiting sends them there, in one pass over the connections (docs/protocol.md, "Batched frames").
 * setImmediate rather than a microtask: the runtime's events reach the hub one `await` apart
 * (its SSE stream is an async iterator), so a microtask would run between two events of the same
 * chunk; setImmediate runs after all I/O callbacks of this turn, without waiting for a timer.
 * @module
 */

export type EndOfTurn = (work: () => void) => void;

/** `schedule(work)` runs `work` once at the end of this turn, in the order first scheduled; `work` must not throw. */
export function createEndOfTurn(): EndOfTurn {
  let waiting = new Set<() => void>();
  const runAll = () => {
    const now = waiting;
    waiting = new Set();
    for (const work of now) work();
  };
  return (work) => {
    if (waiting.size === 0) setImmediate(runAll);
    waiting.add(work);
  };
}
