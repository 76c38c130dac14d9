/**
 * What a connection hands the router: its own module, so the connection, the router and the
 * workspace gate all depend on it rather than on each other.
 * @module
 */
import type { Request } from '../../shared/protocol/messages.ts';
import type { Device } from '../devices/store.ts';

/** Requests other than ping, answered by `host/rpc/router.ts`. */
export type RoutedRequest = Exclude<Request, { t: 'ping' }>;

export interface Router {
  /**
   * Resolves with the result's `data`; rejects with a RelayError for an error result.
   * `connection` stands for the connection it came on (what `app.visibility` applies to; tests of
   * other requests may leave it out).
   */
  handle(request: RoutedRequest, device: Device, connection?: object): Promise<unknown>;
  /** The connection closed. */
  disconnected?(connection: object): void;
}
