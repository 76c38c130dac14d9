import type { BuildOptions } from 'esbuild';
export const HOST_BUNDLE: string;
export const HOST_BUILD_OPTIONS: BuildOptions;
export function buildHostBundle(entry: string, outfile: string): void;
export function buildHostIfStale(): boolean;
