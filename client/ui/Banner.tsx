import type { JSX } from 'solid-js';

export interface BannerProps {
  message: string;
  tone?: 'info' | 'warn' | 'error';
  /** Buttons offered with the message. */
  children?: JSX.Element;
}

/** A non-blocking notice under the top bar, announced politely to screen readers. */
export function Banner(props: BannerProps) {
  return (
    <div class={`banner banner--${props.tone ?? 'info'}`} role="status">
      <p class="banner__message">{props.message}</p>
      <div class="banner__actions">{props.children}</div>
    </div>
  );
}
