/** The host's version, from package.json (read once; the host ships with its package.json). */
import { readFileSync } from 'node:fs';
import { projectPath } from './paths.ts';

export const HOST_VERSION: string = JSON.parse(readFileSync(projectPath('package.json'), 'utf8')).version;
