/**
 * @module @wirecall/client/shared-tabs: `shareAcrossTabs` for `createClient`, one WebSocket for
 * every tab of an origin through a SharedWorker. A separate entry point, so apps that do not share
 * ship none of it, and their bundlers build no worker.
 */
import type { PortLike } from './messages.js';
import { portSocketClass } from './port-socket.js';
import type { SharedTabs } from './shared-socket.js';

export interface SharedTabsOptions {
  /**
   * The worker to share (anything with a `port`), for setups that load
   * `@wirecall/client/shared-worker` themselves. Called once per client. @default wirecall's own
   * worker, which bundlers that follow `new SharedWorker(new URL(...))` (Vite, webpack 5) build
   */
  worker?: () => { port: PortLike };
}

/**
 * Pass it to `createClient` as `shareAcrossTabs`: the tabs of the origin share one WebSocket
 * through a SharedWorker. Where SharedWorker is missing, each tab connects on its own.
 *
 * @example
 * import { sharedTabs } from '@wirecall/client/shared-tabs';
 * const client = createClient(api, { url, shareAcrossTabs: sharedTabs() });
 */
export function sharedTabs(options: SharedTabsOptions = {}): SharedTabs {
  return {
    socketClass() {
      if (options.worker !== undefined) return portSocketClass(options.worker().port);
      if (typeof SharedWorker === 'undefined') return undefined;
      // This file sits next to the worker's in dist/: the bundler follows the URL and builds it.
      const worker = new SharedWorker(new URL('./shared-worker.js', import.meta.url), {
        type: 'module',
        name: 'wirecall',
      });
      return portSocketClass(worker.port);
    },
  };
}

export type { SharedTabs, ShareAcrossTabs } from './shared-socket.js';
export type { PortLike } from './messages.js';
