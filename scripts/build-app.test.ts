import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runSummarised } from './build-app.mjs';

const noisy = (status: number) => `for (let i = 0; i < 50; i++) console.log('vite line ' + i); console.error('an error line'); process.exit(${status});`;

test('a build step that works is one line; one that fails shows everything it said', () => {
  let said = '';
  const write = (t: string) => (said += t);
  assert.equal(runSummarised('Building the phone app (dist/)', process.execPath, ['-e', noisy(0)], { write }), 0);
  assert.match(said, /^Building the phone app \(dist\/\)… done in \d+\.\d s\.\n$/);

  said = '';
  assert.equal(runSummarised('Building the phone app (dist/)', process.execPath, ['-e', noisy(3)], { write }), 3);
  assert.match(said, /^Building the phone app \(dist\/\)… failed:\nvite line 0\n[\s\S]*vite line 49\nan error line\n$/);
});
