/** The host's version, from package.json (read once; the host ships with its package.json). */
import { readFileSync } from 'node:fs';

export const HOST_VERSION: string = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version;
