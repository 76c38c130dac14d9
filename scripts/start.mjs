/**
 * `npm start`: run the host (TypeScript through tsx) in this process, so Ctrl-C reaches the host
 * directly and it can stop its runtime cleanly. The host builds the app itself when needed.
 */
import { register } from 'tsx/esm/api';

register();
await import('../host/main.ts');
