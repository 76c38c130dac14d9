/**
 * Racing a host's addresses: a host whose LAN address changed is still found through another one
 * or its `.local` name, without waiting for each dead address to time out in turn. The preferred
 * address (the one that won last time) gets a short head start, so a phone that is where it was
 * opens one socket, not one per address (mobile browsers limit connections per site); the others
 * start when that head start is over or the preferred one fails, whichever comes first.
 * Knows nothing of sockets or crypto: `start` opens one attempt.
 * @module
 */

export interface RaceAttempt<T> {
  /** The open connection, or why there is none. */
  readonly result: Promise<T>;
  /**
   * Gives up on this attempt: closes its socket, or the connection itself if it is already
   * open. Called for every loser, also one that completes after the race was decided.
   */
  abandon(): void;
}

export interface RaceOptions<T> {
  /** Best first; the first one gets the head start. */
  addresses: readonly string[];
  start(address: string): RaceAttempt<T>;
  /** How long the first address runs alone (0: all at once). */
  headStartMs: number;
  /** A failure no other address can change (the host no longer knows this device): ends the race. */
  isFinal(err: unknown): boolean;
}

export interface RaceWin<T> {
  value: T;
  address: string;
}

export interface Race<T> {
  /** The first attempt to complete; or, when none did, the most telling failure. */
  readonly result: Promise<RaceWin<T>>;
  /** Abandons every attempt; `result` rejects with `reason`. */
  cancel(reason: Error): void;
}

/** Among failures, the one to show: a final one, else one the host answered with a code, else the first address's. */
function telling(failures: ReadonlyArray<unknown>, isFinal: (err: unknown) => boolean): unknown {
  const coded = (err: unknown) => err instanceof Error && typeof (err as { code?: unknown }).code === 'string';
  return failures.find(isFinal) ?? failures.find(coded) ?? failures[0];
}

export function raceAddresses<T>(opts: RaceOptions<T>): Race<T> {
  const { addresses, start, headStartMs, isFinal } = opts;
  const attempts = new Map<string, RaceAttempt<T>>();
  const failures = new Map<string, unknown>();
  let decided = false;
  let headStart: ReturnType<typeof setTimeout> | undefined;
  let settle!: { resolve: (w: RaceWin<T>) => void; reject: (err: unknown) => void };
  const result = new Promise<RaceWin<T>>((resolve, reject) => (settle = { resolve, reject }));

  const finish = (outcome: { win: RaceWin<T> } | { err: unknown }) => {
    decided = true;
    clearTimeout(headStart);
    for (const [address, attempt] of attempts) if (!('win' in outcome) || address !== outcome.win.address) attempt.abandon();
    if ('win' in outcome) settle.resolve(outcome.win);
    else settle.reject(outcome.err);
  };

  const launch = (address: string) => {
    if (decided || attempts.has(address)) return;
    const attempt = start(address);
    attempts.set(address, attempt);
    attempt.result.then(
      (value) => {
        if (decided)
          attempt.abandon(); // a late winner: close it, one connection is enough
        else finish({ win: { value, address } });
      },
      (err: unknown) => {
        if (decided) return;
        failures.set(address, err);
        if (isFinal(err)) return finish({ err });
        if (address === addresses[0]) launchRest();
        if (failures.size === addresses.length)
          finish({
            err: telling(
              addresses.map((a) => failures.get(a)),
              isFinal,
            ),
          });
      },
    );
  };

  const launchRest = () => {
    clearTimeout(headStart);
    for (const address of addresses.slice(1)) launch(address);
  };

  if (addresses.length === 0) {
    decided = true;
    settle.reject(new Error('no address to try'));
  } else {
    launch(addresses[0]!);
    if (headStartMs > 0 && addresses.length > 1) headStart = setTimeout(launchRest, headStartMs);
    else launchRest();
  }

  return {
    result,
    cancel(reason) {
      if (!decided) finish({ err: reason });
    },
  };
}
