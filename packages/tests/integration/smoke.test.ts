import { describe, expect, it } from 'vitest';
import { connectClient, startTestServer } from '../helpers/test-server.js';
import { testApiOptions } from '../helpers/test-handlers.js';
import { testApi } from '../helpers/fixtures.js';

describe('smoke', () => {
  it('adds', async () => {
    await using ctx = await startTestServer(testApi, testApiOptions());
    await using client = connectClient(testApi, ctx.url);
    expect(await client.call.add({ a: 1, b: 2 })).toBe(3);
  });
});
