import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSendQueue, type FrameSocket } from './send-queue.ts';

/** A socket whose buffer the test fills and empties by hand. */
function fakeSocket(dropOver = Infinity) {
  const sent: number[] = [];
  let buffered = 0;
  let corked = 0;
  const socket: FrameSocket & { flush(): void; corkedSends: number } = {
    corkedSends: 0,
    send(frame) {
      if (corked === 0) throw new Error('send outside cork');
      socket.corkedSends++;
      if (buffered + frame.length > dropOver) return 2;
      sent.push(frame[0]!);
      buffered += frame.length;
      return 0;
    },
    getBufferedAmount: () => buffered,
    cork(cb) {
      corked++;
      try {
        cb();
      } finally {
        corked--;
      }
    },
    flush() {
      buffered = 0;
    },
  };
  return { socket, sent };
}

const frame = (tag: number, size = 10) => new Uint8Array(size).fill(tag);

test('sends corked while under the high-water mark, queues after, drains in order', () => {
  const { socket, sent } = fakeSocket();
  let overflowed = 0;
  const q = createSendQueue(socket, { highWater: 20, maxQueued: 100, onOverflow: () => overflowed++ });
  q.send(frame(1));
  q.send(frame(2));
  q.send(frame(3)); // buffer is at 20: waits
  q.send(frame(4));
  assert.deepEqual(sent, [1, 2]);
  assert.equal(q.queuedBytes, 20);
  socket.flush();
  q.drain();
  assert.deepEqual(sent, [1, 2, 3, 4]);
  assert.equal(q.queuedBytes, 0);
  q.send(frame(5)); // buffer at 20 again: waits even though the queue is empty
  socket.flush();
  q.send(frame(6)); // queue not empty: keeps order
  assert.deepEqual(sent, [1, 2, 3, 4]);
  q.drain();
  assert.deepEqual(sent, [1, 2, 3, 4, 5, 6]);
  assert.equal(overflowed, 0);
});

test('a reader that never drains is cut off once the queue is full, and never touched again', () => {
  const { socket, sent } = fakeSocket();
  let overflowed = 0;
  const q = createSendQueue(socket, { highWater: 10, maxQueued: 25, onOverflow: () => overflowed++ });
  for (let i = 1; i <= 5; i++) q.send(frame(i));
  assert.equal(overflowed, 1);
  assert.equal(q.closed, true);
  const calls = socket.corkedSends;
  q.send(frame(9));
  q.drain();
  assert.equal(socket.corkedSends, calls, 'no call on a closed socket');
  assert.deepEqual(sent, [1]);
});

test('a frame uWS dropped closes the queue: later frames would not decrypt', () => {
  const { socket } = fakeSocket(15);
  let overflowed = 0;
  const q = createSendQueue(socket, { highWater: 100, maxQueued: 100, onOverflow: () => overflowed++ });
  q.send(frame(1));
  q.send(frame(2)); // 20 > 15: dropped
  assert.equal(overflowed, 1);
  assert.equal(q.closed, true);
});

test('close drops what waits', () => {
  const { socket, sent } = fakeSocket();
  const q = createSendQueue(socket, { highWater: 10, maxQueued: 100, onOverflow: () => {} });
  q.send(frame(1));
  q.send(frame(2));
  q.close();
  socket.flush();
  q.drain();
  assert.deepEqual(sent, [1]);
  assert.equal(q.queuedBytes, 0);
});
