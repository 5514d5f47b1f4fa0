import type { ServerStats } from '@wirecall/server';
import { startJsonChild, type JsonChild } from './json-child.js';
import type { NodeConfig, NodeReady } from './node-main.js';

/** A server node (node-main.ts) running in a child process. */
export interface NodeProcess extends JsonChild<NodeReady> {
  readonly name: string;
  /** `ws://127.0.0.1:<port>`. */
  readonly url: string;
  /**
   * Emits `tick { room, seq }` to stream `{ room }` for each of `seqs`, in order; resolves with the
   * event ids, rejects if the node could not emit one of them.
   */
  emit(room: string, seqs: readonly number[]): Promise<string[]>;
  stats(): Promise<ServerStats>;
}

export async function startNode(config: NodeConfig): Promise<NodeProcess> {
  const child = await startJsonChild<NodeReady>('node-main.ts', config);
  return Object.assign(child, {
    name: config.name,
    url: `ws://127.0.0.1:${child.ready.port}`,
    emit: (room: string, seqs: readonly number[]) => child.request<string[]>('emit', { room, seqs }),
    stats: () => child.request<ServerStats>('stats'),
  });
}
