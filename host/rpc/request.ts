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
  /** Resolves with the result's `data`; rejects with a RelayError for an error result. */
  handle(request: RoutedRequest, device: Device): Promise<unknown>;
}
