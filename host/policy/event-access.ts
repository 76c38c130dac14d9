/**
 * Which events a device receives, by its scopes and workspaces as they are at that moment (the
 * device file may have changed since it connected). Events carry what a session shows — text,
 * tool output, diffs — so they need `read`, like `session.messages`. A permission request, like
 * the agent's question, goes only to devices that may answer it (`approve`), and its outcome to those that could see it
 * asked or see its session. Events about no session in particular go to every device. On top of
 * that a device limited to some workspaces gets nothing about sessions elsewhere
 * (host/policy/workspaces.ts).
 * @module
 */
import type { EventView } from '../events/hub.ts';
import type { Device } from '../devices/store.ts';
import type { WorkspaceGate } from './workspaces.ts';

const OUTCOMES = new Set(['permission.replied', 'permission.expired', 'question.replied', 'question.rejected', 'question.expired']);

export function mayReceive(event: EventView, device: Pick<Device, 'scopes' | 'workspaces'>, gate: Pick<WorkspaceGate, 'allowsEvent'>): boolean {
  const has = (scope: Device['scopes'][number]) => device.scopes.includes(scope);
  if (event.type === 'permission.asked' || event.type === 'question.asked') {
    if (!has('approve')) return false;
  } else if (OUTCOMES.has(event.type as string)) {
    if (!has('approve') && !has('read')) return false;
  } else if (typeof event.sessionId === 'string' && !has('read')) return false;
  return gate.allowsEvent(event, device);
}
