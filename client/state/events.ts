/**
 * Checks the runtime events a host relays before anything renders them. The host built them with
 * `shared/protocol/runtime-events.ts`, but a phone may meet a newer or older host: an event of a
 * type we do not know, or with a field missing, is dropped rather than half-shown.
 * @module
 */
import type { RelayRuntimeEvent, RelayRuntimeEventType } from '../../shared/protocol/runtime-events.ts';

/** s: string, b: boolean, n: number, o: object, a: array of strings, l: array, ?: may be absent. */
type Spec = Record<string, 's' | 'b' | 'n' | 'o' | 'a' | 'l' | 's?' | 'n?'>;

const PART = { sessionId: 's', messageId: 's', partId: 's' } as const;
const SPECS: Record<RelayRuntimeEventType, Spec> = {
  'message.text.delta': { ...PART, delta: 's' },
  'message.reasoning.delta': { ...PART, delta: 's' },
  'message.text.updated': { ...PART, text: 's', done: 'b' },
  'message.reasoning.updated': { ...PART, text: 's', done: 'b' },
  'message.updated': { sessionId: 's', messageId: 's', role: 's', time: 'o' },
  'tool.updated': { ...PART, callId: 's', tool: 's', status: 's', input: 'o' },
  'file.edited': { sessionId: 's', path: 's', source: 's', diff: 's?' },
  'todo.updated': { sessionId: 's', items: 'l' },
  'session.status': { sessionId: 's', status: 's' },
  'session.idle': { sessionId: 's' },
  'session.error': { name: 's', message: 's', sessionId: 's?' },
  'session.updated': { sessionId: 's', title: 's', time: 'o' },
  'session.deleted': { sessionId: 's' },
  'permission.asked': { requestId: 's', sessionId: 's', permission: 's', patterns: 'a', always: 'a', metadata: 'o', deadline: 'n?' },
  'permission.replied': { requestId: 's', sessionId: 's', reply: 's', by: 's?' },
  // Questions are read by shared/protocol/questions.ts (sync.ts), not here.
  'question.asked': { requestId: 's', sessionId: 's', questions: 'l' },
  'question.replied': { requestId: 's', sessionId: 's', answers: 'l' },
  'question.rejected': { requestId: 's', sessionId: 's', by: 's?' },
  'runtime.reconnected': {},
};

const ENUMS: Partial<Record<string, readonly string[]>> = {
  role: ['user', 'assistant'],
  status: ['pending', 'running', 'completed', 'error', 'busy', 'idle', 'retry'],
};

function fits(value: unknown, kind: Spec[string]): boolean {
  switch (kind) {
    case 's':
      return typeof value === 'string';
    case 's?':
      return value === undefined || typeof value === 'string';
    case 'n?':
      return value === undefined || (typeof value === 'number' && Number.isFinite(value));
    case 'b':
      return typeof value === 'boolean';
    case 'n':
      return typeof value === 'number';
    case 'o':
      return typeof value === 'object' && value !== null && !Array.isArray(value);
    case 'a':
      return Array.isArray(value) && value.every((v) => typeof v === 'string');
    case 'l':
      return Array.isArray(value);
  }
}

/** The event, when it is one we know and its fields are there; undefined otherwise. */
export function toRelayEvent(raw: Record<string, unknown>): RelayRuntimeEvent | undefined {
  const type = raw.type;
  if (typeof type !== 'string' || !Object.hasOwn(SPECS, type)) return undefined;
  const spec = SPECS[type as RelayRuntimeEventType];
  for (const [key, kind] of Object.entries(spec)) {
    if (!fits(raw[key], kind)) return undefined;
    const allowed = ENUMS[key];
    if (allowed && kind === 's' && !allowed.includes(raw[key] as string)) return undefined;
  }
  if (type === 'todo.updated' && !(raw.items as unknown[]).every(isTodo)) return undefined;
  return raw as unknown as RelayRuntimeEvent;
}

export function isTodo(v: unknown): boolean {
  if (typeof v !== 'object' || v === null) return false;
  const t = v as Record<string, unknown>;
  return typeof t.content === 'string' && typeof t.status === 'string' && typeof t.priority === 'string';
}
