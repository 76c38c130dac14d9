import type { JSX } from 'solid-js';
import { ROW_STATE_LABEL, type RowState } from './row-state.ts';

/** One shape per state (made per row: a DOM node has one place), so they differ without colour too (16 × 16, drawn with the text colour). */
const ICONS: Record<RowState, () => JSX.Element> = {
  running: () => <path d="M8 2a6 6 0 1 1-6 6" />,
  waiting: () => (
    <>
      <circle cx="8" cy="8" r="6" />
      <path d="M8 4.5v4M8 11v.5" />
    </>
  ),
  done: () => <path d="M3 8.5l3.2 3.2L13 4.8" />,
  stopped: () => <rect x="4" y="4" width="8" height="8" rx="1" />,
  failed: () => <path d="M4 4l8 8M12 4l-8 8" />,
  interrupted: () => <path d="M2 8h3l2-4 2 8 2-4h3" />,
};

/** A session's state in the list: its icon and its name in words (the name is what is read out). */
export function RowStateBadge(props: { state: RowState }) {
  return (
    <span class="row-state" data-state={props.state}>
      <svg class="row-state__icon" viewBox="0 0 16 16" aria-hidden="true" data-icon={props.state}>
        {ICONS[props.state]()}
      </svg>
      {ROW_STATE_LABEL[props.state]}
    </span>
  );
}
