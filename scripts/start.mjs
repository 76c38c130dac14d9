/**
 * `npm start`: runs the host from its bundle (rebuilt first when the sources changed), in this
 * process, so Ctrl-C reaches the host directly and it can stop its runtime cleanly. The host
 * builds the phone app itself when needed.
 */
import { pathToFileURL } from 'node:url';
import { buildHostIfStale, HOST_BUNDLE } from './build-host.mjs';

buildHostIfStale();
await import(pathToFileURL(HOST_BUNDLE).href);
