/**
 * The project's own files, wherever the host runs from: this module sits one folder below the
 * project root both in the sources (host/paths.ts) and in the bundle (build/host.mjs), so one
 * relative URL serves both.
 * @module
 */
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

export const PROJECT_ROOT = fileURLToPath(new URL('..', import.meta.url));

/** A path inside the project, e.g. `projectPath('host', 'tls', 'pages')`. */
export function projectPath(...parts: string[]): string {
  return join(PROJECT_ROOT, ...parts);
}
