import { afterEach, beforeEach, mock, test } from 'node:test';
import assert from 'node:assert/strict';
import { beforeNextPaint } from './frame.ts';

const g = globalThis as { requestAnimationFrame?: (cb: () => void) => number; cancelAnimationFrame?: (id: number) => void };
let frames: Map<number, () => void>;

beforeEach(() => {
  mock.timers.enable({ apis: ['setTimeout'] });
  frames = new Map();
  let next = 0;
  g.requestAnimationFrame = (cb) => (frames.set(++next, cb), next);
  g.cancelAnimationFrame = (id) => void frames.delete(id);
});

afterEach(() => {
  mock.timers.reset();
  delete g.requestAnimationFrame;
  delete g.cancelAnimationFrame;
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
