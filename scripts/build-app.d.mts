export const root: string;
export function appIsStale(): boolean;
export function buildAppIfStale(opts?: { quiet?: boolean }): boolean;
export function newestMtime(path: string): number;
export function runSummarised(label: string, command: string, args: string[], opts?: { cwd?: string; write?: (text: string) => unknown }): number;
