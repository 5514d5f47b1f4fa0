/**
 * Type-level tests of the server: handlers checked against the contract, ctx inferred from the
 * `authenticate` and `context` options, and emit typed by event. Servers are only built inside
 * functions that never run, so no port is opened.
 */
import type { IncomingMessage } from 'node:http';
import { defineContract, type ProcedureName } from '@wirecall/core';
import {
  createServer,
  type ConnectionInfo,
  type DefaultContext,
  type HandlerArgs,
  type Handlers,
  type WirecallServer,
} from '@wirecall/server';
import { describe, expectTypeOf, it } from 'vitest';
import { z } from 'zod';
import { testApi, type TestApi } from '../helpers/fixtures.js';

/**
 * Every handler of testApi, correctly typed and not using ctx (so they fit any context); tests that
 * are about one handler override it. Tests about ctx spell every handler out instead, so that these
 * do not take part in inferring the context type.
 */
const handlers = {
  add: ({ input }) => input.a + input.b,
  getUser: ({ input }) => ({ id: input.id, name: 'Ada', createdAt: new Date() }),
  echo: ({ input }) => input,
  sleep: ({ input }) => Promise.resolve(`slept ${input.ms}`),
  fail: () => 1,
  waitForAbort: ({ input }) => input.key,
  bytes: ({ input }) => input.data,
} satisfies Handlers<TestApi, unknown>;

const withParams = defineContract({
  procedures: { whoami: { input: z.null(), output: z.string() } },
  connectionParams: z.object({ token: z.string() }),
});

describe('createServer handlers', () => {
  it('accepts one handler per procedure, sync or async', () => {
    const _build = () => createServer(testApi, { handlers });
    const _async = () =>
      createServer(testApi, {
        handlers: {
          ...handlers,
          add: async ({ input }) => {
            await Promise.resolve();
            return input.a + input.b;
          },
        },
      });
  });

  it('has exactly one handler key per procedure', () => {
    expectTypeOf<keyof Handlers<TestApi, undefined>>().toEqualTypeOf<ProcedureName<TestApi>>();
  });

  it('refuses a missing handler', () => {
    const { add: _add, ...withoutAdd } = handlers;
    const _build = () =>
      createServer(testApi, {
        // @ts-expect-error add has no handler
        handlers: withoutAdd,
      });
  });

  it('refuses an extra handler', () => {
    const _build = () =>
      createServer(testApi, {
        handlers: {
          ...handlers,
          // @ts-expect-error not a procedure of the contract
          subtract: () => 0,
        },
      });
  });

  it('refuses a handler that returns the wrong type', () => {
    const _sync = () =>
      createServer(testApi, {
        handlers: {
          ...handlers,
          // @ts-expect-error add returns a number, not a string
          add: () => 'three',
        },
      });
    const _async = () =>
      createServer(testApi, {
        handlers: {
          ...handlers,
          // @ts-expect-error add resolves to a number, not a string
          add: () => Promise.resolve('three'),
        },
      });
    const _partialUser = () =>
      createServer(testApi, {
        handlers: {
          ...handlers,
          // @ts-expect-error createdAt is missing
          getUser: ({ input }) => ({ id: input.id, name: 'Ada' }),
        },
      });
  });

  it('types input from the input schema, and the other handler args', () => {
    const _build = () =>
      createServer(testApi, {
        handlers: {
          ...handlers,
          add: ({ input, signal, meta, connection }) => {
            expectTypeOf(input).toEqualTypeOf<{ a: number; b: number }>();
            expectTypeOf(input).not.toHaveProperty('c');
            expectTypeOf(signal).toEqualTypeOf<AbortSignal>();
            expectTypeOf(meta.procedure).toEqualTypeOf<string>();
            expectTypeOf(meta.idempotencyKey).toEqualTypeOf<string | undefined>();
            expectTypeOf(connection).toEqualTypeOf<ConnectionInfo>();
            return input.a + input.b;
          },
          sleep: ({ input }) => {
            expectTypeOf(input).toEqualTypeOf<{ ms: number; tag?: string | undefined }>();
            return 'ok';
          },
          bytes: ({ input }) => {
            expectTypeOf(input.data).toEqualTypeOf<Uint8Array<ArrayBuffer>>();
            return input.data;
          },
        },
      });
  });

  it('exports HandlerArgs for handlers written apart from createServer', () => {
    const add = ({ input }: HandlerArgs<{ a: number; b: number }, { userId: string }>): number => input.a + input.b;
    expectTypeOf(add).toExtend<Handlers<TestApi, { userId: string }>['add']>();
    // @ts-expect-error a handler for add must return a number
    expectTypeOf((): string => 'x').toExtend<Handlers<TestApi, { userId: string }>['add']>();
  });
});

