/**
 * Server-side rendering with @wirecall/react, in Node with react-dom/server and a real server:
 * prefetch through the server-side caller into a QueryClient, render the page (its components use
 * every hook) with the caller as the provider's source, and dehydrate. The HTML holds the data, no
 * WebSocket is opened, and the dehydrated state hydrates a browser's QueryClient under the keys its
 * own queries compute.
 */
import {
  dehydrate,
  hydrate,
  HydrationBoundary,
  QueryClient,
  QueryClientProvider,
  useQuery,
  useSuspenseQuery,
  type DehydratedState,
} from '@tanstack/react-query';
import {
  createWirecallContext,
  createWirecallOptions,
  deserializeData,
  serializeData,
  useStream,
} from '@wirecall/react';
import { createElement as h, Suspense, type ReactNode } from 'react';
import { renderToPipeableStream, renderToString } from 'react-dom/server';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { Auction, AuctionApi } from './helpers/auction-api.js';
import { startAuctionServer } from './helpers/auction-server.js';

const { WirecallProvider, useWirecall, useEvent, useEventToQuery, usePresence, useConnection } =
  createWirecallContext<AuctionApi>();

/** A page that uses every hook; on the server only the queries render data, the rest waits for effects. */
function AuctionPage({ id }: { id: string }): ReactNode {
  const wc = useWirecall();
  useEventToQuery(
    'auctions.changed',
    { id },
    { queryKey: wc.auctions.get.queryKey({ id }), update: (_old, next) => next },
  );
  const auction = useQuery(wc.auctions.get.queryOptions({ id }));
  useEvent('tick', () => {});
  const room = usePresence('room', { params: { room: id }, join: { name: 'ssr' } });
  const connection = useConnection();
  const countdown = useStream(wc.countdown.streamOptions({ from: 3 }));
  return h(
    'main',
    null,
    h('h1', null, auction.data?.title ?? 'loading'),
    h('p', { id: 'highest' }, String(auction.data?.highest)),
    h('p', { id: 'ends' }, auction.data?.endsAt.toISOString()),
    h('p', { id: 'state' }, connection.state),
    h('p', { id: 'members' }, String(room.count)),
    h('p', { id: 'countdown' }, countdown.status),
  );
}

function Suspended({ id }: { id: string }): ReactNode {
  const wc = useWirecall();
  const auction = useSuspenseQuery(wc.auctions.get.queryOptions({ id }));
  return h('h2', null, `${auction.data.title} at ${auction.data.highest}`);
}

function page(queryClient: QueryClient, state: DehydratedState, body: ReactNode, caller: never): ReactNode {
  return h(
    QueryClientProvider,
    { client: queryClient },
    h(WirecallProvider, { caller }, h(HydrationBoundary, { state }, body)),
  );
}

describe('server-side rendering', () => {
  it('prefetches through the caller, renders the data, opens no socket, and hydrates under the same keys', async () => {
    await using ctx = await startAuctionServer();
    const caller = ctx.caller();
    const serverCache = new QueryClient();
    const wc = createWirecallOptions<AuctionApi>({ caller });
    await serverCache.prefetchQuery(wc.auctions.get.queryOptions({ id: 'a3' }));
    const dehydrated = dehydrate(serverCache);

    const html = renderToString(page(new QueryClient(), dehydrated, h(AuctionPage, { id: 'a3' }), caller as never));
    expect(html).toContain('<h1>Lot 3</h1>');
    expect(html).toContain('<p id="highest">30</p>');
    expect(html).toContain('<p id="ends">2030-01-01T00:00:00.000Z</p>');
    // The socket's hooks render their initial state: nothing connects on the server.
    expect(html).toContain('<p id="state">connecting</p>');
    expect(html).toContain('<p id="members">0</p>');
    expect(html).toContain('<p id="countdown">idle</p>');
    expect(ctx.server.stats().connections).toBe(0);
    expect(ctx.state.record.gets.get('a3')).toBe(1); // the prefetch, not the render
    expect(ctx.state.record.countdowns).toEqual([]);

    // What the page ships: the dehydrated state as JSON (the keys are JSON already; a Date becomes
    // text unless `serializeData` keeps it, see docs/react.md). A browser's cache hydrated from it
    // answers its own key for the same input.
    const shipped = JSON.parse(JSON.stringify(dehydrated)) as DehydratedState;
    const browserCache = new QueryClient();
    hydrate(browserCache, shipped);
    const browserOptions = createWirecallOptions({ client: ctx.connect() });
    const key = browserOptions.auctions.get.queryKey({ id: 'a3' });
    expect(browserCache.getQueryData(key)).toMatchObject({ id: 'a3', title: 'Lot 3' });
    expect(browserCache.getQueryData(key)?.endsAt).not.toBeInstanceOf(Date); // plain JSON: text

    // With wirecall's own serializer, the Date crosses the JSON as a Date, and hydrating the same
    // state twice gives the same data.
    const typed = JSON.parse(JSON.stringify(dehydrate(serverCache, { serializeData }))) as DehydratedState;
    const typedCache = new QueryClient();
    hydrate(typedCache, typed, { defaultOptions: { deserializeData } });
    expect(typedCache.getQueryData(key)?.endsAt).toEqual(new Date('2030-01-01T00:00:00.000Z'));
    const again = new QueryClient();
    hydrate(again, typed, { defaultOptions: { deserializeData } });
    expect(again.getQueryData(key)).toEqual(typedCache.getQueryData(key));
  });

  it('runs useSuspenseQuery through the caller while streaming the HTML', async () => {
    await using ctx = await startAuctionServer();
    const caller = ctx.caller();
    const cache = new QueryClient();
    const body = h(Suspense, { fallback: h('p', null, 'loading') }, h(Suspended, { id: 'a1' }));
    const html = await new Promise<string>((resolve, reject) => {
      const sink = new PassThrough();
      let text = '';
      sink.on('data', (chunk: Buffer) => (text += chunk.toString()));
      sink.on('end', () => resolve(text));
      const stream = renderToPipeableStream(page(cache, dehydrate(new QueryClient()), body, caller as never), {
        onAllReady: () => stream.pipe(sink),
        onError: reject,
      });
    });
    expect(html).toContain('<h2>Lot 1 at 10</h2>');
    expect(ctx.server.stats().connections).toBe(0);
    const wc = createWirecallOptions<AuctionApi>({ caller });
    expect(cache.getQueryData(wc.auctions.get.queryKey({ id: 'a1' }))?.endsAt).toBeInstanceOf(Date);
    const _typed: Auction | undefined = cache.getQueryData(wc.auctions.get.queryKey({ id: 'a1' }));
  });
});
