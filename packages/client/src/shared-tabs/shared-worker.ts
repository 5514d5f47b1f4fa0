/**
 * The shared worker behind `shareAcrossTabs` (`@wirecall/client/shared-worker`): one WebSocket per
 * server URL (and build) for every tab of the origin. Bundlers that follow
 * `new SharedWorker(new URL(...))` build it from `sharedTabs()`; others can load it themselves and
 * pass it as `sharedTabs({ worker })`. A worker script, not a library: it exports nothing, and
 * outside a SharedWorker it does nothing. (Tests run the hub itself from `hub.ts`.)
 */
import { PROTOCOL } from '@wirecall/core/internal';
import { TabHub } from './hub.js';
import type { PortLike } from './messages.js';
import type { UpstreamSocket } from './upstream.js';

interface SharedWorkerScope {
  onconnect: ((event: { ports: PortLike[] }) => void) | null;
}

if ('onconnect' in globalThis) {
  const hub = new TabHub((url) => new WebSocket(url, PROTOCOL) as unknown as UpstreamSocket);
  (globalThis as unknown as SharedWorkerScope).onconnect = (event) => hub.connect(event.ports[0]!);
}
