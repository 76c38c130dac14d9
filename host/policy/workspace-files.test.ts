import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RelayError } from '../../shared/protocol/errors.ts';
import { readWorkspaceFile } from './workspace-files.ts';

/** Two workspaces (a, b) and a directory beside them (outside) holding a secret. */
function tree(t: { after(fn: () => void): void }) {
  const root = realpathSync(mkdtempSync(join(tmpdir(), 'workspace-files-')));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const a = join(root, 'a');
  const b = join(root, 'b');
  const outside = join(root, 'outside');
  for (const dir of [a, join(a, 'src'), b, outside]) mkdirSync(dir);
  writeFileSync(join(a, 'src', 'main.ts'), 'export const x = 1;\n');
  writeFileSync(join(b, 'notes.md'), '# notes\n');
  writeFileSync(join(outside, 'secret'), 'secret\n');
  return { root, a, b, outside };
}

async function refused(read: Promise<unknown>, code: string, message: RegExp) {
  await assert.rejects(read, (err: unknown) => {
    assert.ok(err instanceof RelayError, String(err));
    assert.equal(err.code, code);
    assert.match(err.message, message);
    return true;
  });
}

test('a file inside a workspace is read by relative or absolute path, from the first workspace or the one named', async (t) => {
  const { a, b } = tree(t);
  assert.deepEqual(await readWorkspaceFile('src/main.ts', { workspaces: [a, b] }), { path: join(a, 'src', 'main.ts'), content: 'export const x = 1;\n', size: 20 });
  assert.equal((await readWorkspaceFile(join(b, 'notes.md'), { workspaces: [a, b] })).content, '# notes\n');
  assert.equal((await readWorkspaceFile('notes.md', { workspaces: [a, b], base: b })).content, '# notes\n');
});

test('".." is refused, even when it would land inside the workspace', async (t) => {
  const { a, b } = tree(t);
  await refused(readWorkspaceFile('../outside/secret', { workspaces: [a] }), 'file.refused', /may not contain "\.\."/);
  await refused(readWorkspaceFile('src/../src/main.ts', { workspaces: [a] }), 'file.refused', /may not contain "\.\."/);
  await refused(readWorkspaceFile(`${a}/../b/notes.md`, { workspaces: [a, b] }), 'file.refused', /may not contain "\.\."/);
  await refused(readWorkspaceFile('src\\..\\..\\outside\\secret', { workspaces: [a] }), 'file.refused', /may not contain "\.\."/);
});

test("an absolute path outside the device's workspaces is refused, also a workspace of the host the device may not use", async (t) => {
  const { a, b, outside } = tree(t);
  await refused(readWorkspaceFile(join(outside, 'secret'), { workspaces: [a] }), 'file.refused', /outside this device's workspaces/);
  await refused(readWorkspaceFile('/etc/passwd', { workspaces: [a] }), 'file.refused', /outside this device's workspaces/);
  await refused(readWorkspaceFile(join(b, 'notes.md'), { workspaces: [a] }), 'file.refused', /outside this device's workspaces/);
  // A sibling whose name starts like the workspace's is not inside it.
  mkdirSync(`${a}-other`);
  writeFileSync(join(`${a}-other`, 'x'), 'x');
  await refused(readWorkspaceFile(join(`${a}-other`, 'x'), { workspaces: [a] }), 'file.refused', /outside/);
  await refused(readWorkspaceFile('notes.md', { workspaces: [a], base: b }), 'file.refused', /not one of this device's workspaces/);
  await refused(readWorkspaceFile('notes.md', { workspaces: [] }), 'file.refused', /no workspace/);
});

test('a symbolic link that leads outside is refused, a file link or a directory link; one that stays inside is followed', async (t) => {
  const { a, outside } = tree(t);
  symlinkSync(join(outside, 'secret'), join(a, 'link-to-secret'));
  symlinkSync(outside, join(a, 'link-to-dir'));
  symlinkSync(join(a, 'src', 'main.ts'), join(a, 'inner-link'));
  await refused(readWorkspaceFile('link-to-secret', { workspaces: [a] }), 'file.refused', /symbolic link .*leads outside/);
  await refused(readWorkspaceFile('link-to-dir/secret', { workspaces: [a] }), 'file.refused', /symbolic link .*leads outside/);
  // Nor does it tell what exists there.
  await refused(readWorkspaceFile('link-to-dir/missing', { workspaces: [a] }), 'file.refused', /symbolic link .*leads outside/);
  await refused(readWorkspaceFile('link-to-dir/no/such/dir', { workspaces: [a] }), 'file.refused', /symbolic link .*leads outside/);
  await refused(readWorkspaceFile('no/such/dir', { workspaces: [a] }), 'request.unknown', /no such file/);
  const inner = await readWorkspaceFile('inner-link', { workspaces: [a] });
  assert.equal(inner.path, join(a, 'src', 'main.ts'));
});

test('a file over the size limit, a directory, a binary file and a missing file are refused, each saying why', async (t) => {
  const { a } = tree(t);
  writeFileSync(join(a, 'big.txt'), 'x'.repeat(1025));
  writeFileSync(join(a, 'image.png'), Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 1, 2]));
  await refused(readWorkspaceFile('big.txt', { workspaces: [a], maxBytes: 1024 }), 'file.refused', /1025 bytes; the host shows files up to 1024 bytes/);
  assert.equal((await readWorkspaceFile('big.txt', { workspaces: [a], maxBytes: 1025 })).size, 1025);
  await refused(readWorkspaceFile('src', { workspaces: [a] }), 'file.refused', /not a regular file/);
  await refused(readWorkspaceFile('image.png', { workspaces: [a] }), 'file.refused', /not a text file/);
  await refused(readWorkspaceFile('nope.txt', { workspaces: [a] }), 'request.unknown', /no such file/);
});

test('the default limit is 1 MB', async (t) => {
  const { a } = tree(t);
  writeFileSync(join(a, 'big.txt'), 'x'.repeat(1024 * 1024 + 1));
  await refused(readWorkspaceFile('big.txt', { workspaces: [a] }), 'file.refused', /1048577 bytes; the host shows files up to 1048576 bytes/);
});
