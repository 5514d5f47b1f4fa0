import { describe, expect, it } from 'vitest';
import { measureClientSize } from '../../../scripts/client-size.mjs';

/**
 * Guards against growth, a little above today's figures: the client's own code (7.8 KB since it
 * checks what it sends, carries the hooks of streaming calls, measures round trips, sends messages
 * and sends again calls refused for the in-flight limit), and with the core it uses (11.1 KB,
 * binary frames included). A fix never waits on these: the budget that matters is the anchors'. Streaming calls
 * themselves live in `@wirecall/client/streams` and are not counted.
 */
const CLIENT_BUDGET = 8 * 1024;
const CLIENT_WITH_CORE_BUDGET = 11.4 * 1024;

describe('browser bundle size of createClient', () => {
  it('keeps the client within its budget', async () => {
    const size = await measureClientSize();
    expect(size.client, 'the client’s own code (min+gz bytes)').toBeLessThanOrEqual(CLIENT_BUDGET);
    expect(size.clientWithCore, 'client + the core it uses (min+gz bytes)').toBeLessThanOrEqual(
      CLIENT_WITH_CORE_BUDGET,
    );
    // The anchors' WebSocket clients, measured the same way: wirecall's own code stays below tRPC's
    // wsLink client (8.7 KB, which checks nothing it sends and has no binary frames), and with its
    // core below Socket.IO's.
    expect(size.client, 'client against tRPC client').toBeLessThan(size.trpcClient);
    expect(size.clientWithCore, 'client + core against socket.io-client').toBeLessThan(size.socketIoClient);
    expect(size.trpcClient).toBeGreaterThan(1_000);
    // The dependencies are measured too, so a broken measurement cannot pass as a small one.
    expect(size.superjson).toBeGreaterThan(1_000);
    expect(size.client).toBeGreaterThan(1_000);
  }, 60_000);
});
