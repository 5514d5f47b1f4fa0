import { describe, expect, it, vi } from 'vitest';
import { createClient } from '@wirecall/client';
import { closing, mulberry32, nextState, recordingClientLogger, unusedPort } from '../helpers/chaos-kit.js';
import { startFaultProxy } from '../helpers/fault-proxy.js';
import { testApiOptions } from '../helpers/test-handlers.js';
import { testApi } from '../helpers/fixtures.js';
import { startTestServer } from '../helpers/test-server.js';

const reconnectFast = { minDelayMs: 5, maxDelayMs: 20 };

describe('where the client reconnects to', () => {
  it('a list: a failed attempt moves on to the next URL', async () => {
    await using ctx = await startTestServer(testApi, testApiOptions());
    const dead = `ws://127.0.0.1:${await unusedPort()}`;
    await using client = closing(
      createClient(testApi, {
        url: [dead, ctx.url],
        reconnect: reconnectFast,
        random: mulberry32(1),
        logger: recordingClientLogger(),
      }),
    );
    expect(await client.call.add({ a: 1, b: 2 })).toBe(3);
    expect(ctx.server.stats().connections).toBe(1);
  });

  it('a list: losing a node (1001) moves the client to the next one', async () => {
    const a = await startTestServer(testApi, testApiOptions());
    await using b = await startTestServer(testApi, testApiOptions());
    await using client = closing(
      createClient(testApi, {
        url: [a.url, b.url],
        reconnect: reconnectFast,
        random: mulberry32(2),
        logger: recordingClientLogger(),
      }),
    );
    await nextState(client, 'open');
    expect(a.server.stats().connections).toBe(1);
    const reopened = nextState(client, 'open');
    await a.server.close({ graceMs: 0 });
    await reopened;
    expect(b.server.stats().connections).toBe(1);
    expect(await client.call.add({ a: 2, b: 2 })).toBe(4);
  });

  it('a function: evaluated again on every connect', async () => {
    await using ctx = await startTestServer(testApi, testApiOptions());
    await using proxy = await startFaultProxy(ctx.port);
    let evaluations = 0;
    await using client = closing(
      createClient(testApi, {
        url: () => {
          evaluations++;
          return proxy.url;
        },
        reconnect: reconnectFast,
        random: mulberry32(3),
        logger: recordingClientLogger(),
      }),
    );
    await nextState(client, 'open');
    for (let cut = 0; cut < 3; cut++) {
      const reopened = nextState(client, 'open');
      proxy.resetAll();
      await reopened;
    }
    await vi.waitFor(() => expect(ctx.server.stats().connections).toBe(1), { timeout: 5_000, interval: 2 });
    expect(evaluations).toBe(proxy.accepted);
    expect(evaluations).toBeGreaterThanOrEqual(4);
  });
});
