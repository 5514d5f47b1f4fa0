/**
 * The shared worker behind `shareAcrossTabs`: one WebSocket per server URL (and build) for every tab of the
 * origin. Bundlers that follow `new SharedWorker(new URL(...))` build it on their own; others can
 * load `@wirecall/client/shared-worker` themselves and pass it as `shareAcrossTabs.worker`.
 * Elsewhere (Node, tests) it only exports the hub.
 */
import { PROTOCOL } from '@wirecall/core/internal';
import { TabHub } from './hub.js';
import type { PortLike } from './messages.js';
import type { UpstreamSocket } from './upstream.js';

export { TabHub } from './hub.js';
export type { PortLike } from './messages.js';
export type { UpstreamSocket } from './upstream.js';

interface SharedWorkerScope {
  onconnect: ((event: { ports: PortLike[] }) => void) | null;
}

if ('onconnect' in globalThis) {
  const hub = new TabHub((url) => new WebSocket(url, PROTOCOL) as unknown as UpstreamSocket);
  (globalThis as unknown as SharedWorkerScope).onconnect = (event) => hub.connect(event.ports[0]!);
}
