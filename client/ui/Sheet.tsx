import { createEffect, createUniqueId, type JSX } from 'solid-js';

export interface SheetProps {
  open: boolean;
  title: string;
  /** Called when the sheet closes by itself (Escape, back gesture), so the owner can update `open`. */
  onClose: () => void;
  children: JSX.Element;
}

/**
 * A modal bottom sheet on the native <dialog>: it brings the dialog role, focus trapping,
 * Escape to close and an inert background without any script of ours.
 */
export function Sheet(props: SheetProps) {
  let dialog!: HTMLDialogElement;
  const titleId = createUniqueId();
  createEffect(() => {
    if (props.open && !dialog.open) dialog.showModal();
    else if (!props.open && dialog.open) dialog.close();
  });
  return (
    <dialog ref={dialog} class="sheet" aria-labelledby={titleId} onClose={() => props.open && props.onClose()}>
      <h2 id={titleId} class="sheet__title">
        {props.title}
      </h2>
      {props.children}
    </dialog>
  );
}
