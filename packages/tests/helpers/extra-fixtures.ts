import { z } from 'zod';
import { defineContract } from '@wirecall/core';
import { createServer, type WirecallServer } from '@wirecall/server';
import { testApi } from './fixtures.js';
import { recordingLogger, type LogEntry } from './test-server.js';

/**
 * The test contract as a stale client might know it: the same procedures and events plus one the
 * server never had, so its fingerprint differs from {@link testApi}'s.
 */
export const driftedApi = defineContract({
  procedures: {
    ...testApi.procedures,
    addedLater: { input: z.object({ n: z.number() }), output: z.number() },
  },
  events: testApi.events,
});
export type DriftedApi = typeof driftedApi;

/** One idempotent procedure that runs until its signal aborts (testApi has none that is slow). */
export const idempotentApi = defineContract({
  procedures: {
    holdIdempotent: { input: z.object({ key: z.string() }), output: z.string(), idempotent: true },
  },
});
export type IdempotentApi = typeof idempotentApi;

export interface IdempotentServer extends AsyncDisposable {
  server: WirecallServer<IdempotentApi>;
  url: string;
  logs: LogEntry[];
  /** Abort reasons seen by `holdIdempotent`, by key. */
  aborts: Map<string, unknown>;
}

/** Starts a server for {@link idempotentApi} on 127.0.0.1 and a free port; dispose it to close it. */
export async function startIdempotentServer(): Promise<IdempotentServer> {
  const logs: LogEntry[] = [];
  const aborts = new Map<string, unknown>();
  const server = createServer(idempotentApi, {
    logger: recordingLogger(logs),
    handlers: {
      holdIdempotent: ({ input, signal }) =>
        new Promise<string>((_resolve, reject) => {
          signal.addEventListener('abort', () => {
            aborts.set(input.key, signal.reason);
            reject(signal.reason as Error);
          });
        }),
    },
  });
  const { url } = await server.listen({ port: 0, host: '127.0.0.1' });
  return { server, url, logs, aborts, [Symbol.asyncDispose]: () => server.close({ graceMs: 0 }) };
}
