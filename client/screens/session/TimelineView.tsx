import { createEffect, createMemo, createSignal, For, Match, on, onCleanup, onMount, Show, Switch, type JSX } from 'solid-js';
import { afterNextPaint } from '../../state/frame.ts';
import type { FileItem, TimelineItem } from '../../state/timeline.ts';
import { Button } from '../../ui/Button.tsx';
import { FilePart, NoticePart, TextPart, ToolPart } from './parts.tsx';

/** At most this many parts are in the DOM, however long the session. */
export const WINDOW = 150;
/** Parts shown when a session opens, and added per "Show earlier" / "Show newer". */
const INITIAL = 60;
const STEP = 50;
/** How far (px) beyond the screen the window reaches: parts enter the DOM before they scroll into view. */
const MARGIN = 1500;

interface Range {
  /** -1 until the session has parts: then the window opens on its last INITIAL parts. */
  start: number;
  end: number;
  /** The window's end follows new parts. */
  live: boolean;
  /** The part at `start` when it was set: earlier parts arriving later (pages) shift the window, not the view. */
  startKey?: string;
}

/**
 * The conversation, windowed: only a slice of the parts is rendered, and the slice moves as the
 * reader scrolls near either end of it (or taps "Show earlier" / "Show newer"), so a session with
 * thousands of parts keeps the DOM small. While the reader is at the bottom it stays there as
 * parts and text arrive.
 */
export interface TimelineProps {
  items: () => readonly TimelineItem[];
  /** Whether a permission request holds this tool call. */
  waiting?: (callId: string) => boolean;
  /**
   * Parts arrived while the reader was scrolled up (`true`), or they came back down; `latest`
   * takes them to the newest. The screen shows the way down where it fits (above its composer).
   */
  onUnseen?: (unseen: boolean, latest: () => void) => void;
  /** Offered on the person's last message (absent: not offered, e.g. while the agent works). */
  onEditLast?: (text: string) => void;
  /** Offered on a turn cut short: sends its prompt again as a new task. */
  onRetry?: (promptId: string) => Promise<void>;
  /** Actions on one of the person's messages (revert to it), shown under it. */
  userActions?: (messageId: string) => JSX.Element;
  /** The picture of an attached file, from the host (absent: only pictures this phone sent show). */
  hostImage?: (item: FileItem) => Promise<Blob>;
}

