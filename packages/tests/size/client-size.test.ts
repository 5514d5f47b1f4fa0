import { describe, expect, it } from 'vitest';
import { measureClientSize } from '../../../scripts/client-size.mjs';

/**
 * The client's own code, minified and gzipped: a guard against growth, a little above today's
 * figure (6.3 KB since the client prepares and checks what it sends against the contract).
 */
const CLIENT_BUDGET = 6.5 * 1024;

describe('browser bundle size of createClient', () => {
  it('keeps the client within its budget', async () => {
    const size = await measureClientSize();
    expect(size.client, 'the client’s own code (min+gz bytes)').toBeLessThanOrEqual(CLIENT_BUDGET);
    // The budget that matters: below every anchor's WebSocket client, measured the same way.
    expect(size.clientWithCore, 'client + core against tRPC’s wsLink client').toBeLessThan(size.trpcClient);
    expect(size.clientWithCore, 'client + core against socket.io-client').toBeLessThan(size.socketIoClient);
    // The dependencies are measured too, so a broken measurement cannot pass as a small one.
    expect(size.superjson).toBeGreaterThan(1_000);
    expect(size.client).toBeGreaterThan(1_000);
  }, 60_000);
});
