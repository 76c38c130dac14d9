/**
 * `npm run typecheck` (also the first step of `npm test`): checks every runtime's tsconfig, each
 * with only its own platform's types (see tsconfig.json). Exits non-zero, naming the projects with
 * errors, when any has one.
 */
import { spawn } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(fileURLToPath(import.meta.url), '..', '..');

/** Every tsconfig in the project; a new one must be added here to be checked. */
export const PROJECTS = [
  'host/tsconfig.json',
  'host/admin/page/tsconfig.json',
  'e2e/tsconfig.json',
  'test-support/tsconfig.json',
  'bench/tsconfig.json',
  'client/tsconfig.json',
  'client/tsconfig.test.json',
  'client/sw/tsconfig.json',
  'shared/tsconfig.json',
  'shared/tsconfig.test.json',
  'scripts/tsconfig.json',
];

/** One project's check; resolves with tsc's output when it has errors, else with ''. */
function check(project) {
  const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  // Incremental state in build/tsc/ (gitignored): a re-check after a small change is much quicker.
  const info = join(root, 'build', 'tsc', `${project.replace(/\.json$/, '').replaceAll('/', '-')}.tsbuildinfo`);
  const child = spawn(process.execPath, [tsc, '-p', project, '--incremental', '--tsBuildInfoFile', info], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk) => (output += chunk));
  child.stderr.on('data', (chunk) => (output += chunk));
  return new Promise((resolve) => child.on('close', (code) => resolve(code === 0 ? '' : output || `tsc exited with ${code}\n`)));
}

/** Checks every project, two at a time (tsc is single-threaded); returns the ones with errors. */
export async function typecheck() {
  const outputs = new Map();
  const queue = [...PROJECTS];
  const worker = async () => {
    for (let project = queue.shift(); project; project = queue.shift()) outputs.set(project, await check(project));
  };
  await Promise.all(Array.from({ length: Math.min(2, availableParallelism()) }, worker));
  const failed = PROJECTS.filter((project) => outputs.get(project));
  for (const project of failed) process.stdout.write(`\n${project}:\n${outputs.get(project)}`);
  return failed;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const failed = await typecheck();
  if (failed.length) {
    process.stderr.write(`\nType errors (above) in ${failed.join(', ')}.\n`);
    process.exit(1);
  }
}
