import { describe, expect, it } from 'vitest';
import { mulberry32 as seededRandom } from '../helpers/chaos-kit.js';
import { RawClient } from '../helpers/raw-client.js';
import { connectClient, startTestServer } from '../helpers/test-server.js';
import { testApiOptions } from '../helpers/test-handlers.js';
import { testApi } from '../helpers/fixtures.js';

describe('calls', () => {
  it('settles 1,000 concurrent calls on one connection, each with its own result, whatever order they finish in', async () => {
    await using ctx = await startTestServer(testApi, testApiOptions());
    await using client = connectClient(testApi, ctx.url);
    await client.call.add({ a: 0, b: 0 }); // open: all 1,000 go straight onto the socket
    const random = seededRandom(0xc0ffee);
    const finished: string[] = [];
    const calls = Array.from({ length: 1_000 }, (_, index) => {
      const tag = `call-${index}`;
      if (index % 2 === 0) {
        const ms = Math.floor(random() * 31);
        return client.call.sleep({ ms, tag }).then((result) => {
          finished.push(tag);
          return result;
        });
      }
      return client.call.echo({ tag, nested: [index, { index }] }).then((result) => {
        finished.push(tag);
        return (result as { tag: string; nested: [number, { index: number }] }).tag;
      });
    });

    const results = await Promise.all(calls);

    expect(results).toEqual(Array.from({ length: 1_000 }, (_, index) => `call-${index}`));
    // The handlers really did finish out of order, so correlation (not ordering) matched them up.
    expect(finished).not.toEqual(results);
    expect(new Set(finished).size).toBe(1_000);
    expect(client.pending.calls).toBe(0);
    expect(ctx.server.stats().inFlightCalls).toBe(0);
  });

  it('returns each echo its own deep value when many run at once', async () => {
    await using ctx = await startTestServer(testApi, testApiOptions());
    await using client = connectClient(testApi, ctx.url);
    const inputs = Array.from({ length: 200 }, (_, index) => ({
      index,
      list: Array.from({ length: index % 7 }, String),
    }));

    const outputs = await Promise.all(inputs.map((input) => client.call.echo(input)));

    expect(outputs).toEqual(inputs);
  });

  it('takes a deadline longer than a timer can hold, or none at all (Infinity)', async () => {
    await using ctx = await startTestServer(testApi, testApiOptions());
    await using client = connectClient(testApi, ctx.url);
    expect(await client.call.add({ a: 1, b: 2 }, { timeoutMs: Infinity })).toBe(3);
    expect(await client.call.add({ a: 2, b: 2 }, { timeoutMs: 2 ** 40 })).toBe(4);
    expect(client.state).toBe('open');
  });

  it('keeps calls of two clients apart even when they use the same ids', async () => {
    await using ctx = await startTestServer(testApi, testApiOptions());
    await using first = connectClient(testApi, ctx.url);
    await using second = connectClient(testApi, ctx.url);

    // Both clients number their calls from 1, so the server sees the same ids on both sockets.
    const [a, b] = await Promise.all([
      Promise.all(Array.from({ length: 50 }, (_, i) => first.call.add({ a: i, b: 1_000 }))),
      Promise.all(Array.from({ length: 50 }, (_, i) => second.call.add({ a: i, b: 2_000 }))),
    ]);

    expect(a).toEqual(Array.from({ length: 50 }, (_, i) => i + 1_000));
    expect(b).toEqual(Array.from({ length: 50 }, (_, i) => i + 2_000));
  });

  it('answers a raw call frame with a result frame carrying the same id (number or string)', async () => {
    await using ctx = await startTestServer(testApi, testApiOptions());
    await using raw = await RawClient.greeted(ctx.url);

    const numeric = await raw.request({ t: 'call', id: 41, p: 'add', v: { a: 40, b: 2 } });
    const textual = await raw.request({ t: 'call', id: 'req-7', p: 'add', v: { a: 1, b: 1 } });

    expect(numeric).toEqual({ t: 'result', id: 41, v: 42 });
    expect(textual).toEqual({ t: 'result', id: 'req-7', v: 2 });
  });

  it('queues calls made before the connection opens and sends them once it does', async () => {
    await using ctx = await startTestServer(testApi, testApiOptions());
    await using client = connectClient(testApi, ctx.url);
    expect(client.state).toBe('connecting');

    const results = await Promise.all([client.call.add({ a: 1, b: 2 }), client.call.getUser({ id: 'u1' })]);

    expect(results[0]).toBe(3);
    expect(results[1]).toEqual({ id: 'u1', name: 'user u1', createdAt: new Date(Date.UTC(2020, 0, 1)) });
    expect(client.state).toBe('open');
  });
});
