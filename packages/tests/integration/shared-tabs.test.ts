import { MessageChannel, type MessagePort } from 'node:worker_threads';
import { createClient, type ClientOptions, type PortLike, type WirecallClient } from '@wirecall/client';
import { sharedTabs } from '@wirecall/client/shared-tabs';
import { defineContract, PROTOCOL } from '@wirecall/core';
import type { ConnectionInfo, ServerOptions } from '@wirecall/server';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { testApi, type TestApi } from '../helpers/fixtures.js';
import { recordStates } from '../helpers/chaos-kit.js';
import { rejectionOf } from '../helpers/rejection.js';
import { connectClient, quietClientLogger, startTestServer } from '../helpers/test-server.js';
// The worker's hub is no public export: the tests run it from its module.
import { TabHub } from '../../client/src/shared-tabs/hub.js';
import type { UpstreamSocket } from '../../client/src/shared-tabs/upstream.js';
import { testApiOptions, type TestApiServer, type TestContext } from '../helpers/test-handlers.js';

/**
 * `shareAcrossTabs` with the shared worker's hub running in this process: each "tab" is a client
 * whose worker port is one end of a real MessageChannel, the hub holds the other end and one real
 * WebSocket to a real server. What the hub does is the same in a browser's SharedWorker (the
 * Chromium suite proves that part with real tabs).
 */
const WAIT = { timeout: 5_000, interval: 5 };

