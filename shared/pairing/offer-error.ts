/**
 * Why a pairing link or typed code cannot be used, in a module of its own so the app's screens
 * can tell it apart (`instanceof`) without loading the pairing crypto.
 * @module
 */

/** Why an offer the person brought cannot be used. */
export class OfferError extends RangeError {
  /** `detail`: what is wrong, for a person, without the field's name that starts `message`. */
  constructor(
    readonly reason: 'malformed' | 'expired' | 'host-mismatch',
    readonly field: 'link' | 'code',
    readonly detail: string,
  ) {
    super(`${field}: ${detail}`);
    this.name = 'OfferError';
  }
}
