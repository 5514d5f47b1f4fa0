/* eslint-disable @typescript-eslint/no-unsafe-call, @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-argument -- calls of what does not exist, which must not compile */
/**
 * Type-level tests of @wirecall/react: every option factory and hook is typed by the contract
 * (inputs, outputs, declared errors, event names, params, payloads, presence data, stream items),
 * and misuse is a compile error. Nothing here runs: hooks are only called inside functions that
 * are never called.
 */
import {
  skipToken,
  useMutation,
  useQuery,
  useQueryClient,
  useSuspenseQuery,
  type QueryFilters,
} from '@tanstack/react-query';
import type { EventMeta, WirecallClient, WirecallError } from '@wirecall/client';
import type { PresenceMember } from '@wirecall/client/presence';
import {
  createWirecallContext,
  createWirecallOptions,
  useStream,
  type ConnectionState,
  type WirecallMutationKey,
  type WirecallQueryKey,
} from '@wirecall/react';
import type { Caller } from '@wirecall/server';
import { describe, expectTypeOf, it } from 'vitest';
import type { TestApi } from '../helpers/fixtures.js';
import { auctionApi, type Auction, type AuctionApi } from './helpers/auction-api.js';

const { WirecallProvider, useWirecall, useWirecallClient, useEvent, useEventToQuery, usePresence, useConnection } =
  createWirecallContext<AuctionApi>();

declare const client: WirecallClient<AuctionApi>;
declare const caller: Caller<AuctionApi>;

describe('queryOptions', () => {
  it('types the input, the data and the declared errors of a query', () => {
    const _component = () => {
      const wc = useWirecall();
      const auction = useQuery(wc.auctions.get.queryOptions({ id: 'a1' }));
      expectTypeOf(auction.data).toEqualTypeOf<Auction | undefined>();
      expectTypeOf(auction.data!.endsAt).toEqualTypeOf<Date>();
      // The contract's declared codes narrow `error`, with typed data.
      if (auction.error?.code === 'NOT_FOUND') expectTypeOf(auction.error.message).toBeString();
      const list = useQuery(wc.auctions.list.queryOptions({ ids: new Set(['a1']), since: 1n }));
      expectTypeOf(list.data).toEqualTypeOf<Auction[] | undefined>();

      // @ts-expect-error the input is { id: string }
      useQuery(wc.auctions.get.queryOptions({ id: 1 }));
      // @ts-expect-error the input is required
      useQuery(wc.auctions.get.queryOptions());
      // @ts-expect-error no such procedure
      useQuery(wc.auctions.gte.queryOptions({ id: 'a1' }));
      // @ts-expect-error queryKey and queryFn are the options' own
      useQuery(wc.auctions.get.queryOptions({ id: 'a1' }, { queryKey: ['x'] }));
    };
  });

  it('takes TanStack options: select, initialData, skipToken, the call settings', () => {
    const _component = (id: string | undefined) => {
      const wc = useWirecall();
      const title = useQuery(wc.auctions.get.queryOptions({ id: 'a1' }, { select: (auction) => auction.title }));
      expectTypeOf(title.data).toEqualTypeOf<string | undefined>();
      const initial = useQuery(
        wc.auctions.get.queryOptions({ id: 'a1' }, { initialData: { ...({} as Auction) }, staleTime: 1_000 }),
      );
      expectTypeOf(initial.data).toEqualTypeOf<Auction>();
      const maybe = useQuery(wc.auctions.get.queryOptions(id === undefined ? skipToken : { id }));
      expectTypeOf(maybe.data).toEqualTypeOf<Auction | undefined>();
      const suspended = useSuspenseQuery(wc.auctions.get.queryOptions({ id: 'a1' }, { wirecall: { timeoutMs: 500 } }));
      expectTypeOf(suspended.data).toEqualTypeOf<Auction>();
      // @ts-expect-error whenOffline is 'queue' or 'fail'
      wc.auctions.get.queryOptions({ id: 'a1' }, { wirecall: { whenOffline: 'wait' } });
    };
  });

  it('tags its key with the data, so the cache is typed', () => {
    const _component = () => {
      const wc = useWirecall();
      const queryClient = useQueryClient();
      const options = wc.auctions.get.queryOptions({ id: 'a1' });
      expectTypeOf(queryClient.getQueryData(options.queryKey)).toEqualTypeOf<Auction | undefined>();
      expectTypeOf(queryClient.getQueryData(wc.auctions.get.queryKey({ id: 'a1' }))).toEqualTypeOf<
        Auction | undefined
      >();
      queryClient.setQueryData(
        wc.auctions.get.queryKey({ id: 'a1' }),
        (auction) => auction && { ...auction, highest: 1 },
      );
      // @ts-expect-error the cached data is an Auction
      queryClient.setQueryData(wc.auctions.get.queryKey({ id: 'a1' }), { highest: 1 });
      expectTypeOf(options.wirecall.path).toBeString();
      expectTypeOf(wc.queryKey()).toEqualTypeOf<WirecallQueryKey>();
      expectTypeOf(wc.auctions.queryFilter()).toExtend<QueryFilters>();
      void queryClient.invalidateQueries(wc.auctions.get.queryFilter({ id: 'a1' }, { exact: true }));
      void queryClient.invalidateQueries(wc.auctions.list.queryFilter({ since: 1n }));
      // @ts-expect-error the input's fields keep their types in a filter
      wc.auctions.get.queryFilter({ id: 1 });
    };
  });
});

