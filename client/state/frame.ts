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

/** How recent a key press or touch must be for the frame that shows it to carry nothing else. */
export const INPUT_FRAME_MS = 32;
let lastInput = Number.NEGATIVE_INFINITY;
let watching = false;
const noteInput = () => {
  lastInput = performance.now();
};

/**
 * Before the next paint, unless the person just pressed a key or touched the screen: then before
 * the paint after it, once. The frame that shows their key then holds only what the key changed,
 * not the streamed text's rendering and layout too, so typing stays prompt while an answer streams
 * in (the text shows a frame later, which nobody sees).
 */
export const beforeQuietPaint: Schedule = (show) => {
  if (typeof requestAnimationFrame !== 'function' || typeof addEventListener !== 'function') {
    beforeNextPaint(show);
    return;
  }
  if (!watching) {
    watching = true;
    // Captured and passive: seen before any handler, and never delays one.
    for (const type of ['keydown', 'pointerdown', 'input']) addEventListener(type, noteInput, { capture: true, passive: true });
  }
  beforeNextPaint(() => {
    if (performance.now() - lastInput < INPUT_FRAME_MS) beforeNextPaint(show);
    else show();
  });
};

/**
 * Just after the next paint (a task queued from the frame's callback runs once it is painted):
 * for work that would otherwise hold a frame the person waits for, such as storing megabytes.
 */
export const afterNextPaint: Schedule = (run) => beforeNextPaint(() => setTimeout(run, 0));
