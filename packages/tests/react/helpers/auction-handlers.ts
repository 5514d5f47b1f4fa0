/**
 * The auction contract's handlers, from memory, recording what a test checks on the server: which
 * calls were cancelled, how each stream's generator ended, how often an auction was fetched.
 */
import { WirecallError, type DefaultContext, type Handlers } from '@wirecall/server';
import type { Auction, AuctionApi } from './auction-api.js';

/** What the server saw, for assertions about cancellations and streams. */
export interface AuctionRecord {
  /** Keys of `hang` calls whose signal aborted. */
  hangAborted: string[];
  /** Keys of `hang` calls started. */
  hangStarted: string[];
  /** How each `countdown` generator ended: `done`, or `stopped at <n>` (its `finally` ran early). */
  countdowns: string[];
  /** `auctions.get` calls per id. */
  gets: Map<string, number>;
}

export interface AuctionState {
  auctions: Map<string, Auction>;
  record: AuctionRecord;
}

export function auctionState(): AuctionState {
  const endsAt = new Date('2030-01-01T00:00:00.000Z');
  return {
    auctions: new Map(
      ['a1', 'a2', 'a3'].map((id, index) => [
        id,
        { id, title: `Lot ${index + 1}`, highest: 10 * (index + 1), bidder: null, endsAt },
      ]),
    ),
    record: { hangAborted: [], hangStarted: [], countdowns: [], gets: new Map() },
  };
}

function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) {
      reject(signal.reason as Error);
      return;
    }
    const timer = setTimeout(resolve, ms);
    signal.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        reject(signal.reason as Error);
      },
      { once: true },
    );
  });
}

/** The declared `OUTBID` error (cast: the type tests' program registers another contract). */
function outbid(highest: number): WirecallError {
  return new WirecallError('OUTBID' as never, `the highest bid is ${highest}`, { data: { highest } } as never);
}

function auctionOf(state: AuctionState, id: string): Auction {
  const auction = state.auctions.get(id);
  if (auction === undefined) throw new WirecallError('NOT_FOUND', `no auction ${id}`);
  return auction;
}

/**
 * The handlers, over `state`; `emit` publishes an auction's new state (the server's `emit`, given
 * by the caller so that handlers and tests share one server).
 */
export function auctionHandlers(
  state: AuctionState,
  emit: (auction: Auction) => Promise<void>,
): Handlers<AuctionApi, DefaultContext<AuctionApi, undefined>> {
  return {
    countdown: async function* ({ input, signal }) {
      let at = input.from;
      let ended = false;
      try {
        for (; at > 0; at--) {
          yield at;
          await pause(input.everyMs, signal);
        }
        ended = true;
        return 'liftoff';
      } finally {
        state.record.countdowns.push(ended ? 'done' : `stopped at ${at}`);
      }
    },
    hang: ({ input, signal }) => {
      state.record.hangStarted.push(input.key);
      return new Promise<string>((_resolve, reject) => {
        signal.addEventListener('abort', () => {
          state.record.hangAborted.push(input.key);
          reject(signal.reason as Error);
        });
      });
    },
    fetches: ({ input }) => state.record.gets.get(input.id) ?? 0,
    upload: async ({ inputStream }) => {
      let count = 0;
      for await (const _item of inputStream) count++;
      return count;
    },
    auctions: {
      get: ({ input }) => {
        state.record.gets.set(input.id, (state.record.gets.get(input.id) ?? 0) + 1);
        return auctionOf(state, input.id);
      },
      list: ({ input }) =>
        [...state.auctions.values()].filter((auction) => input.ids === undefined || input.ids.has(auction.id)),
      bid: async ({ input }) => {
        const auction = auctionOf(state, input.id);
        if (input.amount <= auction.highest) {
          throw outbid(auction.highest);
        }
        const next = { ...auction, highest: input.amount, bidder: input.bidder };
        state.auctions.set(input.id, next);
        await emit(next);
        return next;
      },
    },
  };
}