describe('mutationOptions', () => {
  it('types the variables, the result and the declared errors', () => {
    const _component = () => {
      const wc = useWirecall();
      const bid = useMutation(
        wc.auctions.bid.mutationOptions({
          onSuccess: (auction, variables) => {
            expectTypeOf(auction).toEqualTypeOf<Auction>();
            expectTypeOf(variables.amount).toEqualTypeOf<number>();
          },
          onError: (error) => {
            if (error.code === 'OUTBID') expectTypeOf(error.data).toEqualTypeOf<{ highest: number }>();
          },
        }),
      );
      bid.mutate({ id: 'a1', amount: 20, bidder: 'ann' });
      expectTypeOf(bid.data).toEqualTypeOf<Auction | undefined>();
      // The declared error and the built-in ones.
      expectTypeOf<WirecallError<'OUTBID', { highest: number }>>().toExtend<NonNullable<typeof bid.error>>();
      expectTypeOf<WirecallError<'NOT_FOUND', unknown>>().toExtend<NonNullable<typeof bid.error>>();
      // @ts-expect-error amount is a number
      bid.mutate({ id: 'a1', amount: '20', bidder: 'ann' });
      expectTypeOf(wc.auctions.bid.mutationKey()).toEqualTypeOf<WirecallMutationKey>();
    };
  });

  it('gives streaming procedures a stream, and uploads nothing', () => {
    const _component = () => {
      const wc = useWirecall();
      // @ts-expect-error a streaming procedure is not a query
      wc.countdown.queryOptions({ from: 3 });
      // @ts-expect-error an upload is called through the client
      wc.upload.mutationOptions();
      // @ts-expect-error a query has no stream options
      wc.auctions.get.streamOptions({ id: 'a1' });
      void useWirecallClient().call.upload({ name: 'a' }, ['x']);
    };
  });
});

describe('useStream', () => {
  it('types the items, the final value, the error and start', () => {
    const _component = () => {
      const wc = useWirecall();
      const countdown = useStream(
        wc.countdown.streamOptions({ from: 3 }, { onItem: (n) => expectTypeOf(n).toBeNumber() }),
      );
      expectTypeOf(countdown.items).toEqualTypeOf<readonly number[]>();
      if (countdown.status === 'success') expectTypeOf(countdown.result).toEqualTypeOf<string>();
      if (countdown.status === 'error') expectTypeOf(countdown.error.code).toExtend<string>();
      countdown.start({ from: 5 });
      countdown.cancel();
      const manual = useStream(wc.countdown.streamOptions(skipToken, { wirecall: { window: 4 } }));
      // @ts-expect-error from is a number
      manual.start({ from: 'five' });
      // @ts-expect-error the input is checked
      wc.countdown.streamOptions({ to: 3 });
    };
  });
});

describe('useEvent', () => {
  it('types the name, the params and the payload', () => {
    const _component = (id: string | undefined) => {
      useEvent('auctions.changed', { id: 'a1' }, (auction, meta) => {
        expectTypeOf(auction).toEqualTypeOf<Auction>();
        expectTypeOf(meta).toEqualTypeOf<EventMeta>();
      });
      useEvent('auctions.changed', id === undefined ? skipToken : { id }, () => {}, { onGap: () => {} });
      useEvent('tick', (tick) => expectTypeOf(tick.seq).toBeNumber(), { enabled: false });
      // @ts-expect-error no such event
      useEvent('auctions.chnaged', { id: 'a1' }, () => {});
      // @ts-expect-error the params are { id: string }
      useEvent('auctions.changed', { room: 'a1' }, () => {});
      // @ts-expect-error params come before the handler
      useEvent('auctions.changed', () => {});
      // @ts-expect-error tick has no params
      useEvent('tick', { id: 'a1' }, () => {});
    };
  });
});

