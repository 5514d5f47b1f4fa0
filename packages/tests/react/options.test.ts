/**
 * The option factories of @wirecall/react against a real server: what `useQuery` and `useMutation`
 * run is TanStack Query's own machinery (`QueryClient`, `MutationObserver`), so these tests drive it
 * without rendering. Keys, typed errors, cancellation reaching the server's handler, prefix
 * filters, the server-side caller as a source, and streams.
 */
import { hashKey, MutationObserver, QueryClient, QueryObserver, skipToken } from '@tanstack/react-query';
import { isCallError, isWirecallError } from '@wirecall/client';
import { createWirecallOptions } from '@wirecall/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { auctionApi, type AuctionApi } from './helpers/auction-api.js';
import { startAuctionServer } from './helpers/auction-server.js';

const clients: QueryClient[] = [];
function queryClient(): QueryClient {
  const created = new QueryClient({ defaultOptions: { queries: { retry: false }, mutations: { retry: false } } });
  clients.push(created);
  return created;
}

afterEach(() => {
  for (const client of clients.splice(0)) client.clear();
});

describe('queryOptions', () => {
  it('fetches through the client, with a stable key of the path and the canonical input', async () => {
    await using ctx = await startAuctionServer();
    const wc = createWirecallOptions({ client: ctx.connect() });
    const options = wc.auctions.get.queryOptions({ id: 'a1' });
    expect(options.queryKey).toEqual(['wirecall', ['auctions', 'get'], { input: { id: 'a1' } }]);
    expect(options.wirecall.path).toBe('auctions.get');

    const auction = await queryClient().fetchQuery(options);
    expect(auction).toMatchObject({ id: 'a1', title: 'Lot 1', highest: 10 });
    expect(auction.endsAt).toBeInstanceOf(Date);

    // Equal inputs, one key: key order, undefined fields, Sets and bigints (which TanStack's own
    // hashing would throw on, or turn into `{}`).
    const list = (input: Parameters<typeof wc.auctions.list.queryKey>[0]) => hashKey(wc.auctions.list.queryKey(input));
    expect(list({ ids: new Set(['a2', 'a1']), since: 5n })).toBe(list({ since: 5n, ids: new Set(['a1', 'a2']) }));
    expect(list({ ids: new Set(['a1']), since: undefined })).toBe(list({ ids: new Set(['a1']) }));
    expect(list({ ids: new Set(['a1']) })).not.toBe(list({ ids: new Set(['a2']) }));
    expect(wc.auctions.list.queryKey({ ids: new Set(['b', 'a']), since: 5n })).toEqual([
      'wirecall',
      ['auctions', 'list'],
      { input: { ids: ['a', 'b'], since: '5' } },
    ]);
    // The query still calls with the input itself (a Set, a bigint), not its key form.
    const listed = await queryClient().fetchQuery(wc.auctions.list.queryOptions({ ids: new Set(['a2']), since: 1n }));
    expect(listed.map(({ id }) => id)).toEqual(['a2']);
  });

  it('rejects with the typed error, declared codes included, and keeps it as the query error', async () => {
    await using ctx = await startAuctionServer();
    const wc = createWirecallOptions({ client: ctx.connect() });
    const cache = queryClient();
    const missing = await cache
      .fetchQuery(wc.auctions.get.queryOptions({ id: 'nope' }))
      .catch((error: unknown) => error);
    expect(isWirecallError(missing) && missing.code).toBe('NOT_FOUND');
    expect(cache.getQueryState(wc.auctions.get.queryKey({ id: 'nope' }))?.error).toBe(missing);

    const bid = new MutationObserver(cache, wc.auctions.bid.mutationOptions());
    const outbid = await bid.mutate({ id: 'a1', amount: 5, bidder: 'ann' }).catch((error: unknown) => error);
    expect(isCallError(auctionApi.groups.auctions, 'bid', outbid) && outbid.code).toBe('OUTBID');
    expect((outbid as { data: unknown }).data).toEqual({ highest: 10 });
    expect(bid.getCurrentResult().error).toBe(outbid);
    // The client checks the input before sending: BAD_REQUEST with zod's issues.
    const invalid = await bid.mutate({ id: 'a1', amount: -1, bidder: 'ann' }).catch((error: unknown) => error);
    expect(isWirecallError(invalid) && invalid.code).toBe('BAD_REQUEST');
  });

  it("passes TanStack's signal to the call: cancelling the query stops the server's handler", async () => {
    await using ctx = await startAuctionServer();
    const wc = createWirecallOptions({ client: ctx.connect() });
    const cache = queryClient();
    const observer = new QueryObserver(cache, wc.hang.queryOptions({ key: 'unmounted' }));
    // A component mounting (one observer), then unmounting while the call is in flight.
    const unsubscribe = observer.subscribe(() => {});
    await vi.waitFor(() => expect(ctx.state.record.hangStarted).toEqual(['unmounted']));
    unsubscribe();
    await vi.waitFor(() => expect(ctx.state.record.hangAborted).toEqual(['unmounted']));
    // The query went back to where it was, with no error: TanStack's cancellation, not a failure.
    expect(cache.getQueryState(wc.hang.queryKey({ key: 'unmounted' }))).toMatchObject({
      status: 'pending',
      error: null,
    });

    const fetching = cache.fetchQuery(wc.hang.queryOptions({ key: 'cancelled' })).catch(() => 'cancelled');
    await vi.waitFor(() => expect(ctx.state.record.hangStarted).toContain('cancelled'));
    await cache.cancelQueries(wc.hang.queryFilter({ key: 'cancelled' }));
    await vi.waitFor(() => expect(ctx.state.record.hangAborted).toContain('cancelled'));
    expect(await fetching).toBe('cancelled');
  });

  it('takes skipToken, and the call settings', async () => {
    await using ctx = await startAuctionServer();
    const wc = createWirecallOptions({ client: ctx.connect() });
    const skipped = wc.auctions.get.queryOptions(skipToken);
    expect(skipped.queryFn).toBe(skipToken);
    expect(skipped.queryKey).toEqual(['wirecall', ['auctions', 'get'], {}]);
    const timedOut = await queryClient()
      .fetchQuery(wc.hang.queryOptions({ key: 'deadline' }, { wirecall: { timeoutMs: 50 } }))
      .catch((error: unknown) => error);
    expect(isWirecallError(timedOut) && timedOut.code).toBe('TIMEOUT');
  });
});

