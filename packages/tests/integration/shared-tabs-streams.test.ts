/* eslint-disable @typescript-eslint/require-await -- the producers here need no await */
import { MessageChannel } from 'node:worker_threads';
import { createClient, type PortLike } from '@wirecall/client';
import { sharedTabs } from '@wirecall/client/shared-tabs';
import { streams } from '@wirecall/client/streams';
import { defineContract, PROTOCOL } from '@wirecall/core';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { z } from 'zod';
// The worker's hub is no public export: the tests run it from its module.
import { TabHub } from '../../client/src/shared-tabs/hub.js';
import type { UpstreamSocket } from '../../client/src/shared-tabs/upstream.js';
import { quietClientLogger, startTestServer } from '../helpers/test-server.js';

/** Streaming calls of several tabs over the shared worker's one socket (the hub in this process). */
const api = defineContract({
  procedures: {
    count: { input: z.object({ to: z.number() }), stream: z.number(), output: z.number() },
    sum: { input: z.object({}), inputStream: z.number(), output: z.number() },
  },
});

describe('streaming calls through the shared-tabs hub', () => {
  const cleanups: (() => unknown)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  it('carries each tab’s streams and uploads on one connection, under each tab’s own ids', async () => {
    const ctx = await startTestServer(api, {
      limits: { maxStreams: 2 },
      handlers: {
        count: async function* ({ input }) {
          for (let n = 1; n <= input.to; n++) yield n;
          return input.to;
        },
        sum: async ({ inputStream }) => {
          let total = 0;
          for await (const n of inputStream) total += n;
          return total;
        },
      },
    });
    cleanups.push(() => ctx[Symbol.asyncDispose]());
    const hub = new TabHub((url) => new WebSocket(url, PROTOCOL) as unknown as UpstreamSocket);
    cleanups.push(() => hub.close());
    const tabs = [0, 1, 2].map(() => {
      const { port1, port2 } = new MessageChannel();
      hub.connect(port2 as unknown as PortLike);
      const tab = createClient(api, {
        url: ctx.url,
        streams,
        logger: quietClientLogger,
        shareAcrossTabs: sharedTabs({ worker: () => ({ port: port1 as unknown as PortLike }) }),
      });
      cleanups.push(
        () => port1.close(),
        () => port2.close(),
        () => tab.close(),
      );
      return tab;
    });

    // Six streams from three tabs against a server limit of two: the worker queues the rest.
    const results = await Promise.all(
      tabs.flatMap((tab, t) =>
        [1, 2].map(async (k) => {
          const stream = tab.call.count({ to: 10 * t + k }, { window: 4 });
          const items: number[] = [];
          for await (const n of stream) items.push(n);
          return { items, final: await stream.result };
        }),
      ),
    );
    results.forEach(({ items, final }, index) => {
      const to = 10 * Math.floor(index / 2) + (index % 2) + 1;
      expect(items).toEqual(Array.from({ length: to }, (_unused, i) => i + 1));
      expect(final).toBe(to);
    });
    const sums = await Promise.all(
      tabs.map((tab, t) =>
        tab.call.sum(
          {},
          Array.from({ length: 40 }, () => t + 1),
        ),
      ),
    );
    expect(sums).toEqual([40, 80, 120]);
    expect(ctx.server.stats().connections).toBe(1);
  });
});
