import type { SocketConstructor } from '../connection/connection-manager.js';

/**
 * How `createClient` reaches the tabs' shared worker: `sharedTabs()` from
 * `@wirecall/client/shared-tabs`. Only the shape both sides agree on lives here: the code that
 * runs the tab's side, and the reference that makes bundlers build the worker, are in that entry,
 * so an app that does not share tabs ships neither.
 */
export interface SharedTabs {
  /**
   * The WebSocket class whose sockets go through the shared worker, or undefined where the
   * browser has no SharedWorker (then the client connects on its own). Called once per client.
   */
  socketClass(): SocketConstructor | undefined;
}

/** The `shareAcrossTabs` option: `sharedTabs()` from `@wirecall/client/shared-tabs`, or `false`. */
export type ShareAcrossTabs = SharedTabs | false;

/**
 * The socket class that goes through the tabs' shared worker, or undefined (one connection per tab)
 * when sharing is off or the browser has no SharedWorker (Chrome on Android, for one).
 */
export function sharedSocketClass(option: ShareAcrossTabs | undefined): SocketConstructor | undefined {
  if (option === undefined || option === false) return undefined;
  if (typeof (option as Partial<SharedTabs> | null)?.socketClass !== 'function') {
    throw new TypeError("wirecall: shareAcrossTabs takes sharedTabs() from '@wirecall/client/shared-tabs'");
  }
  return option.socketClass();
}
