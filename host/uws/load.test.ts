import { test } from 'node:test';
import assert from 'node:assert/strict';
import { defaultCandidates, loadUws } from './load.ts';

test('loads the trufflesuite build on this machine (Node 20, glibc < 2.38)', () => {
  const { uws, build } = loadUws();
  assert.equal(build, '@trufflesuite/uws-js-unofficial');
  assert.equal(typeof uws.App, 'function');
  assert.equal(typeof uws.us_socket_local_port, 'function');
});

test('tries the build most likely to work for the running ABI first', () => {
  assert.deepEqual(
    defaultCandidates('115').map((c) => c.build),
    ['@trufflesuite/uws-js-unofficial', '@btc-vision/uwebsockets.js'],
  );
  assert.deepEqual(
    defaultCandidates('127').map((c) => c.build),
    ['@btc-vision/uwebsockets.js', '@trufflesuite/uws-js-unofficial'],
  );
});

test('the btc-vision build is refused here with its own GLIBC error', () => {
  const btc = defaultCandidates().filter((c) => c.build === '@btc-vision/uwebsockets.js');
  assert.throws(() => loadUws(btc), /@btc-vision\/uwebsockets\.js: .*GLIBC/);
});

test('when no build loads, the error names the supported combinations and every loader error', () => {
  const err = (() => {
    try {
      loadUws([
        {
          build: '@trufflesuite/uws-js-unofficial',
          load: () => {
            throw new Error('no binary for ABI 999');
          },
        },
        { build: '@btc-vision/uwebsockets.js', load: () => ({}) },
      ]);
    } catch (e) {
      return e as Error;
    }
    assert.fail('loadUws should have thrown');
  })();
  assert.match(err.message, /Node 20 on glibc Linux or macOS, via @trufflesuite\/uws-js-unofficial/);
  assert.match(err.message, /Node 20, 22, 24 or 25 on Linux with glibc 2\.38 or newer.*@btc-vision\/uwebsockets\.js/);
  assert.match(err.message, /- @trufflesuite\/uws-js-unofficial: no binary for ABI 999/);
  assert.match(err.message, /- @btc-vision\/uwebsockets\.js: the module has no App\(\) export/);
  assert.match(err.message, new RegExp(`ABI ${process.versions.modules}`));
});
