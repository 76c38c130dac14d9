/**
 * A plain reader of the runtime's `/event` server-sent events, as a client that talks to the
 * runtime directly would read them: the floor the relay's latency is compared with.
 * @module
 */
import { authHeaders } from '../../host/runtime/health.ts';

export interface RawEvent {
  type: string;
  properties: Record<string, unknown>;
}

export interface EventReader {
  /** Resolves once the runtime said `server.connected`. */
  connected: Promise<void>;
  /** Bytes of the stream's body read so far, as the runtime sent them (server-sent events text). */
  bytes(): number;
  close(): void;
}

export function readRuntimeEvents(url: string, password: string | undefined, directory: string, onEvent: (event: RawEvent) => void): EventReader {
  const abort = new AbortController();
  let connected!: () => void;
  let failed!: (err: Error) => void;
  const ready = new Promise<void>((res, rej) => ((connected = res), (failed = rej)));
  ready.catch(() => {});
  let bytes = 0;
  const target = new URL('/event', url);
  target.searchParams.set('directory', directory);
  (async () => {
    const res = await fetch(target, { headers: { ...authHeaders(password), accept: 'text/event-stream' }, signal: abort.signal });
    if (!res.ok || !res.body) throw new Error(`GET /event answered HTTP ${res.status}`);
    const decoder = new TextDecoder();
    let buffered = '';
    const body = res.body.getReader();
    for (;;) {
      const { done, value } = await body.read();
      if (done) return;
      bytes += value.byteLength;
      buffered += decoder.decode(value, { stream: true });
      let end: number;
      while ((end = buffered.indexOf('\n\n')) >= 0) {
        const block = buffered.slice(0, end);
        buffered = buffered.slice(end + 2);
        const data = block
          .split('\n')
          .filter((l) => l.startsWith('data:'))
          .map((l) => l.slice(5).trimStart())
          .join('\n');
        if (!data) continue;
        const event = JSON.parse(data) as RawEvent;
        if (event.type === 'server.connected') connected();
        onEvent(event);
      }
    }
  })().catch((err: unknown) => {
    if (!abort.signal.aborted) failed(err instanceof Error ? err : new Error(String(err)));
  });
  return { connected: ready, bytes: () => bytes, close: () => abort.abort() };
}