describe('tabs sharing one connection through the hub', () => {
  const cleanups: (() => unknown)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  async function setUp(serverOptions: Partial<ServerOptions<TestApi, TestContext>> = {}, hubOptions = {}) {
    const connected: ConnectionInfo[] = [];
    const ctx: TestApiServer = await startTestServer(testApi, {
      ...testApiOptions(),
      ...serverOptions,
      hooks: { onConnection: (connection) => connected.push(connection) },
    });
    cleanups.push(() => ctx[Symbol.asyncDispose]());
    const hub = new TabHub((url) => new WebSocket(url, PROTOCOL) as unknown as UpstreamSocket, hubOptions);
    cleanups.push(() => hub.close());
    const ports: MessagePort[] = [];
    /** Each tab's end of its port, to say what a page would (`pagehide`). */
    const tabPorts = new Map<WirecallClient<TestApi>, MessagePort>();
    const openTab = ({ url = ctx.url, ...options }: Partial<ClientOptions<TestApi>> = {}): WirecallClient<TestApi> => {
      const { port1, port2 } = new MessageChannel();
      ports.push(port1, port2);
      hub.connect(port2 as unknown as PortLike);
      const tab = connectClient(testApi, url, {
        reconnect: { minDelayMs: 10, maxDelayMs: 50 },
        shareAcrossTabs: sharedTabs({ worker: () => ({ port: port1 as unknown as PortLike }) }),
        ...options,
      });
      cleanups.push(() => tab.close());
      tabPorts.set(tab, port1);
      return tab;
    };
    cleanups.push(() => ports.forEach((port) => port.close()));
    return { ctx, hub, openTab, connected, tabPorts };
  }

  it('runs three tabs over one server connection, each with its own calls and events', async () => {
    const { ctx, openTab, connected } = await setUp();
    const tabs = [openTab(), openTab(), openTab()];
    const sums = await Promise.all(tabs.flatMap((tab, t) => [1, 2, 3].map((n) => tab.call.add({ a: t * 10, b: n }))));
    expect(sums).toEqual([1, 2, 3, 11, 12, 13, 21, 22, 23]);
    expect(ctx.server.stats().connections).toBe(1);
    expect(connected).toHaveLength(1);

    const seen = tabs.map(() => [] as number[]);
    tabs.forEach((tab, t) => tab.on('tick', ({ seq }) => seen[t]!.push(seq)));
    await expect.poll(() => ctx.server.stats().subscriptions, WAIT).toBe(1);
    for (let seq = 1; seq <= 5; seq++) await ctx.server.emit('tick', { seq, at: new Date() });
    await expect
      .poll(() => seen, WAIT)
      .toEqual([
        [1, 2, 3, 4, 5],
        [1, 2, 3, 4, 5],
        [1, 2, 3, 4, 5],
      ]);
    // Rooms are separate streams: each tab gets only its own room's messages.
    const rooms = ['a', 'b', 'a'];
    const heard = tabs.map(() => [] as string[]);
    tabs.forEach((tab, t) => tab.on('chatMessage', { room: rooms[t]! }, ({ text }) => heard[t]!.push(text)));
    await expect.poll(() => ctx.server.stats().subscriptions, WAIT).toBe(3);
    await ctx.server.emit('chatMessage', { room: 'a', text: 'to a', at: new Date() }, { params: { room: 'a' } });
    await ctx.server.emit('chatMessage', { room: 'b', text: 'to b', at: new Date() }, { params: { room: 'b' } });
    await expect.poll(() => heard, WAIT).toEqual([['to a'], ['to b'], ['to a']]);
  });

  it('keeps the others going when the tab that opened the connection closes', async () => {
    const { ctx, openTab, connected } = await setUp();
    const [first, second, third] = [openTab(), openTab(), openTab()];
    expect(await first.call.add({ a: 1, b: 1 })).toBe(2);
    const seen: number[][] = [[], []];
    second.on('tick', ({ seq }) => seen[0]!.push(seq));
    third.on('tick', ({ seq }) => seen[1]!.push(seq));
    first.on('tick', () => {});
    await expect.poll(() => ctx.server.stats().subscriptions, WAIT).toBe(1);

    await first.close();
    expect(await second.call.add({ a: 2, b: 2 })).toBe(4);
    await ctx.server.emit('tick', { seq: 1, at: new Date() });
    await expect.poll(() => seen, WAIT).toEqual([[1], [1]]);
    expect(await third.call.add({ a: 3, b: 3 })).toBe(6);
    expect(connected).toHaveLength(1);
    expect(ctx.server.stats()).toMatchObject({ connections: 1, subscriptions: 1 });
  });

  it('lets a page that was hidden (and may come back from the back/forward cache) reconnect by itself', async () => {
    const { ctx, openTab, tabPorts } = await setUp();
    const [hidden, other] = [openTab(), openTab()];
    const seen: number[] = [];
    hidden.on('tick', ({ seq }) => seen.push(seq));
    other.on('tick', () => {});
    expect(await hidden.call.add({ a: 1, b: 1 })).toBe(2);
    const states: string[] = [];
    hidden.onStateChange(({ state }) => states.push(state));

    tabPorts.get(hidden)!.postMessage({ op: 'bye' }); // what its pagehide listener sends
    await expect.poll(() => states, WAIT).toEqual(['reconnecting', 'open']);
    expect(await hidden.call.add({ a: 2, b: 2 })).toBe(4);
    await ctx.server.emit('tick', { seq: 1, at: new Date() });
    await expect.poll(() => seen, WAIT).toEqual([1]);
    expect(ctx.server.stats()).toMatchObject({ connections: 1, subscriptions: 1 });
  });

  it('frees the shared window when a tab cancels a call or its deadline passes', async () => {
    const { ctx, openTab } = await setUp({ limits: { maxInFlightCalls: 2 } });
    const tab = openTab();
    const controllers = [new AbortController(), new AbortController()];
    const cancelled = controllers.map((controller, index) =>
      rejectionOf(tab.call.waitForAbort({ key: `c${index}` }, { signal: controller.signal })),
    );
    await expect.poll(() => ctx.server.stats().inFlightCalls, WAIT).toBe(2);
    for (const controller of controllers) controller.abort();
    expect((await Promise.all(cancelled)).map((error) => error.code)).toEqual(['CANCELLED', 'CANCELLED']);
    expect((await rejectionOf(tab.call.waitForAbort({ key: 't' }, { timeoutMs: 50 }))).code).toBe('TIMEOUT');
    // Had the three given-up calls kept their slots, these would wait in the worker forever.
    const sums = await Promise.all([1, 2, 3, 4].map((b) => tab.call.add({ a: 1, b })));
    expect(sums).toEqual([2, 3, 4, 5]);
  });

  it('resumes a tab that comes back after another tab has resubscribed the stream', async () => {
    const { ctx, openTab, connected } = await setUp();
    const fast = openTab();
    // The slow tab connects at once the first time; every later attempt waits for the gate, so it
    // comes back only once the fast tab has resubscribed (an order, not a timing).
    let openGate: () => void = () => {};
    const gate = new Promise<void>((resolve) => (openGate = resolve));
    let attempts = 0;
    const slow = openTab({ url: async () => (attempts++ === 0 ? ctx.url : gate.then(() => ctx.url)) });
    const seen: number[][] = [[], []];
    let gaps = 0;
    [fast, slow].forEach((tab, t) => tab.on('tick', ({ seq }) => seen[t]!.push(seq), { onGap: () => gaps++ }));
    await expect.poll(() => ctx.server.stats().subscriptions, WAIT).toBe(1);
    await ctx.server.emit('tick', { seq: 1, at: new Date() });
    await expect.poll(() => seen, WAIT).toEqual([[1], [1]]);

    connected[0]!.close(1012, 'restarting');
    await ctx.server.emit('tick', { seq: 2, at: new Date() });
    await ctx.server.emit('tick', { seq: 3, at: new Date() });
    // The fast tab resubscribes first (after 1) and gets 2 and 3 from the server's history...
    await expect.poll(() => seen[0], WAIT).toEqual([1, 2, 3]);
    expect(slow.state).toBe('reconnecting');
    expect(seen[1]).toEqual([1]);
    openGate();
    // ...the slow one joins the stream later, also after 1, and gets them from the worker.
    await expect.poll(() => seen[1], WAIT).toEqual([1, 2, 3]);
    await ctx.server.emit('tick', { seq: 4, at: new Date() });
    await expect
      .poll(() => seen, WAIT)
      .toEqual([
        [1, 2, 3, 4],
        [1, 2, 3, 4],
      ]);
    expect(gaps).toBe(0);
  });

  it('reconnects a tab the worker took for gone once it speaks again', async () => {
    const { ctx, openTab } = await setUp({}, { silentLimitMs: 300 });
    const tab = openTab();
    const seen: number[] = [];
    tab.on('tick', ({ seq }) => seen.push(seq));
    await expect.poll(() => ctx.server.stats().subscriptions, WAIT).toBe(1);
    await ctx.server.emit('tick', { seq: 1, at: new Date() });
    await expect.poll(() => seen, WAIT).toEqual([1]);
    const states: string[] = [];
    tab.onStateChange(({ state }) => states.push(state));
    // Silent past the limit (its keep-alive comes every 20 s): the worker releases its lanes.
    await expect.poll(() => states, WAIT).toEqual(expect.arrayContaining(['reconnecting', 'open']));
    await expect.poll(() => tab.state, WAIT).toBe('open');
    await ctx.server.emit('tick', { seq: 2, at: new Date() });
    await expect.poll(() => seen, WAIT).toEqual([1, 2]);
    expect(await tab.call.add({ a: 1, b: 1 })).toBe(2);
  });

  it('shares one server stream between params the server’s schema makes equal', async () => {
    const { ctx, openTab } = await setUp();
    const [plain, extra] = [openTab(), openTab()];
    const heard: string[][] = [[], []];
    plain.on('chatMessage', { room: 'a' }, ({ text }) => heard[0]!.push(text));
    // An unknown key, which the server's z.object strips: the same stream key as { room: 'a' }.
    const off = extra.on('chatMessage', { room: 'a', extra: 1 } as never, ({ text }: { text: string }) =>
      heard[1]!.push(text),
    );
    await expect.poll(() => ctx.server.stats().subscriptions, WAIT).toBe(1);
    expect(await plain.call.add({ a: 0, b: 0 })).toBe(0);
    expect(await extra.call.add({ a: 0, b: 0 })).toBe(0);
    await ctx.server.emit('chatMessage', { room: 'a', text: 'one', at: new Date() }, { params: { room: 'a' } });
    await expect.poll(() => heard, WAIT).toEqual([['one'], ['one']]);
    off();
    expect(await extra.call.add({ a: 0, b: 0 })).toBe(0);
    await ctx.server.emit('chatMessage', { room: 'a', text: 'two', at: new Date() }, { params: { room: 'a' } });
    await expect.poll(() => heard, WAIT).toEqual([['one', 'two'], ['one']]);
  });

  it('gives tabs of another build (another contract) a connection of their own', async () => {
    const { ctx, openTab, connected, hub } = await setUp();
    const current = openTab();
    // A tab still running the previous deploy: a contract with fewer procedures, another fingerprint.
    const previousApi = defineContract({ procedures: { add: testApi.procedures.add }, events: {} });
    const { port1, port2 } = new MessageChannel();
    hub.connect(port2 as unknown as PortLike);
    const previous = createClient(previousApi, {
      url: ctx.url,
      logger: quietClientLogger,
      shareAcrossTabs: sharedTabs({ worker: () => ({ port: port1 as unknown as PortLike }) }),
    });
    cleanups.push(
      () => previous.close(),
      () => port1.close(),
    );
    expect(await current.call.add({ a: 1, b: 2 })).toBe(3);
    expect(await previous.call.add({ a: 2, b: 2 })).toBe(4);
    expect(connected).toHaveLength(2);
    expect(await openTab().call.add({ a: 3, b: 3 })).toBe(6);
    expect(connected).toHaveLength(2);
  });

  it('unsubscribes upstream only when the last tab listening to a stream leaves', async () => {
    const { ctx, openTab } = await setUp();
    const [a, b] = [openTab(), openTab()];
    const offA = a.on('tick', () => {});
    const offB = b.on('tick', () => {});
    await expect.poll(() => ctx.server.stats().subscriptions, WAIT).toBe(1);
    offA();
    expect(await a.call.add({ a: 0, b: 0 })).toBe(0); // a round trip after the unsub
    expect(ctx.server.stats().subscriptions).toBe(1);
    offB();
    await expect.poll(() => ctx.server.stats().subscriptions, WAIT).toBe(0);
  });

  it('keeps the server’s in-flight limit across all tabs, queueing the excess in the hub', async () => {
    const { ctx, openTab } = await setUp({ limits: { maxInFlightCalls: 2 } });
    const tabs = [openTab(), openTab(), openTab()];
    const answers = await Promise.all(
      tabs.flatMap((tab, t) => [0, 1, 2].map((n) => tab.call.sleep({ ms: 20, tag: `${t}-${n}` }))),
    );
    expect(answers).toHaveLength(9);
    expect(ctx.server.stats().errors).toEqual({});
  });

  it('carries every tab through a server restart: reconnect, resubscribe, resume', async () => {
    const { ctx, openTab, connected } = await setUp();
    const tabs = [openTab(), openTab()];
    const seen = tabs.map(() => [] as number[]);
    tabs.forEach((tab, t) => tab.on('tick', ({ seq }) => seen[t]!.push(seq)));
    await expect.poll(() => ctx.server.stats().subscriptions, WAIT).toBe(1);
    await ctx.server.emit('tick', { seq: 1, at: new Date() });
    await expect.poll(() => seen, WAIT).toEqual([[1], [1]]);

    // The server drops the one upstream connection: every tab goes through its own reconnect. The
    // transitions are recorded, not polled: a fast reconnect can be over between two polls.
    const states = tabs.map((tab) => recordStates(tab));
    connected[0]!.close(1012, 'restarting');
    await expect
      .poll(() => states.map((changes) => changes.some((change) => change.state !== 'open')), WAIT)
      .toEqual([true, true]);
    await expect.poll(() => tabs.map((tab) => tab.state), { ...WAIT, timeout: 10_000 }).toEqual(['open', 'open']);
    for (const changes of states) changes.stop();
    await expect.poll(() => ctx.server.stats().subscriptions, WAIT).toBe(1);
    await ctx.server.emit('tick', { seq: 2, at: new Date() });
    await expect
      .poll(() => seen, WAIT)
      .toEqual([
        [1, 2],
        [1, 2],
      ]);
    expect(connected).toHaveLength(2);
    expect(ctx.server.stats().connections).toBe(1);
  });
});
