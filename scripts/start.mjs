/**
 * `npm start`: runs the host from its bundle (rebuilt first when the sources changed), in this
 * process, so Ctrl-C reaches the host directly and it can stop its runtime cleanly. The phone
 * app (dist/) is rebuilt here too when its sources changed: the host serves it but never imports
 * the build scripts (one-shot commands like `pair` pay for a stale build only once).
 */
import { pathToFileURL } from 'node:url';
import { buildAppIfStale } from './build-app.mjs';
import { buildHostIfStale, HOST_BUNDLE } from './build-host.mjs';

const began = Date.now();
// One line when it ran; esbuild itself prints only warnings and errors.
if (buildHostIfStale()) process.stderr.write(`Built the host (build/host.mjs) in ${((Date.now() - began) / 1000).toFixed(1)} s.\n`);
buildAppIfStale();
await import(pathToFileURL(HOST_BUNDLE).href);
