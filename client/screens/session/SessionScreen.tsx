import type { ScreenProps } from '../../routes.ts';
import { Screen } from '../../ui/Screen.tsx';

/** Placeholder until the live session stream lands. */
export default function SessionScreen(props: ScreenProps) {
  return (
    <Screen title="Session">
      <p>
        Session <code>{props.param}</code> opens here once your computer is connected.
      </p>
      <p>
        <a href="#/sessions">All sessions</a>
      </p>
    </Screen>
  );
}
