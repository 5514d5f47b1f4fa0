import { describe, expect, it } from 'vitest';
import { connectClient, startTestServer } from '../helpers/test-server.js';

describe('smoke', () => {
  it('adds', async () => {
    await using ctx = await startTestServer();
    await using client = connectClient(ctx.url);
    expect(await client.call.add({ a: 1, b: 2 })).toBe(3);
  });
});