export function TimelineView(props: TimelineProps) {
  let list!: HTMLOListElement;
  let earlierEdge: HTMLElement | undefined;
  let newerEdge: HTMLDivElement | undefined;
  const [range, setRange] = createSignal<Range>({ start: -1, end: 0, live: true });
  let pinned = true;
  /** Parts arrived while the reader was scrolled up: offer a way down instead of moving them. */
  const [unseen, setUnseen] = createSignal(false);
  createEffect(on(unseen, (u) => props.onUnseen?.(u, latest), { defer: true }));

  const view = createMemo(() => {
    const all = props.items();
    const r = range();
    let shift = 0;
    if (r.startKey !== undefined && all[r.start]?.key !== r.startKey) {
      const at = all.findIndex((i) => i.key === r.startKey);
      if (at >= 0) shift = at - r.start;
    }
    const end = r.live ? all.length : Math.min(r.end + shift, all.length);
    const start = Math.max(0, r.start < 0 ? end - INITIAL : r.start + shift, end - WINDOW);
    return { start, end, total: all.length, items: all.slice(start, end) };
  });

  /** Sets the window, remembering the part it starts with. */
  const place = (next: Omit<Range, 'startKey'>) => setRange({ ...next, startKey: props.items()[next.start]?.key });

  // Fix the window's start once parts exist, so new parts do not push the first ones out early.
  createEffect(
    on(
      () => view().total,
      (total) => total > 0 && range().start < 0 && place({ ...range(), start: view().start }),
    ),
  );

  const lastUser = createMemo(() => [...props.items()].reverse().find((i) => i.kind === 'text' && i.role() === 'user'));

  const elementOf = (index: number) => list.querySelector<HTMLElement>(`[data-index="${index}"]`);

  /** Moves the window, keeping the part at `anchor` where it is on screen. */
  const move = (next: Omit<Range, 'startKey'>, anchor: number) => {
    const before = elementOf(anchor)?.getBoundingClientRect().top;
    place(next);
    const after = elementOf(anchor)?.getBoundingClientRect().top;
    if (before !== undefined && after !== undefined) window.scrollBy(0, after - before);
  };

  const earlier = () => {
    const v = view();
    const start = Math.max(0, v.start - STEP);
    const end = Math.min(v.end, start + WINDOW);
    move({ start, end, live: end === v.total && range().live }, v.start);
  };
  const newer = () => {
    const v = view();
    const end = Math.min(v.total, v.end + STEP);
    move({ start: Math.max(v.start, end - WINDOW), end, live: end === v.total }, v.end - 1);
  };
  const latest = () => {
    const total = view().total;
    place({ start: Math.max(0, total - INITIAL), end: total, live: true });
    pinned = true;
    setUnseen(false);
    scrollToEnd();
  };

  const scrollToEnd = () => window.scrollTo({ top: document.documentElement.scrollHeight });
  // The person's own new message: take them to it, wherever they were reading.
  createEffect(
    on(
      () => props.items().at(-1),
      (last, before) => {
        if (last && last !== before && last.kind === 'text' && last.role() === 'user') latest();
      },
      { defer: true },
    ),
  );
  /** Scrolled near an end of the window that is not the session's: move the window that way. */
  let checking = false;
  const reach = () => {
    checking = false;
    const v = view();
    // At the bottom, the window only grows upwards (a short session); it never leaves the newest parts.
    if (v.start > 0 && earlierEdge && (!pinned || v.end - v.start < WINDOW) && earlierEdge.getBoundingClientRect().bottom > -MARGIN) earlier();
    else if (v.end < v.total && newerEdge && newerEdge.getBoundingClientRect().top < window.innerHeight + MARGIN) newer();
    else return;
    checkReach(); // still near after the move (a fast scroll): go on next frame
  };
  const checkReach = () => {
    if (checking) return;
    checking = true;
    // Just after the frame is painted, when its layout is done: reading the edges' positions then
    // costs nothing. Read before it (in the frame's callbacks), with streamed text just grown, they
    // made the browser lay the page out twice per frame on every scroll that follows the text.
    afterNextPaint(reach);
  };

  onMount(() => {
    const onScroll = () => {
      pinned = window.innerHeight + window.scrollY >= document.documentElement.scrollHeight - 120;
      if (pinned) setUnseen(false);
      checkReach();
    };
    // Streaming text grows parts without changing the list: follow the size, not the items.
    const grow = new ResizeObserver(() => {
      if (pinned && range().live) scrollToEnd();
      else if (!pinned) setUnseen(true);
    });
    grow.observe(list);
    window.addEventListener('scroll', onScroll, { passive: true });
    onCleanup(() => {
      grow.disconnect();
      window.removeEventListener('scroll', onScroll);
    });
  });

  return (
    <>
      <Show when={view().start > 0}>
        <Button variant="quiet" class="timeline__more" ref={(el) => (earlierEdge = el)} onClick={earlier}>
          Show earlier messages ({view().start})
        </Button>
      </Show>
      <ol class="timeline" ref={list} aria-label="Conversation">
        <For each={view().items}>
          {(item, i) => (
            <li class={`part part--${item.kind}`} classList={{ 'part--user': item.kind === 'text' && item.role() === 'user' }} data-index={view().start + i()} data-key={item.key}>
              <Switch>
                <Match when={item.kind === 'text' || item.kind === 'reasoning' ? item : undefined}>
                  {(t) => (
                    <>
                      <TextPart item={t()} />
                      <Show when={props.onEditLast && item === lastUser() && t().kind === 'text'}>
                        <button type="button" class="link-button part__edit" onClick={() => props.onEditLast?.(t().text())}>
                          Edit and ask again
                        </button>
                      </Show>
                      <Show when={props.userActions && t().kind === 'text' && t().role() === 'user'}>{props.userActions?.(t().messageId)}</Show>
                    </>
                  )}
                </Match>
                <Match when={item.kind === 'tool' ? item : undefined}>{(t) => <ToolPart state={t().state} waiting={props.waiting?.(t().state.callId)} />}</Match>
                <Match when={item.kind === 'notice' ? item : undefined}>{(n) => <NoticePart item={n()} onRetry={props.onRetry} />}</Match>
                <Match when={item.kind === 'file' ? item : undefined}>{(f) => <FilePart item={f()} hostImage={props.hostImage} />}</Match>
              </Switch>
            </li>
          )}
        </For>
      </ol>
      <Show when={view().end < view().total}>
        <div class="timeline__newer" ref={newerEdge}>
          <Button variant="quiet" onClick={newer}>
            Show newer messages ({view().total - view().end})
          </Button>
          <Button variant="secondary" onClick={latest}>
            Jump to latest
          </Button>
        </div>
      </Show>
    </>
  );
}
