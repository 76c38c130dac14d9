/**
 * What each computer last offered the composer (agents, models, variants, commands, which models
 * read images), per directory since a workspace's own config and command folder change them: a
 * page opened offline offers the same choices, commands and images warning as when last connected.
 * @module
 */
import { parseComposerOptions, type ComposerOptions } from '../../shared/protocol/composer.ts';
import type { RelayDatabase } from './db.ts';

export async function loadComposerOptions(db: RelayDatabase, hostId: string, directory: string): Promise<ComposerOptions | undefined> {
  const record = await db.get('composerOptions', [hostId, directory]);
  if (!record) return undefined;
  try {
    return parseComposerOptions(record.options, 'composerOptions');
  } catch {
    return undefined; // written by another version: asked for again once connected
  }
}

export async function saveComposerOptions(db: RelayDatabase, hostId: string, directory: string, options: ComposerOptions): Promise<void> {
  await db.put('composerOptions', { hostId, directory, options });
}
