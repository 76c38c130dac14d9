/**
 * A process's resident memory by what is mapped there (Linux /proc/<pid>/smaps): the node binary
 * (its code, built-in modules and ICU data, paged in from the file as they are used), native
 * addons, shared libraries, and anonymous memory (the JS heap, malloc, WebAssembly code).
 * @module
 */
import { readFileSync, readlinkSync } from 'node:fs';

export type MappingKind = 'node binary' | 'native addons (.node)' | 'shared libraries' | 'anonymous (JS heap, malloc, WebAssembly, stacks)';

/** Resident bytes by kind of mapping, or undefined where /proc/<pid>/smaps cannot be read (not Linux). */
export function residentByMapping(pid: number): Map<MappingKind, number> | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/smaps`, 'utf8');
  } catch {
    return undefined;
  }
  const binary = readlinkSync(`/proc/${pid}/exe`);
  const resident = new Map<MappingKind, number>();
  let kind: MappingKind = 'anonymous (JS heap, malloc, WebAssembly, stacks)';
  for (const line of text.split('\n')) {
    const mapping = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (mapping) {
      const path = mapping[1]!;
      kind = !path.startsWith('/')
        ? 'anonymous (JS heap, malloc, WebAssembly, stacks)'
        : path.endsWith('.node')
          ? 'native addons (.node)'
          : path === binary
            ? 'node binary'
            : 'shared libraries';
      continue;
    }
    const rss = /^Rss:\s+(\d+) kB/.exec(line);
    if (rss) resident.set(kind, (resident.get(kind) ?? 0) + Number(rss[1]) * 1024);
  }
  return resident;
}
