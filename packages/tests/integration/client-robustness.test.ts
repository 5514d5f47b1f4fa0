import type { StateChange } from '@wirecall/client';
import { defineContract } from '@wirecall/core';
import type { ConnectionInfo } from '@wirecall/server';
import { describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { nextState, outcomeOf, recordingClientLogger } from '../helpers/chaos-kit.js';
import { rejectionOf } from '../helpers/rejection.js';
import { fastReconnect } from '../security/helpers.js';
import { connectClient, startTestServer } from '../helpers/test-server.js';

const api = defineContract({
  procedures: {
    /** Ignores its abort signal: a cancelled call's handler runs on for `ms`. */
    stubborn: { input: z.object({ tag: z.string(), ms: z.number() }), output: z.string() },
    echo: { input: z.string(), output: z.string() },
  },
  events: {},
});

/** A server whose `stubborn` handler records each run and ignores cancellation. */
async function stubbornServer(maxInFlightCalls: number) {
  const runs: string[] = [];
  const connections: ConnectionInfo[] = [];
  const served = await startTestServer(api, {
    limits: { maxInFlightCalls },
    hooks: { onConnection: (connection) => connections.push(connection) },
    handlers: {
      stubborn: async ({ input }) => {
        runs.push(input.tag);
        await new Promise((resolve) => setTimeout(resolve, input.ms));
        return input.tag;
      },
      echo: ({ input }) => input,
    },
  });
  return Object.assign(served, { runs, connections });
}

/**
 * Makes every error the client reports visible to the test, whichever way it goes: through the
 * client's logger, or (while createClient does not hand the connection manager its logger) through
 * the connection manager's default, console.error, which would otherwise fail the test.
 */
function reportedErrors() {
  const logger = recordingClientLogger();
  const printed = vi.spyOn(console, 'error').mockImplementation(() => {});
  return {
    logger,
    all: (): unknown[] => [
      ...logger.entries
        .filter((entry) => entry.level === 'error')
        .map((entry) => (entry.details as { err?: unknown }).err ?? entry.details),
      ...printed.mock.calls.flatMap((args): unknown[] => args),
    ],
    [Symbol.dispose]: () => printed.mockRestore(),
  };
}

describe('client robustness', () => {
  describe('a throwing onStateChange listener', () => {
    it('does not stop the client from reconnecting after the server drops it', async () => {
      await using ctx = await stubbornServer(4);
      using reports = reportedErrors();
      const boom = new Error('listener bug');
      await using client = connectClient(api, ctx.url, { reconnect: fastReconnect, logger: reports.logger });
      const seen: StateChange['state'][] = [];
      client.onStateChange(() => {
        throw boom;
      });
      client.onStateChange((change) => seen.push(change.state)); // a listener after the throwing one
      expect(await client.call.echo('before')).toBe('before');

      const reopened = nextState(client, 'open');
      ctx.connections[0]!.close(1011, 'server hiccup');
      await reopened;

      expect(await client.call.echo('after')).toBe('after');
      expect(ctx.connections).toHaveLength(2);
      expect(seen).toEqual(['open', 'reconnecting', 'open']);
      expect(reports.all()).toContain(boom);
    });

    it('does not stop the calls queued before the first welcome from being sent', async () => {
      await using ctx = await stubbornServer(4);
      using reports = reportedErrors();
      await using client = connectClient(api, ctx.url, { logger: reports.logger });
      client.onStateChange(() => {
        throw new Error('listener bug');
      });
      // Made while connecting: it waits for the welcome, whose state change throws.
      expect(await client.call.echo('queued')).toBe('queued');
      expect(client.state).toBe('open');
      expect(reports.all().length).toBeGreaterThan(0);
    });
  });

  describe('calls right after cancelled calls (handlers still winding down on the server)', () => {
    it('sends calls refused for the in-flight limit again instead of failing them with RATE_LIMITED', async () => {
      await using ctx = await stubbornServer(2);
      await using client = connectClient(api, ctx.url);
      expect(await client.call.echo('warm')).toBe('warm');

      // Two rounds of two cancelled calls: their four handlers run on for ~300 ms, which fills the
      // server's bound on running handlers (2 × maxInFlightCalls), though no call is in flight.
      for (const round of [1, 2]) {
        const controllers = [new AbortController(), new AbortController()];
        const cancelled = controllers.map((controller, index) =>
          rejectionOf(
            client.call.stubborn({ tag: `cancelled-${round}-${index}`, ms: 300 }, { signal: controller.signal }),
          ),
        );
        await vi.waitFor(() => expect(ctx.runs).toHaveLength(2 * round));
        for (const controller of controllers) controller.abort();
        expect((await Promise.all(cancelled)).map((error) => error.code)).toEqual(['CANCELLED', 'CANCELLED']);
      }

      const tags = ['next-0', 'next-1', 'next-2', 'next-3'];
      const outcomes = await Promise.all(tags.map((tag) => outcomeOf(client.call.stubborn({ tag, ms: 10 }))));

      expect(outcomes.map((outcome) => (outcome.ok ? outcome.value : outcome.code))).toEqual(tags);
      // Refused calls never ran there: each ran exactly once, when it was taken.
      expect(ctx.runs.filter((tag) => tag.startsWith('next')).toSorted()).toEqual(tags);
      expect(client.pending.calls).toBe(0);
    });

    it('gives up with RATE_LIMITED within the call’s own timeout when the server stays full', async () => {
      await using ctx = await stubbornServer(1);
      await using client = connectClient(api, ctx.url);
      expect(await client.call.echo('warm')).toBe('warm');
      // Two handlers that outlive the test's calls fill the bound of 2 × 1 running handlers.
      for (const index of [0, 1]) {
        const controller = new AbortController();
        const cancelled = rejectionOf(
          client.call.stubborn({ tag: `long-${index}`, ms: 2_000 }, { signal: controller.signal }),
        );
        await vi.waitFor(() => expect(ctx.runs).toHaveLength(index + 1));
        controller.abort();
        expect((await cancelled).code).toBe('CANCELLED');
      }

      const startedAt = Date.now();
      // Sent again after 25, 50 and 100 ms; the next wait (200 ms) would pass its deadline.
      const error = await rejectionOf(client.call.echo('refused', { timeoutMs: 300 }));

      expect(error.code).toBe('RATE_LIMITED');
      expect(error.data).toEqual({ maxInFlightCalls: 1 });
      expect(Date.now() - startedAt).toBeLessThan(300);
      expect(ctx.server.stats().errors).toEqual({ RATE_LIMITED: 4 });
      expect(client.pending.calls).toBe(0);
    });
  });
});
