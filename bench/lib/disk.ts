/**
 * Bytes a directory's files take, for figures of what the host keeps on disk.
 * @module
 */
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

export function directorySize(dir: string): number {
  let total = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) total += directorySize(path);
    else if (entry.isFile()) total += statSync(path).size;
  }
  return total;
}