describe('mutationOptions and filters', () => {
  it('mutates through the client and invalidates by prefix: one query, a procedure, a group', async () => {
    await using ctx = await startAuctionServer();
    const wc = createWirecallOptions({ client: ctx.connect() });
    const cache = queryClient();
    const invalidated = vi.fn();
    const bid = new MutationObserver(
      cache,
      wc.auctions.bid.mutationOptions({
        onSuccess: async (auction) => {
          invalidated(auction.id);
          await cache.invalidateQueries(wc.auctions.get.queryFilter({ id: auction.id }));
        },
      }),
    );
    expect(bid.options.mutationKey).toEqual(['wirecall', ['auctions', 'bid']]);
    expect(wc.auctions.bid.mutationKey()).toEqual(['wirecall', ['auctions', 'bid']]);

    for (const id of ['a1', 'a2']) await cache.prefetchQuery(wc.auctions.get.queryOptions({ id }));
    await cache.prefetchQuery(wc.auctions.list.queryOptions({}));
    const placed = await bid.mutate({ id: 'a1', amount: 50, bidder: 'ann' });
    expect(placed).toMatchObject({ id: 'a1', highest: 50, bidder: 'ann' });
    expect(invalidated).toHaveBeenCalledWith('a1');
    const isInvalid = (key: readonly unknown[]): boolean | undefined => cache.getQueryState(key)?.isInvalidated;
    expect(isInvalid(wc.auctions.get.queryKey({ id: 'a1' }))).toBe(true);
    expect(isInvalid(wc.auctions.get.queryKey({ id: 'a2' }))).toBe(false);

    await cache.invalidateQueries(wc.auctions.get.queryFilter());
    expect(isInvalid(wc.auctions.get.queryKey({ id: 'a2' }))).toBe(true);
    expect(isInvalid(wc.auctions.list.queryKey({}))).toBe(false);
    await cache.invalidateQueries(wc.auctions.queryFilter());
    expect(isInvalid(wc.auctions.list.queryKey({}))).toBe(true);
    expect(wc.queryKey()).toEqual(['wirecall']);
    expect(wc.auctions.queryFilter({ exact: false })).toEqual({ exact: false, queryKey: ['wirecall', ['auctions']] });
  });
});

describe('a server-side caller as the source', () => {
  it('fetches in process under the same keys, without any socket', async () => {
    await using ctx = await startAuctionServer();
    const wc = createWirecallOptions<AuctionApi>({ caller: ctx.caller() });
    const cache = queryClient();
    await cache.prefetchQuery(wc.auctions.get.queryOptions({ id: 'a2' }));
    const fromClient = createWirecallOptions({ client: ctx.connect() });
    // A browser's query for the same input finds the prefetched data (the key the server made).
    expect(cache.getQueryData(fromClient.auctions.get.queryKey({ id: 'a2' }))).toMatchObject({ title: 'Lot 2' });
    expect(ctx.state.record.gets.get('a2')).toBe(1);
    const outbid = await cache
      .fetchQuery(wc.auctions.get.queryOptions({ id: 'missing' }))
      .catch((error: unknown) => error);
    expect(isWirecallError(outbid) && outbid.code).toBe('NOT_FOUND');
  });

  it('says which procedure is missing when a path names none', async () => {
    await using ctx = await startAuctionServer();
    const wc = createWirecallOptions<AuctionApi>({ caller: ctx.caller() });
    const misspelled = (wc.auctions as unknown as Record<string, typeof wc.auctions.get>).gte!;
    await expect(queryClient().fetchQuery(misspelled.queryOptions({ id: 'a1' }))).rejects.toThrow(
      'wirecall: no procedure auctions.gte in this contract',
    );
  });
});

describe('streamOptions', () => {
  it('opens the stream through the client, with its settings', async () => {
    await using ctx = await startAuctionServer();
    const wc = createWirecallOptions({ client: ctx.connect() });
    const options = wc.countdown.streamOptions({ from: 3, everyMs: 1 }, { wirecall: { window: 2 } });
    expect(options.enabled).toBe(true);
    expect(wc.countdown.streamOptions(skipToken).enabled).toBe(false);
    expect(options.inputKey).toBe(wc.countdown.streamOptions({ everyMs: 1, from: 3 }).inputKey);
    const stream = options.open({ from: 3, everyMs: 1 }, new AbortController().signal);
    const items: number[] = [];
    for await (const item of stream) items.push(item);
    expect(items).toEqual([3, 2, 1]);
    expect(await stream.result).toBe('liftoff');
  });
});
