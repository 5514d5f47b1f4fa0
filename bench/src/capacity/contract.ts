/**
 * The contract of the capacity run: one event stream every connection follows (`tick`, no params,
 * so all connections share one stream key and one Redis channel) and one trivial procedure, called
 * once per client process to show calls still work at full load.
 */
import { defineContract } from '@wirecall/core';
import { z } from 'zod';

export const capacityApi = defineContract({
  procedures: {
    echo: { input: z.object({ n: z.number() }), output: z.number() },
  },
  events: {
    // `sentAt` is the emitter's Date.now(): every process of the run is on this machine, so one
    // wall clock serves all of them and a receiver's latency is Date.now() - sentAt.
    tick: { payload: z.object({ seq: z.number(), sentAt: z.number() }) },
  },
});

/** Fails when `@wirecall/*` resolve to workspace sources: the run measures the built packages. */
export function assertBuiltPackages(names: readonly string[]): void {
  for (const name of names) {
    const resolved = import.meta.resolve(name);
    if (!resolved.includes('/dist/')) {
      throw new Error(
        `${name} resolves to ${resolved}, not its dist: run \`npm run build\`, without source conditions`,
      );
    }
  }
}
