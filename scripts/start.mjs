/**
 * `npm start`: runs the host from its bundle (rebuilt first when the sources changed), in this
 * process, so Ctrl-C reaches the host directly and it can stop its runtime cleanly. The phone
 * app (dist/) is rebuilt here too when its sources changed: the host serves it but never imports
 * the build scripts (one-shot commands like `pair` pay for a stale build only once).
 */
import { pathToFileURL } from 'node:url';
import { buildAppIfStale } from './build-app.mjs';
import { buildHostIfStale, HOST_BUNDLE } from './build-host.mjs';

buildHostIfStale();
buildAppIfStale();
await import(pathToFileURL(HOST_BUNDLE).href);
