import { setTimeout as delay } from 'node:timers/promises';
import { z } from 'zod';
import { defineContract } from '@wirecall/core';
import { createClient, type ClientOptions, type WirecallClient } from '@wirecall/client';
import { createServer, WirecallError, type ServerOptions, type WirecallServer } from '@wirecall/server';
import { recordingLogger, type LogEntry } from './test-server.js';

/**
 * A contract for the resilience tests, for what testApi lacks: a *slow* idempotent procedure (so
 * a drop can catch its first attempt running on the server), a slow non-idempotent one counted by
 * tag, a procedure that emits an event before it answers, and one whose handler fails with UNAVAILABLE.
 */
export const resilienceApi = defineContract({
  procedures: {
    /** Idempotent and slow: a retry after a drop must join the running first attempt, not re-run it. */
    lookup: {
      input: z.object({ id: z.string(), ms: z.number() }),
      output: z.object({ id: z.string() }),
      idempotent: true,
    },
    /** Not idempotent: must never run twice for one call. */
    charge: { input: z.object({ tag: z.string(), ms: z.number() }), output: z.object({ tag: z.string() }) },
    /** Emits `note` with the text, then answers with it. */
    announce: { input: z.object({ text: z.string() }), output: z.string() },
    /** Not idempotent; runs (counted) and then fails with UNAVAILABLE, as a handler whose database is down. */
    unavailable: { input: z.object({ tag: z.string() }), output: z.string() },
  },
  events: {
    note: { payload: z.object({ text: z.string() }) },
  },
});
export type ResilienceApi = typeof resilienceApi;

export interface ResilienceServer extends AsyncDisposable {
  server: WirecallServer<ResilienceApi, undefined>;
  url: string;
  port: number;
  logs: LogEntry[];
  /** Handler runs as they start, by `lookup:<id>` / `charge:<tag>`. */
  started: Map<string, number>;
  /** Handler runs that finished (not aborted), by the same keys. */
  finished: Map<string, number>;
}

function bump(map: Map<string, number>, key: string): void {
  map.set(key, (map.get(key) ?? 0) + 1);
}

/** Starts a server for {@link resilienceApi} on 127.0.0.1 (port 0 unless given). */
export async function startResilienceServer(
  options: Partial<ServerOptions<ResilienceApi, undefined>> & { port?: number } = {},
): Promise<ResilienceServer> {
  const { port: wantedPort = 0, ...overrides } = options;
  const logs: LogEntry[] = [];
  const started = new Map<string, number>();
  const finished = new Map<string, number>();
  const server: WirecallServer<ResilienceApi, undefined> = createServer(resilienceApi, {
    logger: recordingLogger(logs),
    handlers: {
      lookup: async ({ input, signal }) => {
        bump(started, `lookup:${input.id}`);
        await delay(input.ms, undefined, { signal });
        bump(finished, `lookup:${input.id}`);
        return { id: input.id };
      },
      charge: async ({ input, signal }) => {
        bump(started, `charge:${input.tag}`);
        await delay(input.ms, undefined, { signal });
        bump(finished, `charge:${input.tag}`);
        return { tag: input.tag };
      },
      unavailable: ({ input }) => {
        bump(started, `unavailable:${input.tag}`);
        throw new WirecallError('UNAVAILABLE', 'the database is down');
      },
      announce: async ({ input }) => {
        await server.emit('note', { text: input.text });
        return input.text;
      },
    },
    ...overrides,
  });
  const { url, port } = await server.listen({ port: wantedPort, host: '127.0.0.1' });
  return { server, url, port, logs, started, finished, [Symbol.asyncDispose]: () => server.close({ graceMs: 0 }) };
}

export type ResilienceClient = WirecallClient<ResilienceApi> & AsyncDisposable;

/** A client of {@link resilienceApi}; dispose it to close it. */
export function connectResilienceClient(
  url: string,
  options: Partial<ClientOptions<ResilienceApi>> = {},
): ResilienceClient {
  const client = createClient(resilienceApi, { url, ...options });
  return Object.assign(client, { [Symbol.asyncDispose]: () => client.close() });
}
