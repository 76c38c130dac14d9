import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { root } from './build-app.mjs';
import { buildHostBundle } from './build-host.mjs';

test('the host bundle is ASCII, so V8 keeps its source one byte per character', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'owr-host-bundle-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const outfile = join(dir, 'host.mjs');
  buildHostBundle(join(root, 'host', 'main.ts'), outfile);
  const text = readFileSync(outfile, 'utf8');
  const wide = text.match(/[\u0080-\uffff]/);
  assert.equal(wide, null, `a non-ASCII character at offset ${wide?.index}: ${text.slice((wide?.index ?? 0) - 40, (wide?.index ?? 0) + 40)}`);
  assert.doesNotMatch(text, /from "@noble\//, 'noble is left out of the host: it has node:crypto (host/crypto/)');
  assert.match(text, /\/\/# sourceMappingURL=host\.mjs\.map\n?$/);
  assert.ok(JSON.parse(readFileSync(`${outfile}.map`, 'utf8')).mappings, 'the source map is written beside it');
});
