import { describe, expect, it } from 'vitest';
import { measureClientSize } from '../../../scripts/client-size.mjs';

/** Issue 6: the client's own code, minified and gzipped, stays within 6 KB. */
const CLIENT_BUDGET = 6 * 1024;
/** With the parts of @wirecall/core it uses: a guard against growth, a little above today's figure. */
const CLIENT_WITH_CORE_BUDGET = 7_700;

describe('browser bundle size of createClient', () => {
  it('keeps the client within its budget', async () => {
    const size = await measureClientSize();
    expect(size.client, 'the client’s own code (min+gz bytes)').toBeLessThanOrEqual(CLIENT_BUDGET);
    expect(size.clientWithCore, 'client + the core it uses (min+gz bytes)').toBeLessThanOrEqual(
      CLIENT_WITH_CORE_BUDGET,
    );
    // The dependencies are measured too, so a broken measurement cannot pass as a small one.
    expect(size.superjson).toBeGreaterThan(1_000);
    expect(size.client).toBeGreaterThan(1_000);
  }, 60_000);
});
