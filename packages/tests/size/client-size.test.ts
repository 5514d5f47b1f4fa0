import { describe, expect, it } from 'vitest';
import {
  ANCHORS,
  bundle,
  CLIENT_ENTRY,
  FEATURES,
  measureClientSize,
  THIRD_PARTY,
} from '../../../scripts/client-size.mjs';

/**
 * The goal: what `createClient` with calls and events adds to a browser bundle, client and core
 * together (min+gz), below every anchor's client measured the same way (tRPC's WebSocket client,
 * Phoenix's Socket + Channel + Presence, socket.io-client). Today the client's own code is below
 * all three; client + core, which since #17 includes the value codec that replaced superjson
 * (Date, Map, Set, BigInt and bytes need nothing more), is below socket.io-client and below tRPC's
 * client with the superjson transformer it needs for the same values, and about 2.6 KB above tRPC's
 * and 3.0 KB above Phoenix's bare clients (neither carries more than JSON). It pays for the contract
 * checks of what the client sends and receives, typed values, typed errors, and its request and
 * connection managers. This guards what holds, and growth: client + core stays within 11.5 KB. The
 * optional features live in their own entry points and count only for the apps that import them;
 * the second test checks that the others ship none of their code (nor a worker), and that a
 * browser bundle holds none of what the client does on Node's `ws` only.
 */
const CLIENT_WITH_CORE_BUDGET = 11.5 * 1024;

describe('browser bundle size of createClient', () => {
  it('keeps the client’s own code below every anchor’s client, and client + core within its budget', async () => {
    const size = await measureClientSize();
    for (const [anchor, name] of Object.entries(ANCHORS)) {
      const anchorSize = size[anchor as keyof typeof ANCHORS];
      // The anchors are measured too, so a broken measurement cannot pass as a small one.
      expect(anchorSize, name).toBeGreaterThan(1_000);
      expect(size.client, `the client’s own code (min+gz bytes) against ${name}`).toBeLessThan(anchorSize);
    }
    expect(size.clientWithCore, 'client + core against socket.io-client').toBeLessThan(size.socketIoClient);
    expect(size.clientWithCore, 'client + core (min+gz bytes)').toBeLessThanOrEqual(CLIENT_WITH_CORE_BUDGET);
    expect(size.client).toBeGreaterThan(1_000);
    expect(size.clientWithCore).toBeGreaterThan(size.client);
    expect(size.clientWithCore, 'client + core against tRPC with superjson').toBeLessThan(size.trpcClientWithSuperjson);
    for (const feature of ['streams', 'binary', 'presence', 'messages', 'sharedTabs', 'react'] as const) {
      expect(size[feature], `what ${feature} adds`).toBeGreaterThan(100);
    }
  }, 60_000);

  it('leaves out of the bundle the features an app does not import', async () => {
    const alone = await bundle(CLIENT_ENTRY, THIRD_PARTY);
    for (const [name, feature] of Object.entries(FEATURES)) {
      const ownModules = (modules: string[]): string[] =>
        modules.filter((module) => module.startsWith(feature.folder) && !feature.hooks?.includes(module));
      expect(ownModules(alone.modules), `${name} modules in createClient alone`).toEqual([]);
      expect(alone.text.includes(feature.marker), `${name} code in createClient alone`).toBe(false);
      // The same checks find the feature where an app imports it: they cannot pass for nothing.
      const used = await bundle(`${CLIENT_ENTRY}\n${feature.entry}`, [...THIRD_PARTY, ...(feature.external ?? [])]);
      expect(ownModules(used.modules)).not.toEqual([]);
      expect(used.text.includes(feature.marker), `${name} code where it is used`).toBe(true);
    }
    // No reference to the shared worker: Vite and webpack 5 build no worker for an app without it.
    expect(alone.text).not.toContain('SharedWorker');
    // Node's socket tuning (corked bursts, HTTP statuses of refused upgrades) stays in Node.
    expect(alone.text).not.toContain('Unexpected server response');
    expect(alone.text).not.toContain('uncork');
  }, 60_000);
});
