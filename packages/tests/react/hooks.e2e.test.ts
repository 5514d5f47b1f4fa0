/**
 * The hooks of @wirecall/react rendered by React DOM in a real Chromium, under StrictMode, talking
 * to a real server in this process: subscriptions that survive StrictMode's double mount and
 * follow params by value, events that write the query cache, streams that stop the server's
 * generator on unmount, shared presence, the connection across a server restart (with the gap
 * refetching), queries cancelled on unmount, and a server-rendered page hydrated without fetching.
 * Without Chromium the suite is skipped locally and fails in CI (packages/tests/browser/helpers).
 */
import { dehydrate, HydrationBoundary, QueryClient, QueryClientProvider } from '@tanstack/react-query';
import type { WirecallClient } from '@wirecall/client';
import { createWirecallOptions } from '@wirecall/react';
import type { Browser, Page } from 'playwright-core';
import { createElement as h } from 'react';
import { renderToString } from 'react-dom/server';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { browserSuite, checkChromium, launchChromium } from '../browser/helpers/chromium.js';
import type { AuctionApi } from './helpers/auction-api.js';
import { startAuctionServer, type AuctionServer } from './helpers/auction-server.js';
import { startHarnessServer, type HarnessServer } from './helpers/harness-server.js';
import { Card, WirecallProvider, type Reporter, type ScenarioName } from './harness/scenarios.js';

const chromiumCheck = checkChromium();
const WAIT = { timeout: 10_000 };

