import { createUniqueId, onMount, type JSX } from 'solid-js';

export interface ScreenProps {
  title: string;
  /** Extra class for screens with a layout of their own. */
  class?: string;
  children: JSX.Element;
}

/**
 * One screen: a region named by its heading. The heading takes focus when the screen appears,
 * so screen reader users hear where a navigation took them.
 */
export function Screen(props: ScreenProps) {
  let heading!: HTMLHeadingElement;
  const id = createUniqueId();
  onMount(() => heading.focus({ preventScroll: true }));
  return (
    <section class={props.class ? `screen ${props.class}` : 'screen'} aria-labelledby={id}>
      <h1 id={id} ref={heading} tabindex="-1" class="screen__title">
        {props.title}
      </h1>
      {props.children}
    </section>
  );
}
