/**
 * Work that only matters for what is painted, run once before the next frame however often it
 * was asked for meanwhile: a reconnect replays a burst of streamed deltas, one WebSocket message
 * each, and rendering the text after every one of them costs more than receiving them.
 * @module
 */

/** Runs `show` later, once; the caller coalesces requests made before it runs. */
export type Schedule = (show: () => void) => void;

/**
 * A page that is hidden paints no frames and runs no animation-frame callbacks: this timer stands
 * in, so what a screen reader or a test reads does not stay behind for long.
 */
const HIDDEN_FALLBACK_MS = 100;

/** Before the next paint (requestAnimationFrame); a timer where there is none (Node, workers). */
export const beforeNextPaint: Schedule = (show) => {
  if (typeof requestAnimationFrame !== 'function') {
    setTimeout(show, 0);
    return;
  }
  let done = false;
  const once = () => {
    if (done) return;
    done = true;
    cancelAnimationFrame(frame);
    clearTimeout(timer);
    show();
  };
  const frame = requestAnimationFrame(once);
  const timer = setTimeout(once, HIDDEN_FALLBACK_MS);
};

/**
 * Just after the next paint (a task queued from the frame's callback runs once it is painted):
 * for work that would otherwise hold a frame the person waits for, such as storing megabytes.
 */
export const afterNextPaint: Schedule = (run) => beforeNextPaint(() => setTimeout(run, 0));
