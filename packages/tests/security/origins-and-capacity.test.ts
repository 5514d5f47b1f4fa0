import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { RawClient } from '../helpers/raw-client.js';
import { startTestServer } from '../helpers/test-server.js';
import { tryUpgrade, upgradeStatus, type UpgradeOutcome } from './helpers.js';
import { testApiOptions, type TestApiServer } from '../helpers/test-handlers.js';
import { testApi } from '../helpers/fixtures.js';

/** Failures that escaped the server into the process while a test ran. */
let escaped: unknown[] = [];
const recordEscape = (reason: unknown): void => {
  escaped.push(reason);
};
beforeEach(() => {
  escaped = [];
  process.on('unhandledRejection', recordEscape);
  process.on('uncaughtException', recordEscape);
});
afterEach(() => {
  process.off('unhandledRejection', recordEscape);
  process.off('uncaughtException', recordEscape);
});

function summary(outcome: UpgradeOutcome): { status: number; body: string; opened: boolean } {
  return { status: outcome.status, body: outcome.body, opened: outcome.opened };
}

const OPENED = { status: 101, body: '', opened: true };
const FORBIDDEN_ORIGIN = { status: 403, body: 'origin not allowed\n', opened: false };
const TOO_MANY = { status: 503, body: 'too many connections\n', opened: false };

describe('allowedOrigins (cross-site WebSocket hijacking)', () => {
  it('a list answers 403 to other origins and accepts the listed one and requests without Origin', async () => {
    await using ctx = await startTestServer(testApi, { ...testApiOptions(), allowedOrigins: ['https://app.example'] });

    for (const origin of [
      'https://evil.example',
      'http://app.example',
      'https://app.example.evil.example',
      'https://app.example:8443',
      'null',
    ]) {
      await using refused = await tryUpgrade(ctx.url, { origin });
      expect({ origin, ...summary(refused) }).toEqual({ origin, ...FORBIDDEN_ORIGIN });
    }
    expect(ctx.server.stats().connections).toBe(0);

    await using allowed = await tryUpgrade(ctx.url, { origin: 'https://app.example' });
    await using withoutOrigin = await tryUpgrade(ctx.url);
    expect(summary(allowed)).toEqual(OPENED);
    expect(summary(withoutOrigin)).toEqual(OPENED);
    await vi.waitFor(() => expect(ctx.server.stats().connections).toBe(2));
  });

  it('a predicate decides per origin and sees the Origin header as sent', async () => {
    const asked: string[] = [];
    await using ctx = await startTestServer(testApi, {
      ...testApiOptions(),
      allowedOrigins: (origin) => {
        asked.push(origin);
        return origin.startsWith('https://') && origin.endsWith('.app.example');
      },
    });

    await using tenant = await tryUpgrade(ctx.url, { origin: 'https://tenant-1.app.example' });
    await using other = await tryUpgrade(ctx.url, { origin: 'https://app.example.evil.example' });
    await using plain = await tryUpgrade(ctx.url, { origin: 'http://tenant-1.app.example' });
    await using withoutOrigin = await tryUpgrade(ctx.url);

    expect(summary(tenant)).toEqual(OPENED);
    expect(summary(other)).toEqual(FORBIDDEN_ORIGIN);
    expect(summary(plain)).toEqual(FORBIDDEN_ORIGIN);
    expect(summary(withoutOrigin)).toEqual(OPENED);
    // Requests without an Origin are not even shown to the predicate.
    expect(asked).toEqual([
      'https://tenant-1.app.example',
      'https://app.example.evil.example',
      'http://tenant-1.app.example',
    ]);
  });

  it('a predicate that throws on a malformed Origin refuses it instead of taking the process down', async () => {
    // A natural predicate: `new URL('null')` throws, and browsers send `Origin: null` from sandboxed
    // iframes and file:// pages, so any peer can trigger the throw.
    await using ctx = await startTestServer(testApi, {
      ...testApiOptions(),
      allowedOrigins: (origin) => new URL(origin).hostname === 'app.example',
    });

    const outcome = await tryUpgrade(ctx.url, { origin: 'null', timeoutMs: 2_000 }).then(
      (answered) => summary(answered),
      (error: unknown) => ({ failed: String(error) }),
    );

    expect({ outcome, escaped: escaped.map(String) }).toEqual({
      outcome: { status: 403, body: expect.any(String) as string, opened: false },
      escaped: [],
    });
    await using allowed = await tryUpgrade(ctx.url, { origin: 'https://app.example' });
    expect(summary(allowed)).toEqual(OPENED);
  });
});