describe('useEventToQuery', () => {
  it('types update by the query key it writes', () => {
    const _component = () => {
      const wc = useWirecall();
      useEventToQuery(
        'auctions.changed',
        { id: 'a1' },
        {
          queryKey: wc.auctions.get.queryKey({ id: 'a1' }),
          update: (auction, changed) => {
            expectTypeOf(auction).toEqualTypeOf<Auction | undefined>();
            expectTypeOf(changed).toEqualTypeOf<Auction>();
            return changed;
          },
        },
      );
      useEventToQuery(
        'auctions.changed',
        { id: 'a1' },
        {
          queryKey: wc.auctions.list.queryKey({}),
          update: (auctions, changed) => auctions?.map((auction) => (auction.id === changed.id ? changed : auction)),
        },
      );
      // Without update: invalidate; the key may depend on the event.
      useEventToQuery('tick', { queryKey: wc.auctions.queryKey() });
      useEventToQuery('auctions.changed', skipToken, {
        queryKey: (changed) => wc.auctions.get.queryKey({ id: changed.id }),
      });
      useEventToQuery(
        'auctions.changed',
        { id: 'a1' },
        {
          queryKey: wc.auctions.get.queryKey({ id: 'a1' }),
          // @ts-expect-error update returns the query's data (an Auction)
          update: () => 'new title',
        },
      );
      // @ts-expect-error no such event
      useEventToQuery('auction.changed', { id: 'a1' }, { queryKey: wc.queryKey() });
      // @ts-expect-error the params are { id: string }
      useEventToQuery('auctions.changed', { id: 1 }, { queryKey: wc.queryKey() });
    };
  });
});

describe('usePresence', () => {
  it('types the members, the join data and the params', () => {
    const _component = () => {
      const room = usePresence('room', { params: { room: 'a' }, join: { name: 'ann' } });
      expectTypeOf(room.members).toEqualTypeOf<readonly PresenceMember<{ name: string; typing: boolean }>[]>();
      expectTypeOf(room.count).toBeNumber();
      room.join({ name: 'ann', typing: true });
      usePresence('room', { params: skipToken });
      // @ts-expect-error tick declares no presence
      usePresence('tick');
      // @ts-expect-error room needs its params
      usePresence('room', { join: { name: 'ann' } });
      // @ts-expect-error name is a string
      usePresence('room', { params: { room: 'a' }, join: { name: 1 } });
      // @ts-expect-error the join data is checked
      room.join({ nick: 'ann' });
    };
  });
});

describe('useConnection and the provider', () => {
  it('gives the connection state', () => {
    const _component = () => {
      const connection = useConnection({ rttIntervalMs: 5_000 });
      expectTypeOf(connection).toEqualTypeOf<ConnectionState>();
      expectTypeOf(connection.state).toEqualTypeOf<'connecting' | 'open' | 'reconnecting' | 'closed'>();
      expectTypeOf(connection.rttMs).toEqualTypeOf<number | undefined>();
    };
  });

  it('takes a client of the contract, or a server-side caller', () => {
    void WirecallProvider({ client });
    void WirecallProvider({ caller });
    const other = {} as WirecallClient<TestApi>;
    // @ts-expect-error a client of another contract
    void WirecallProvider({ client: other });
    // @ts-expect-error a client or a caller, not both
    void WirecallProvider({ client, caller });
    expectTypeOf(useWirecallClient).returns.toEqualTypeOf<WirecallClient<AuctionApi>>();
  });

  it('makes the same options outside React, from a client or a caller', () => {
    const fromClient = createWirecallOptions({ client });
    expectTypeOf(fromClient.auctions.get.queryKey).toEqualTypeOf<
      ReturnType<typeof useWirecall>['auctions']['get']['queryKey']
    >();
    const fromCaller = createWirecallOptions<AuctionApi>({ caller });
    expectTypeOf(fromCaller.auctions.get.queryOptions({ id: 'a1' }).queryKey).toEqualTypeOf(
      fromClient.auctions.get.queryOptions({ id: 'a1' }).queryKey,
    );
    void auctionApi;
  });
});
