import { afterEach, beforeEach, mock, test } from 'node:test';
import assert from 'node:assert/strict';
import { beforeNextPaint, beforeQuietPaint, INPUT_FRAME_MS } from './frame.ts';

const g = globalThis as {
  requestAnimationFrame?: (cb: () => void) => number;
  cancelAnimationFrame?: (id: number) => void;
  addEventListener?: (type: string, fn: () => void) => void;
};
let frames: Map<number, () => void>;
/** The page's input listeners (frame.ts adds its own once, the first time it is used). */
const listeners = new Map<string, Array<() => void>>();
let clock = 1000;

beforeEach(() => {
  mock.timers.enable({ apis: ['setTimeout'] });
  frames = new Map();
  let next = 0;
  g.requestAnimationFrame = (cb) => (frames.set(++next, cb), next);
  g.cancelAnimationFrame = (id) => void frames.delete(id);
  g.addEventListener = (type, fn) => listeners.set(type, [...(listeners.get(type) ?? []), fn]);
  mock.method(performance, 'now', () => clock);
});

afterEach(() => {
  mock.timers.reset();
  delete g.requestAnimationFrame;
  delete g.cancelAnimationFrame;
  delete g.addEventListener;
  mock.restoreAll();
});

const paint = () => {
  const due = [...frames.values()];
  frames.clear();
  for (const cb of due) cb();
};

test('runs before the next paint, once: the stand-in timer does not run it again', () => {
  let runs = 0;
  beforeNextPaint(() => runs++);
  assert.equal(runs, 0);
  paint();
  assert.equal(runs, 1);
  mock.timers.tick(1000);
  assert.equal(runs, 1);
});

test('a hidden page paints no frames: the timer runs it, and a later frame does not run it again', () => {
  let runs = 0;
  beforeNextPaint(() => runs++);
  mock.timers.tick(99);
  assert.equal(runs, 0);
  mock.timers.tick(1);
  assert.equal(runs, 1);
  paint();
  assert.equal(runs, 1);
});

test('without requestAnimationFrame (Node, workers) a timer runs it', () => {
  delete g.requestAnimationFrame;
  let runs = 0;
  beforeNextPaint(() => runs++);
  assert.equal(runs, 0);
  mock.timers.tick(0);
  assert.equal(runs, 1);
});

const press = (type = 'keydown') => {
  for (const fn of listeners.get(type) ?? []) fn();
};

test('streamed text waits one frame after a key press, so the frame that shows the key holds nothing else', () => {
  let runs = 0;
  beforeQuietPaint(() => runs++);
  clock += 5;
  press();
  clock += 5;
  paint();
  assert.equal(runs, 0, 'the key was pressed in this frame');
  clock += 16;
  press('input');
  paint();
  assert.equal(runs, 1, 'put off once only: typing does not hold the text back for good');
  mock.timers.tick(1000);
  assert.equal(runs, 1);
});

test('without a key press or touch in the frame, streamed text shows before the next paint', () => {
  let runs = 0;
  press('pointerdown');
  clock += INPUT_FRAME_MS;
  beforeQuietPaint(() => runs++);
  paint();
  assert.equal(runs, 1);
});
