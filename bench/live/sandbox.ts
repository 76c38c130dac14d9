/**
 * A real OpenCode runtime's sandbox (e2e/fixtures/runtime.ts: its own HOME and XDG folders,
 * offline flags) whose model is the stamping model, for the measurements that run live tasks.
 * @module
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createRuntimeSandbox, type RuntimeSandbox } from '../../e2e/fixtures/runtime.ts';
import type { BenchContext } from '../lib/context.ts';
import { killProcessesMarked } from '../lib/processes.ts';
import { startStampingModel, type StampingModel } from './stamping-model.ts';

export async function liveSandbox(ctx: BenchContext): Promise<{ sandbox: RuntimeSandbox; model: StampingModel }> {
  const model = await startStampingModel();
  ctx.defer(() => model.close());
  const sandbox = await createRuntimeSandbox();
  ctx.defer(() => sandbox.dispose());
  // A runtime whose host was killed outlives it; its environment names the sandbox.
  ctx.defer(() => killProcessesMarked(sandbox.root));
  // The sandbox points the runtime at its own fake model; point it at ours instead.
  const configPath = join(sandbox.workspace, 'opencode.json');
  const config = JSON.parse(await readFile(configPath, 'utf8')) as { provider: { fake: { options: { baseURL: string } } } };
  config.provider.fake.options.baseURL = model.baseURL;
  await writeFile(configPath, JSON.stringify(config, null, 2));
  return { sandbox, model };
}
