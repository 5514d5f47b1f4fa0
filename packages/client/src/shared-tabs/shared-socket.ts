import type { SocketConstructor } from '../connection/connection-manager.js';
import type { PortLike } from './messages.js';
import { portSocketClass } from './port-socket.js';

/**
 * `true`: share through wirecall's own shared worker (bundlers that follow
 * `new SharedWorker(new URL(...))`, such as Vite and webpack 5, build it). Or a function returning
 * the worker (anything with a `port`), for setups that load `@wirecall/client/shared-worker`
 * themselves.
 */
export type ShareAcrossTabs = boolean | { worker: () => { port: PortLike } };

/**
 * The socket class that goes through the tabs' shared worker, or undefined (one connection per tab)
 * when sharing is off or the browser has no SharedWorker (Chrome on Android, for one).
 */
export function sharedSocketClass(option: ShareAcrossTabs | undefined): SocketConstructor | undefined {
  if (option === undefined || option === false) return undefined;
  if (option !== true) return portSocketClass(option.worker().port);
  if (typeof SharedWorker === 'undefined') return undefined;
  const worker = new SharedWorker(new URL('./shared-worker.js', import.meta.url), { type: 'module', name: 'wirecall' });
  return portSocketClass(worker.port);
}
