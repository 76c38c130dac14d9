export const root: string;
export function appIsStale(): boolean;
export function buildAppIfStale(opts?: { quiet?: boolean }): boolean;
export function newestMtime(path: string): number;
