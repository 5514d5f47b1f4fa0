import { setTimeout as delay } from 'node:timers/promises';
import { z } from 'zod';
import { defineContract } from '@wirecall/core';
import { WirecallError, type DefaultContext, type Handlers } from '@wirecall/server';
import { type TestServer } from './test-server.js';

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

/** Runs of the resilience handlers, by `lookup:<id>` / `charge:<tag>` / `unavailable:<tag>`. */
export interface ResilienceRuns {
  /** Handler runs as they start. */
  started: Map<string, number>;
  /** Handler runs that finished (not aborted). */
  finished: Map<string, number>;
}

export function newResilienceRuns(): ResilienceRuns {
  return { started: new Map(), finished: new Map() };
}

function bump(map: Map<string, number>, key: string): void {
  map.set(key, (map.get(key) ?? 0) + 1);
}

/** A server of {@link resilienceApi} (no `context` option: the default context). */
export type ResilienceServer = TestServer<ResilienceApi>;

/**
 * The handlers of {@link resilienceApi}; `announce` emits through `server()`, the server they run
 * on, and runs are counted into `runs` (the type annotation breaks the cycle of `ctx` in its own
 * initializer):
 *
 * @example
 * const runs = newResilienceRuns();
 * await using ctx: ResilienceServer = await startTestServer(resilienceApi, {
 *   handlers: resilienceHandlers(() => ctx.server, runs),
 * });
 */
export function resilienceHandlers(
  server: () => Pick<ResilienceServer['server'], 'emit'>,
  runs: ResilienceRuns = newResilienceRuns(),
): Handlers<ResilienceApi, DefaultContext<ResilienceApi, undefined>> {
  const { started, finished } = runs;
  return {
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
      await server().emit('note', { text: input.text });
      return input.text;
    },
  };
}
