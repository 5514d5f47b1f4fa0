/**
 * Type-level tests of the client: calls and subscriptions typed from the contract the server uses.
 * Clients are only created inside functions that never run, so no socket is opened.
 */
import {
  createClient,
  type CallProxy,
  type EventMeta,
  type PortLike,
  type ShareAcrossTabs,
  type SharedTabs,
  type WirecallClient,
} from '@wirecall/client';
import { sharedTabs } from '@wirecall/client/shared-tabs';
import { defineContract } from '@wirecall/core';
import { describe, expectTypeOf, it } from 'vitest';
import { z } from 'zod';
import { testApi, type TestApi } from '../helpers/fixtures.js';

const withParams = defineContract({
  procedures: { whoami: { input: z.null(), output: z.string() } },
  connectionParams: z.object({ token: z.string() }),
});

describe('createClient', () => {
  it('returns a client typed by the contract', () => {
    const _connect = () => createClient(testApi, { url: 'ws://127.0.0.1:1' });
    expectTypeOf(_connect).returns.toEqualTypeOf<WirecallClient<TestApi>>();
  });

  it('types connection params from the contract', () => {
    const _static = () => createClient(withParams, { url: 'ws://x', connectionParams: { token: 't' } });
    const _refreshed = () =>
      createClient(withParams, { url: 'ws://x', connectionParams: async () => Promise.resolve({ token: 't' }) });
    // @ts-expect-error token is a string
    const _wrong = () => createClient(withParams, { url: 'ws://x', connectionParams: { token: 1 } });
  });

  it('accepts every url form', () => {
    const _list = () => createClient(testApi, { url: ['ws://a', 'ws://b'] });
    const _fn = () => createClient(testApi, { url: async () => Promise.resolve('ws://a') });
    // @ts-expect-error url is required
    const _missing = () => createClient(testApi, {});
  });

  it('takes shareAcrossTabs from sharedTabs(), with wirecall’s worker or one of the app’s own', () => {
    const _on = () => createClient(testApi, { url: 'ws://x', shareAcrossTabs: sharedTabs() });
    const _off = () => createClient(testApi, { url: 'ws://x', shareAcrossTabs: false });
    const _worker = (worker: SharedWorker) =>
      createClient(testApi, { url: 'ws://x', shareAcrossTabs: sharedTabs({ worker: () => worker }) });
    expectTypeOf<ShareAcrossTabs>().toEqualTypeOf<SharedTabs | false>();
    expectTypeOf(sharedTabs).parameter(0).toEqualTypeOf<{ worker?: () => { port: PortLike } } | undefined>();
    // @ts-expect-error sharedTabs(), not a switch: the worker comes with @wirecall/client/shared-tabs
    const _switch = () => createClient(testApi, { url: 'ws://x', shareAcrossTabs: true });
    const _bare = (worker: SharedWorker) =>
      // @ts-expect-error the worker goes through sharedTabs()
      createClient(testApi, { url: 'ws://x', shareAcrossTabs: { worker: () => worker } });
    // @ts-expect-error the worker must be something with a port
    const _noPort = () => createClient(testApi, { url: 'ws://x', shareAcrossTabs: sharedTabs({ worker: () => ({}) }) });
  });
});

/** Only declared: the tests below are type-checked, never run, so no client exists. */
declare const client: WirecallClient<TestApi>;

describe('client.call', () => {
  it('resolves to the output type', () => {
    expectTypeOf(client.call.add({ a: 1, b: 2 })).toEqualTypeOf<Promise<number>>();
    expectTypeOf(client.call.add({ a: 1, b: 2 })).resolves.toEqualTypeOf<number>();
    expectTypeOf(client.call.getUser({ id: 'u1' })).resolves.toEqualTypeOf<{
      id: string;
      name: string;
      createdAt: Date;
    }>();
    expectTypeOf(client.call.bytes({ data: new Uint8Array(1) })).resolves.toEqualTypeOf<Uint8Array<ArrayBuffer>>();
    expectTypeOf(client.call.echo(new Map([[1, 2]]))).resolves.toBeUnknown();
    expectTypeOf(client.call.sleep({ ms: 1 })).resolves.toEqualTypeOf<string>();
  });

  it('takes call options', () => {
    const controller = new AbortController();
    void client.call.add({ a: 1, b: 2 }, { signal: controller.signal, timeoutMs: 100, whenOffline: 'fail' });
    // @ts-expect-error whenOffline is 'queue' or 'fail'
    void client.call.add({ a: 1, b: 2 }, { whenOffline: 'drop' });
  });

  it('refuses a wrong input', () => {
    // @ts-expect-error a is a number
    void client.call.add({ a: '1', b: 2 });
    // @ts-expect-error b is missing
    void client.call.add({ a: 1 });
    // @ts-expect-error the input is required
    void client.call.add();
    // @ts-expect-error kind is one of the enum values
    void client.call.fail({ kind: 'other' });
    // @ts-expect-error data is a Uint8Array
    void client.call.bytes({ data: [1, 2] });
  });

  it('refuses an unknown procedure', () => {
    // @ts-expect-error not a procedure of the contract
    void client.call.nope;
    // @ts-expect-error an event is not a procedure
    void client.call.tick;
  });

  it('is read-only', () => {
    // @ts-expect-error call is readonly
    client.call = {} as CallProxy<TestApi>;
  });
});

describe('client.on', () => {
  it('types the payload of events without params', () => {
    const off = client.on('tick', (tick, meta) => {
      expectTypeOf(tick).toEqualTypeOf<{ seq: number; at: Date }>();
      expectTypeOf(tick.at).toEqualTypeOf<Date>();
      expectTypeOf(meta).toEqualTypeOf<EventMeta>();
    });
    expectTypeOf(off).toEqualTypeOf<() => void>();
    client.on('blob', (blob) => {
      expectTypeOf(blob.tags).toEqualTypeOf<Set<string>>();
      expectTypeOf(blob.data).toEqualTypeOf<Uint8Array<ArrayBuffer>>();
    });
  });

  it('takes params first for events that declare them', () => {
    client.on('chatMessage', { room: 'a' }, (message) => {
      expectTypeOf(message).toEqualTypeOf<{ room: string; text: string; at: Date }>();
    });
  });

  it('refuses missing or wrong params', () => {
    // @ts-expect-error chatMessage needs params before the handler
    client.on('chatMessage', () => undefined);
    // @ts-expect-error room is a string
    client.on('chatMessage', { room: 1 }, () => undefined);
    // @ts-expect-error tick takes no params
    client.on('tick', {}, () => undefined);
  });

  it('refuses an unknown event', () => {
    // @ts-expect-error not an event of the contract
    client.on('nope', () => undefined);
    // @ts-expect-error a procedure is not an event
    client.on('add', () => undefined);
  });

  it('refuses a handler that expects another payload', () => {
    // @ts-expect-error the payload's seq is a number
    client.on('tick', (tick: { seq: string }) => tick.seq);
  });
});
