import { describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { defineContract } from '@wirecall/core';
import { createServer, silentLogger } from '@wirecall/server';
import { redisBroker } from '@wirecall/server/redis';
import { createClient } from '@wirecall/client';

const api = defineContract({
  procedures: { ping: { input: z.null(), output: z.string() } },
  events: { tick: { payload: z.object({ seq: z.number() }), params: z.object({ room: z.string() }) } },
});

describe('redis broker smoke', () => {
  it('fans out across two nodes', async () => {
    const prefix = `smoke-${Date.now()}`;
    const nodes = await Promise.all(
      [0, 1].map(async () => {
        const broker = redisBroker({ prefix });
        await broker.ready();
        const server = createServer(api, { handlers: { ping: () => 'pong' }, broker, logger: silentLogger });
        const { url } = await server.listen({ port: 0 });
        return { server, url, broker };
      }),
    );
    const got: number[] = [];
    const client = createClient(api, { url: nodes[1]!.url, logger: { warn: () => {}, error: () => {} } });
    client.on('tick', { room: 'a' }, (t) => got.push(t.seq));
    expect(await client.call.ping(null)).toBe('pong');
    await vi.waitFor(async () => {
      await nodes[0]!.server.emit('tick', { seq: 0 }, { params: { room: 'a' } });
      expect(got.length).toBeGreaterThan(0);
    });
    for (let seq = 1; seq <= 20; seq++) await nodes[0]!.server.emit('tick', { seq }, { params: { room: 'a' } });
    await vi.waitFor(() => expect(got.at(-1)).toBe(20));
    await client.close();
    for (const node of nodes) {
      await node.server.close({ graceMs: 0 });
      await node.broker.close();
    }
  });
});