describe('maxConnections (connection floods)', () => {
  /** Opens `count` greeted raw connections. */
  async function open(ctx: TestApiServer, count: number): Promise<RawClient[]> {
    const clients: RawClient[] = [];
    for (let i = 0; i < count; i++) clients.push(await RawClient.greeted(ctx.url));
    return clients;
  }

  async function closeAll(clients: RawClient[]): Promise<void> {
    await Promise.all(clients.map((client) => client[Symbol.asyncDispose]()));
  }

  it.each<[string, { total?: number; perIp?: number }, number]>([
    ['total: 3', { total: 3 }, 3],
    ['perIp: 2', { perIp: 2 }, 2],
  ])('%s answers 503 past the limit and accepts again once one closes', async (_label, maxConnections, limit) => {
    await using ctx = await startTestServer(testApi, { ...testApiOptions(), maxConnections });
    const clients = await open(ctx, limit);
    try {
      for (let i = 0; i < 3; i++) {
        await using refused = await tryUpgrade(ctx.url);
        expect(summary(refused)).toEqual(TOO_MANY);
      }
      expect(ctx.server.stats().connections).toBe(limit);
      for (const client of clients) await client.barrier(); // the open ones are unaffected

      await clients.shift()![Symbol.asyncDispose]();
      await vi.waitFor(() => expect(ctx.server.stats().connections).toBe(limit - 1));

      const again = await RawClient.greeted(ctx.url);
      clients.push(again);
      await again.barrier();
      await using refusedAgain = await tryUpgrade(ctx.url);
      expect(summary(refusedAgain)).toEqual(TOO_MANY);
    } finally {
      await closeAll(clients);
    }
    // Refused upgrades left nothing counted behind: the full quota is available again.
    await vi.waitFor(() => expect(ctx.server.stats().connections).toBe(0));
    await closeAll(await open(ctx, limit));
  });

  it.each<[string, Record<string, string | undefined>]>([
    ['a malformed Sec-WebSocket-Key', { 'Sec-WebSocket-Key': 'not-a-key' }],
    ['no Sec-WebSocket-Key', { 'Sec-WebSocket-Key': undefined }],
    ['an unsupported Sec-WebSocket-Version', { 'Sec-WebSocket-Version': '7' }],
  ])('upgrades refused for %s do not use up the per-IP quota', async (_label, headers) => {
    await using ctx = await startTestServer(testApi, { ...testApiOptions(), maxConnections: { perIp: 2 } });

    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) statuses.push(await upgradeStatus(ctx.port, headers));
    // ws refuses each one itself (400); none may count as a connection of this IP (503 would say so).
    expect(statuses).toEqual([400, 400, 400, 400, 400]);

    // The quota is intact: two connections from this IP are still welcome.
    const clients = [await RawClient.greeted(ctx.url), await RawClient.greeted(ctx.url)];
    try {
      for (const client of clients) await client.barrier();
    } finally {
      await Promise.all(clients.map((client) => client[Symbol.asyncDispose]()));
    }
  });

  it.each<[string, { total?: number; perIp?: number }]>([
    ['perIp: 3', { perIp: 3 }],
    ['total: 3', { total: 3, perIp: 100 }],
  ])(
    '%s holds against a burst of concurrent upgrades while authenticate is pending',
    async (_label, maxConnections) => {
      // authenticate is async (a session lookup): upgrades overlap while it runs, and none may slip past.
      let release!: () => void;
      const gate = new Promise<void>((resolve) => (release = resolve));
      let pending = 0;
      await using ctx = await startTestServer(testApi, {
        ...testApiOptions(),
        maxConnections,
        authenticate: async () => {
          pending++;
          await gate;
          return undefined;
        },
      });

      const answered: number[] = [];
      const attempts = Array.from({ length: 8 }, () =>
        tryUpgrade(ctx.url).then((outcome) => {
          answered.push(outcome.status);
          return outcome;
        }),
      );
      // Every upgrade has been either refused at once or is waiting in authenticate.
      await vi.waitFor(() => expect(answered.filter((status) => status === 503).length + pending).toBe(8));
      release();
      const outcomes = await Promise.all(attempts);
      try {
        const statuses = outcomes.map((outcome) => outcome.status).sort();
        expect(statuses).toEqual([101, 101, 101, 503, 503, 503, 503, 503]);
        await vi.waitFor(() => expect(ctx.server.stats().connections).toBe(3));
      } finally {
        await Promise.all(outcomes.map((outcome) => outcome[Symbol.asyncDispose]()));
      }
    },
  );
});
