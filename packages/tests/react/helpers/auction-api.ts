/**
 * The contract of the @wirecall/react tests: an auction house. A group (`auctions`) with a query
 * (`get`), a mutation with a declared error (`bid`, `OUTBID`), an event that carries an auction's
 * new state (`auctions.changed`, params `{ id }`), an event without params (`tick`), a room with
 * presence (`room`), a streaming procedure (`countdown`), and a call that waits for its cancel
 * (`hang`). The harness page bundles it, so it imports no server code: `auctionHandlers()`
 * (auction-handlers.ts) serves it.
 */
import { defineContract } from '@wirecall/core';
import { z } from 'zod';

export const Auction = z.object({
  id: z.string(),
  title: z.string(),
  highest: z.number(),
  bidder: z.string().nullable(),
  endsAt: z.date(),
});
export type Auction = z.infer<typeof Auction>;

export const auctionsApi = defineContract({
  procedures: {
    get: { input: z.object({ id: z.string() }), output: Auction, idempotent: true },
    list: {
      input: z.object({ ids: z.set(z.string()).optional(), since: z.bigint().optional() }),
      output: z.array(Auction),
    },
    bid: {
      input: z.object({ id: z.string(), amount: z.number().int().positive(), bidder: z.string() }),
      output: Auction,
      errors: { OUTBID: z.object({ highest: z.number() }) },
    },
  },
  events: {
    changed: { payload: Auction, params: z.object({ id: z.string() }) },
  },
});

export const auctionApi = defineContract({
  procedures: {
    /** Counts down from `from`, one number every `everyMs`; the final value says how it ended. */
    countdown: {
      input: z.object({ from: z.number().int().min(0).max(1_000), everyMs: z.number().int().min(0).default(20) }),
      stream: z.number(),
      output: z.string(),
    },
    /** Never answers: resolves only through its signal (a query that is cancelled). */
    hang: { input: z.object({ key: z.string() }), output: z.string() },
    /** How often `auctions.get` ran for an id (fetch counts seen by the server). */
    fetches: { input: z.object({ id: z.string() }), output: z.number() },
    upload: { input: z.object({ name: z.string() }), inputStream: z.string(), output: z.number() },
  },
  events: {
    tick: { payload: z.object({ seq: z.number() }) },
    room: {
      payload: z.object({ text: z.string() }),
      params: z.object({ room: z.string() }),
      presence: z.object({ name: z.string(), typing: z.boolean().default(false) }),
    },
  },
  groups: { auctions: auctionsApi },
});
export type AuctionApi = typeof auctionApi;