describe('handler ctx', () => {
  it('defaults to auth and connection params when there is no context option', () => {
    const _build = () =>
      createServer(testApi, {
        handlers: {
          add: ({ input, ctx }) => {
            expectTypeOf(ctx).toEqualTypeOf<DefaultContext<TestApi, undefined>>();
            expectTypeOf(ctx.auth).toEqualTypeOf<undefined>();
            expectTypeOf(ctx.connectionParams).toEqualTypeOf<undefined>();
            return input.a + input.b;
          },
          getUser: ({ input }) => ({ id: input.id, name: 'Ada', createdAt: new Date() }),
          echo: ({ input }) => input,
          sleep: () => 'ok',
          fail: () => 1,
          waitForAbort: ({ input }) => input.key,
          bytes: ({ input }) => input.data,
        },
      });
    expectTypeOf(_build).returns.toEqualTypeOf<WirecallServer<TestApi>>();
  });

  it('is typed from the context option', () => {
    const _build = () =>
      createServer(testApi, {
        context: () => ({ userId: 'u1', roles: ['admin'] as const }),
        handlers: {
          add: ({ input, ctx }) => {
            expectTypeOf(ctx).toEqualTypeOf<{ userId: string; roles: readonly ['admin'] }>();
            return input.a + ctx.userId.length;
          },
          getUser: ({ input, ctx }) => ({ id: input.id, name: ctx.userId, createdAt: new Date() }),
          echo: ({ input }) => input,
          sleep: ({ ctx }) => ctx.roles[0],
          fail: () => 1,
          waitForAbort: ({ input }) => input.key,
          bytes: ({ input }) => input.data,
        },
      });
    expectTypeOf(_build).returns.toEqualTypeOf<
      WirecallServer<TestApi, { userId: string; roles: readonly ['admin'] }>
    >();
  });

  it('is typed from an async context that reads its args', () => {
    const _build = () =>
      createServer(withParams, {
        authenticate: ({ request }) => {
          expectTypeOf(request).toEqualTypeOf<IncomingMessage>();
          return { userId: request.headers['x-user'] ?? 'anonymous' };
        },
        context: async ({ request, auth, connectionParams }) => {
          expectTypeOf(request).toEqualTypeOf<IncomingMessage>();
          expectTypeOf(auth).toEqualTypeOf<{ userId: string | string[] }>();
          expectTypeOf(connectionParams).toEqualTypeOf<{ token: string }>();
          await Promise.resolve();
          return { ip: request.socket.remoteAddress ?? 'unknown', token: connectionParams.token };
        },
        handlers: {
          whoami: ({ ctx }) => {
            expectTypeOf(ctx).toEqualTypeOf<{ ip: string; token: string }>();
            return ctx.token;
          },
        },
      });
  });

  it('carries auth and typed connection params without a context option', () => {
    const _build = () =>
      createServer(withParams, {
        authenticate: () => ({ userId: 'u1' }),
        handlers: {
          whoami: ({ ctx }) => {
            expectTypeOf(ctx.auth).toEqualTypeOf<{ userId: string }>();
            expectTypeOf(ctx.connectionParams).toEqualTypeOf<{ token: string }>();
            return ctx.auth.userId;
          },
        },
      });
  });

  it('refuses a handler that uses ctx wrongly', () => {
    const _build = () =>
      createServer(testApi, {
        context: () => ({ userId: 'u1' }),
        handlers: {
          // @ts-expect-error ctx.userId is a string, so this returns a string
          add: ({ ctx }) => ctx.userId,
          getUser: ({ input }) => ({ id: input.id, name: 'Ada', createdAt: new Date() }),
          echo: ({ input }) => input,
          sleep: ({ ctx }) => {
            expectTypeOf(ctx).not.toHaveProperty('role');
            return ctx.userId;
          },
          fail: () => 1,
          waitForAbort: ({ input }) => input.key,
          bytes: ({ input }) => input.data,
        },
      });
  });
});

describe('server.emit', () => {
  const message = { room: 'a', text: 'hi', at: new Date() };

  it('takes the payload of events without params', () => {
    const _emit = (server: WirecallServer<TestApi>) => server.emit('tick', { seq: 1, at: new Date() });
    expectTypeOf(_emit).returns.toEqualTypeOf<Promise<string>>();
    const _blob = (server: WirecallServer<TestApi>) =>
      server.emit('blob', { data: new Uint8Array(1), tags: new Set(['x']) });
  });

  it('requires params for events that declare them', () => {
    const _ok = (server: WirecallServer<TestApi>) => server.emit('chatMessage', message, { params: { room: 'a' } });
    // @ts-expect-error chatMessage needs its params
    const _missing = (server: WirecallServer<TestApi>) => server.emit('chatMessage', message);
    const _wrong = (server: WirecallServer<TestApi>) =>
      // @ts-expect-error room is a string
      server.emit('chatMessage', message, { params: { room: 1 } });
  });

  it('refuses params for events without them', () => {
    // @ts-expect-error tick has no params
    const _extra = (server: WirecallServer<TestApi>) => server.emit('tick', { seq: 1, at: new Date() }, { params: {} });
  });

  it('refuses a payload of the wrong shape', () => {
    // @ts-expect-error seq is a number
    const _seq = (server: WirecallServer<TestApi>) => server.emit('tick', { seq: 'x', at: new Date() });
    // @ts-expect-error at is missing
    const _missing = (server: WirecallServer<TestApi>) => server.emit('tick', { seq: 1 });
    // @ts-expect-error at is a Date, not a string
    const _string = (server: WirecallServer<TestApi>) => server.emit('tick', { seq: 1, at: '2024-01-01' });
  });

  it('refuses an unknown event', () => {
    // @ts-expect-error not an event of the contract
    const _unknown = (server: WirecallServer<TestApi>) => server.emit('nope', {});
    // @ts-expect-error a procedure is not an event
    const _procedure = (server: WirecallServer<TestApi>) => server.emit('add', { a: 1, b: 2 });
  });
});