describe.skipIf(!chromiumCheck.available)(browserSuite('@wirecall/react hooks in Chromium', chromiumCheck), () => {
  let browser: Browser | undefined;
  let harness: HarnessServer;
  let ctx: AuctionServer;
  let node: WirecallClient<AuctionApi>;
  let page: Page;
  /** The frames the page sent, as text (`sub`, `unsub`, `call`, ...). */
  let sent: string[];
  /** What the page printed as errors (React's hydration mismatches among them). */
  let consoleErrors: string[];

  beforeAll(async () => {
    [harness, browser] = await Promise.all([startHarnessServer(), launchChromium()]);
  }, 30_000);

  afterAll(async () => {
    await browser?.close();
    await harness?.[Symbol.asyncDispose]();
  });

  async function openPage(path = '/'): Promise<void> {
    page = await browser!.newPage();
    sent = [];
    page.on('websocket', (socket) => socket.on('framesent', ({ payload }) => sent.push(String(payload))));
    const errors: string[] = [];
    consoleErrors = [];
    page.on('pageerror', (error) => errors.push(error.message));
    page.on('console', (message) => {
      if (message.type() === 'error') consoleErrors.push(message.text());
    });
    await page.goto(`${harness.url}${path}${path.includes('?') ? '&' : '?'}ws=${encodeURIComponent(ctx.url)}`);
    await page.waitForFunction(() => window.harness?.client.state === 'open', undefined, WAIT);
    expect(errors).toEqual([]);
  }

  beforeEach(async () => {
    ctx = await startAuctionServer();
    node = ctx.connect();
  });

  afterEach(async () => {
    await page?.close();
    await ctx[Symbol.asyncDispose]();
  });

  const mount = (name: ScenarioName, props: Record<string, unknown>): Promise<void> =>
    page.evaluate(([scenario, values]) => window.harness.mount(scenario, values), [name, props] as const);
  const update = (props: Record<string, unknown>): Promise<void> =>
    page.evaluate((values) => window.harness.update(values), props);
  const unmount = (): Promise<void> => page.evaluate(() => window.harness.unmount());
  const latest = (name: string): Promise<unknown> => page.evaluate((key) => window.harness.latest[key] ?? null, name);
  const history = (name: string): Promise<unknown[]> => page.evaluate((key) => window.harness.history[key] ?? [], name);
  const act = (name: string, ...args: unknown[]): Promise<void> =>
    page.evaluate(([action, values]) => window.harness.actions[action]!(...values), [name, args] as const);
  const framesOf = (type: string): string[] => sent.filter((frame) => frame.includes(`"t":"${type}"`));
  const subscriptions = (): number => ctx.server.stats().subscriptions;
  const bid = (id: string, amount: number) => node.call.auctions.bid({ id, amount, bidder: 'node' });

  it('useEvent: one subscription under StrictMode, the latest handler, params by value, gone on unmount', async () => {
    await openPage();
    await mount('Events', { id: 'a1', label: 'first' });
    // Node's own client listens to nothing: every subscription the server counts is the page's.
    await expect.poll(subscriptions, WAIT).toBe(2);
    // StrictMode mounted, unmounted and mounted again: sub, unsub, sub per stream. (Polled:
    // Chromium reports sent frames to this process asynchronously.)
    await expect.poll(() => framesOf('sub').length, WAIT).toBe(4);
    expect(framesOf('unsub')).toHaveLength(2);

    await bid('a1', 11);
    await expect.poll(() => history('changed'), WAIT).toEqual(['first:a1:11']);
    // A new handler (and a new params object of equal value) each render: no new subscription.
    await update({ label: 'second', id: 'a1' });
    await bid('a1', 12);
    await expect.poll(() => history('changed'), WAIT).toEqual(['first:a1:11', 'second:a1:12']);
    expect(framesOf('sub')).toHaveLength(4);
    await ctx.server.emit('tick', { seq: 1 });
    await expect.poll(() => history('tick'), WAIT).toEqual(['second:1']);

    // Params that change by value: the old stream is left, the new one followed.
    await update({ id: 'a2' });
    await expect.poll(() => framesOf('sub').length, WAIT).toBe(5);
    await expect.poll(subscriptions, WAIT).toBe(2);
    await bid('a1', 13);
    await bid('a2', 21);
    await expect.poll(() => history('changed'), WAIT).toEqual(['first:a1:11', 'second:a1:12', 'second:a2:21']);
    // skipToken: no subscription for that event.
    await update({ id: undefined });
    await expect.poll(subscriptions, WAIT).toBe(1);

    await unmount();
    await expect.poll(subscriptions, WAIT).toBe(0);
    expect(await page.evaluate(() => window.harness.client.pending.listeners)).toBe(0);
  });

  it('useEventToQuery: an event writes the query data without a fetch, or invalidates it', async () => {
    await openPage();
    await mount('Cache', { id: 'a1', mode: 'update' });
    await expect.poll(() => latest('auction'), WAIT).toEqual({ highest: 10, ends: true });
    await expect.poll(subscriptions, WAIT).toBe(1);
    // StrictMode's unmount cancelled the first fetch (the query consumes TanStack's signal) and its
    // mount fetched again: that is all the fetching there is.
    const gets = (): number => framesOf('call').filter((frame) => frame.includes('"auctions.get"')).length;
    await expect.poll(gets, WAIT).toBeGreaterThan(0);
    const fetchedAtMount = gets();
    expect(fetchedAtMount).toBeLessThanOrEqual(2);
    await bid('a1', 40);
    await expect.poll(() => latest('auction'), WAIT).toEqual({ highest: 40, ends: true });
    // Written from the event, not fetched.
    expect(gets()).toBe(fetchedAtMount);

    await update({ mode: 'invalidate' });
    await bid('a1', 45);
    await expect.poll(() => latest('auction'), WAIT).toEqual({ highest: 45, ends: true });
    expect(gets()).toBe(fetchedAtMount + 1); // refetched
    await unmount();
    await expect.poll(subscriptions, WAIT).toBe(0);
  });

  it("useStream: items, final value, start and cancel, and unmount stops the server's generator", async () => {
    await openPage();
    await mount('Stream', { from: 4, everyMs: 10 });
    await expect
      .poll(() => latest('stream'), WAIT)
      .toEqual({
        status: 'success',
        items: [4, 3, 2, 1],
        result: 'liftoff',
        error: null,
      });
    // StrictMode started it twice: the first call was cancelled at once (its generator stopped, if
    // it had started); its items never showed.
    const [first, ...rest] = [...ctx.state.record.countdowns].reverse();
    expect(first).toBe('done');
    for (const ended of rest) expect(ended).toMatch(/^stopped at \d+$/);
    const before = ctx.state.record.countdowns.length;

    await update({ from: undefined });
    await act('start', { from: 100, everyMs: 30 });
    await expect
      .poll(async () => ((await latest('stream')) as { items: number[] }).items.length, WAIT)
      .toBeGreaterThan(2);
    await act('cancel');
    await expect.poll(async () => ((await latest('stream')) as { status: string }).status, WAIT).toBe('cancelled');
    await expect.poll(() => ctx.state.record.countdowns.length, WAIT).toBe(before + 1);
    expect(ctx.state.record.countdowns.at(-1)).toMatch(/^stopped at \d+$/);

    await act('start', { from: 100, everyMs: 30 });
    await expect
      .poll(async () => ((await latest('stream')) as { items: number[] }).items.length, WAIT)
      .toBeGreaterThan(1);
    await unmount();
    await expect.poll(() => ctx.state.record.countdowns.length, WAIT).toBe(before + 2);
    expect(ctx.state.record.countdowns.at(-1)).toMatch(/^stopped at \d+$/);
    // Nothing arrived after the cancel: the last state the page reported was streaming or cancelled.
    const statuses = (await history('stream')).map((state) => (state as { status: string }).status);
    expect(statuses).not.toContain('error');
  });

  it('usePresence: joins once under StrictMode, shares the room, updates, and leaves on unmount', async () => {
    await openPage();
    const seen: string[] = [];
    const room = node.presence('room', { room: 'r1' });
    room.join({ name: 'node' });
    room.subscribe((change) => {
      if (change.type !== 'sync')
        seen.push(`${change.type}:${change.type === 'leave' ? change.key : change.member.data.name}`);
    });
    await mount('Presence', { room: 'r1', name: 'page', observer: true });
    await expect
      .poll(() => latest('presence'), WAIT)
      .toEqual({ count: 2, joined: true, me: true, names: ['node', 'page'] });
    await expect.poll(() => latest('observed'), WAIT).toBe(2);
    await expect.poll(() => room.count, WAIT).toBe(2);
    // One observation and one join for the page, though two components use the room under StrictMode.
    await expect.poll(() => framesOf('psub').length, WAIT).toBe(1);
    expect(framesOf('pset')).toHaveLength(1);

    await update({ name: 'page2' });
    await expect.poll(() => latest('presence'), WAIT).toMatchObject({ names: ['node', 'page2'] });
    await act('join', { name: 'page3', typing: true });
    await expect
      .poll(() => [...room.members.values()].map((member) => member.data), WAIT)
      .toContainEqual({
        name: 'page3',
        typing: true,
      });
    // The observer goes; the joined component stays in the room.
    await update({ observer: false });
    await update({ name: undefined });
    await expect.poll(() => room.count, WAIT).toBe(1);
    await update({ name: 'page4' });
    await expect.poll(() => room.count, WAIT).toBe(2);
    await unmount();
    await expect.poll(() => room.count, WAIT).toBe(1);
    expect(seen.filter((entry) => entry.startsWith('join:'))).toEqual(['join:node', 'join:page', 'join:page4']);
  });

  it('useConnection: open with a round-trip time, reconnecting while the server restarts, and the gap refetches', async () => {
    await openPage();
    await mount('Connection', { id: 'a1' });
    await expect
      .poll(() => latest('connection'), WAIT)
      .toEqual({ state: 'open', attempt: 0, retrying: false, rtt: 'number' });
    await expect.poll(() => latest('auction'), WAIT).toEqual({ highest: 10, ends: true });
    await bid('a1', 99);
    await expect.poll(() => latest('auction'), WAIT).toEqual({ highest: 99, ends: true });

    const port = ctx.port;
    await ctx[Symbol.asyncDispose]();
    await expect.poll(() => latest('connection'), WAIT).toMatchObject({ state: 'reconnecting', retrying: true });
    expect(await page.getByRole('status').textContent()).toBe('reconnecting…');
    // A new process on the same port: its history does not reach back to the page's last event,
    // so the resubscription reports a gap, which invalidates the auction: it refetches the truth.
    ctx = await startAuctionServer({ port });
    node = ctx.connect();
    await expect.poll(() => latest('connection'), WAIT).toMatchObject({ state: 'open', attempt: 0 });
    await expect.poll(() => latest('auction'), WAIT).toEqual({ highest: 10, ends: true });
    expect(ctx.state.record.gets.get('a1')).toBe(1);
    // Live again.
    await bid('a1', 15);
    await expect.poll(() => latest('auction'), WAIT).toEqual({ highest: 15, ends: true });
    await unmount();
  });

  it('useQuery: unmounting while the call is in flight cancels it on the server', async () => {
    await openPage();
    await mount('Hang', { id: 'h1' });
    // Under StrictMode the first call is cancelled by the simulated unmount, and called again.
    await expect.poll(() => ctx.state.record.hangStarted, WAIT).toEqual(['h1', 'h1']);
    await expect.poll(() => ctx.state.record.hangAborted, WAIT).toEqual(['h1']);
    await unmount();
    await expect.poll(() => ctx.state.record.hangAborted, WAIT).toEqual(['h1', 'h1']);
  });

  it('hydrates a page rendered on the server through the caller, without fetching, then follows events', async () => {
    await node.call.fetches({ id: 'a2' }); // connected: the one connection the server counts below
    const serverCache = new QueryClient();
    const caller = ctx.caller();
    await serverCache.prefetchQuery(
      createWirecallOptions<AuctionApi>({ caller }).auctions.get.queryOptions({ id: 'a2' }),
    );
    const state = dehydrate(serverCache);
    const silent: Reporter = { report: () => {}, action: () => {} };
    const html = renderToString(
      h(
        QueryClientProvider,
        { client: new QueryClient() },
        h(WirecallProvider, { caller }, h(HydrationBoundary, { state }, h(Card, { id: 'a2', reporter: silent }))),
      ),
    );
    expect(html).toContain('Lot 2');
    expect(ctx.server.stats().connections).toBe(1); // Node's client only: rendering opened none
    harness.setSsr({ html, state, id: 'a2' });

    await openPage('/ssr');
    expect(await page.getByTestId('card-highest').textContent()).toBe('20');
    await expect.poll(() => latest('card'), WAIT).toBe(20);
    await expect.poll(subscriptions, WAIT).toBe(1);
    await bid('a2', 33);
    await expect.poll(() => page.getByTestId('card-highest').textContent(), WAIT).toBe('33');
    // The data came with the page: the browser never called `auctions.get`.
    expect(framesOf('call').filter((frame) => frame.includes('"auctions.get"'))).toEqual([]);
    expect(ctx.state.record.gets.get('a2')).toBe(1); // the server's prefetch
    expect(consoleErrors).toEqual([]);
  });
});
