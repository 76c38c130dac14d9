import { splitProps, type JSX } from 'solid-js';

export type ButtonVariant = 'primary' | 'secondary' | 'danger' | 'quiet';

export type ButtonProps = JSX.ButtonHTMLAttributes<HTMLButtonElement> & { variant?: ButtonVariant };

/** A native button (type="button" unless told otherwise), so role, focus and keyboard come for free. */
export function Button(props: ButtonProps) {
  const [local, rest] = splitProps(props, ['variant', 'class', 'type']);
  return <button type={local.type ?? 'button'} class={`button button--${local.variant ?? 'secondary'}${local.class ? ` ${local.class}` : ''}`} {...rest} />;
}
