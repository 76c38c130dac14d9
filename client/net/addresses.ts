/**
 * Which of a computer's addresses to try, and in what order. No crypto here: the first screen
 * needs this before the network layer loads.
 * @module
 */

export function sameOrigin(address: string, origin: string): boolean {
  try {
    return new URL(address).origin === origin;
  } catch {
    return false;
  }
}

/**
 * The addresses to try, best first: the page's own origin when the host serves it (that is the
 * address that just worked), then the others. An https page may not open ws:// sockets (mixed
 * content), so those are left out there.
 */
export function candidateAddresses(addresses: readonly string[], origin: string): string[] {
  const secure = origin.startsWith('https:');
  const usable = [...new Set(addresses)].filter((a) => !secure || a.startsWith('https:'));
  const own = usable.filter((a) => sameOrigin(a, origin));
  return [...own, ...usable.filter((a) => !own.includes(a))];
}

/** `addresses` with `preferred` (the last winner) moved to the front, when it is still among them. */
export function preferAddress(addresses: readonly string[], preferred: string | undefined): string[] {
  return preferred && addresses.includes(preferred) ? [preferred, ...addresses.filter((a) => a !== preferred)] : [...addresses];
}

function originOf(address: string | undefined): string | undefined {
  try {
    return address ? new URL(address).origin : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The host's stable origin (its first address: the `.local` name or the public URL) when the page
 * is on another one. Storage, and with it a pairing, belongs to the page's origin, so pairing from
 * a link here would leave the app at the stable address unpaired.
 */
export function stableOriginElsewhere(addresses: readonly string[], origin: string): string | undefined {
  const stable = originOf(addresses[0]);
  return stable && stable !== origin ? stable : undefined;
}

/** The host's stable origin when the page's origin is none of the addresses the host announces. */
export function unlistedOrigin(addresses: readonly string[], origin: string): string | undefined {
  return addresses.some((a) => sameOrigin(a, origin)) ? undefined : originOf(addresses[0]);
}
