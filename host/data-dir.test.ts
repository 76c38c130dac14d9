import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from './log.ts';
import { ensurePrivateDataDir } from './data-dir.ts';

test('a new data directory is made 0700; an existing 0755 one is tightened to 0700, and the log says so', (t) => {
  const root = mkdtempSync(join(tmpdir(), 'owr-datadir-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const lines: string[] = [];
  const log = createLogger({ write: (l) => lines.push(l) });

  const fresh = join(root, 'fresh', 'nested');
  ensurePrivateDataDir(fresh, log);
  assert.equal(statSync(fresh).mode & 0o777, 0o700);
  assert.equal(lines.length, 0);

  const open = join(root, 'open');
  mkdirSync(open, { mode: 0o755 });
  assert.equal(statSync(open).mode & 0o777, 0o755);
  ensurePrivateDataDir(open, log);
  assert.equal(statSync(open).mode & 0o777, 0o700);
  assert.match(lines.join('\n'), /made it private.*was=755/);
});
