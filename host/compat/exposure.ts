/**
 * Where the layer for OpenCode's own clients may be served. Their secret travels in every
 * request's `Authorization` header, so the layer answers only over HTTPS (the local CA from
 * `tls setup`, or the person's certificate) or on a loopback-only bind; on plain HTTP reachable
 * from the network it refuses, before any credential is looked at.
 * @module
 */
import { isIP } from 'node:net';
import { isLoopbackAddress, isLoopbackHost } from '../metrics/loopback.ts';

export interface Exposure {
  /** The address the host listens on (`--bind`). */
  bind: string;
  /** Whether the host serves HTTPS. */
  tls: boolean;
}

/** Undefined when the layer may be served; otherwise why not and what to do, for the person. */
export function compatRefusal({ bind, tls }: Exposure): string | undefined {
  if (tls) return undefined;
  const loopback = isIP(bind.replace(/^\[(.*)\]$/, '$1')) ? isLoopbackAddress(bind) : isLoopbackHost(bind);
  if (loopback) return undefined;
  return (
    `OpenCode's own clients cannot use this host: it serves plain HTTP on ${bind}, which would carry their secret across ` +
    'the network unencrypted. Serve HTTPS (npm start -- tls setup, or --tls-cert and --tls-key), or start the host with ' +
    '--bind 127.0.0.1 to use them on this computer only.'
  );
}
