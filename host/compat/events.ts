/**
 * The runtime's server-sent events as a stock client gets them through the layer: split into
 * frames, and each frame let through only when the credential may see it — a permission or
 * question request only with `approve` (as phones get it, host/policy/event-access.ts), and on
 * `/global/event`, which carries every workspace's events, only those of its workspaces.
 * `/event` itself is asked of one workspace the credential may use (host/compat/layer.ts).
 * @module
 */
import type { Device } from '../devices/store.ts';

/** Splits a text stream into SSE frames (the text between blank lines). */
export function sseFrames(): (chunk: string) => string[] {
  let buffered = '';
  return (chunk) => {
    buffered += chunk.replace(/\r\n/g, '\n');
    const parts = buffered.split('\n\n');
    buffered = parts.pop()!;
    return parts.filter((p) => p.length > 0);
  };
}

const ASKS = new Set(['permission.asked', 'permission.updated', 'question.asked']);

interface Parsed {
  type?: unknown;
  directory?: unknown;
  payload?: { type?: unknown };
}

/**
 * Whether `frame` may go to `device`. `inWorkspaces(dir)` says whether a directory is one the
 * device may use. A frame that is not one JSON event (a comment, a retry line) goes through.
 */
export function frameAllowed(frame: string, device: Pick<Device, 'scopes'>, inWorkspaces: (directory: string) => boolean): boolean {
  const data = frame
    .split('\n')
    .filter((l) => l.startsWith('data:'))
    .map((l) => l.slice(5).trimStart())
    .join('\n');
  if (!data) return true;
  let event: Parsed;
  try {
    event = JSON.parse(data) as Parsed;
  } catch {
    return false;
  }
  if (typeof event !== 'object' || event === null) return false;
  if (typeof event.directory === 'string' && !inWorkspaces(event.directory)) return false;
  const type = typeof event.type === 'string' ? event.type : event.payload?.type;
  if (typeof type === 'string' && ASKS.has(type) && !device.scopes.includes('approve')) return false;
  return true;
}

/** The session an event frame is about and its type, for the layer's own bookkeeping. */
export function frameSummary(frame: string): { type: string; sessionId?: string } | undefined {
  const line = frame.split('\n').find((l) => l.startsWith('data:'));
  if (!line) return undefined;
  try {
    const e = JSON.parse(line.slice(5)) as { type?: unknown; properties?: { sessionID?: unknown }; payload?: { type?: unknown; properties?: { sessionID?: unknown } } };
    const body = typeof e.type === 'string' ? e : e.payload;
    if (!body || typeof body.type !== 'string') return undefined;
    const sessionId = body.properties?.sessionID;
    return { type: body.type, ...(typeof sessionId === 'string' ? { sessionId } : {}) };
  } catch {
    return undefined;
  }
}
