/**
 * `npm start`: runs the host from its bundle (rebuilt first when the sources changed), in this
 * process, so Ctrl-C reaches the host directly and it can stop its runtime cleanly. The host
 * builds the phone app itself when needed.
 */
import { pathToFileURL } from 'node:url';
import { buildHostIfStale, HOST_BUNDLE } from './build-host.mjs';

const began = Date.now();
// One line when it ran; esbuild itself prints only warnings and errors.
if (buildHostIfStale()) process.stderr.write(`Built the host (build/host.mjs) in ${((Date.now() - began) / 1000).toFixed(1)} s.\n`);
await import(pathToFileURL(HOST_BUNDLE).href);
