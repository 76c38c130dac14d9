import { Screen } from '../../ui/Screen.tsx';

/** Placeholder until sessions sync from the host. */
export default function SessionsScreen() {
  return (
    <Screen title="Sessions">
      <p>No sessions yet. They appear here once your computer is connected.</p>
      <p>
        <a href="#/pair">Pair another computer</a>
      </p>
    </Screen>
  );
}
