/**
 * The words the host's permission timeout (host/policy/timeouts.ts) answers with: the runtime
 * hands them to the model and shows them as the tool's error, after its own "The user rejected
 * permission …" preamble. Apps recognise them to say "timed out" instead of "rejected", also in a
 * transcript reloaded long after the event that said so.
 * @module
 */

export function timeoutMessage(seconds: number): string {
  const minutes = seconds / 60;
  const span = Number.isInteger(minutes) ? `${minutes} minute${minutes === 1 ? '' : 's'}` : `${seconds} second${seconds === 1 ? '' : 's'}`;
  return `No one answered within ${span}, so the host denied it`;
}

/** The host's timeout message inside a tool's error text, when it is there. */
export function timeoutDenial(text: string): string | undefined {
  return /No one answered within \d+ (?:minutes?|seconds?), so the host denied it/.exec(text)?.[0];
}
