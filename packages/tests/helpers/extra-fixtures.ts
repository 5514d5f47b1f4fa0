import { z } from 'zod';
import { defineContract } from '@wirecall/core';
import type { DefaultContext, Handlers } from '@wirecall/server';
import { testApi } from './fixtures.js';

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

/**
 * The handler of {@link idempotentApi}: `holdIdempotent` runs until its signal aborts and records
 * the abort reason in `aborts` by key. `startTestServer(idempotentApi, { handlers: idempotentHandlers(aborts) })`.
 */
export function idempotentHandlers(
  aborts: Map<string, unknown>,
): Handlers<IdempotentApi, DefaultContext<IdempotentApi, undefined>> {
  return {
    holdIdempotent: ({ input, signal }) =>
      new Promise<string>((_resolve, reject) => {
        signal.addEventListener('abort', () => {
          aborts.set(input.key, signal.reason);
          reject(signal.reason as Error);
        });
      }),
  };
}
