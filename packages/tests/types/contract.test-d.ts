/**
 * Type-level tests of the contract: what defineContract infers, and what the inference helpers give
 * the server and the client. Only types are checked here; nothing runs.
 */
import {
  defineContract,
  WirecallError,
  type Contract,
  type ErrorCode,
  type EventName,
  type inferConnectionParams,
  type inferHandlerOutput,
  type inferInput,
  type inferOutput,
  type inferParams,
  type inferParsedInput,
  type inferPayload,
  type inferPayloadInput,
  type ProcedureName,
} from '@wirecall/core';
import { describe, expectTypeOf, it } from 'vitest';
import { z } from 'zod';
import { testApi, type TestApi } from '../helpers/fixtures.js';

/** A contract whose schemas transform, so input and output types differ on purpose. */
const transformApi = defineContract({
  procedures: {
    length: { input: z.string().transform((text) => text.length), output: z.number().transform(String) },
    withDefault: { input: z.object({ n: z.number().default(1) }), output: z.null() },
  },
  events: {
    stamped: { payload: z.object({ at: z.iso.datetime().transform((text) => new Date(text)) }) },
  },
  connectionParams: z.object({ token: z.string() }),
});
type TransformApi = typeof transformApi;

describe('defineContract', () => {
  it('returns a Contract that keeps the literal procedure and event names', () => {
    expectTypeOf(testApi).toExtend<Contract>();
    expectTypeOf(transformApi).toExtend<Contract>();
    expectTypeOf<ProcedureName<TestApi>>().toEqualTypeOf<
      'add' | 'getUser' | 'echo' | 'sleep' | 'fail' | 'waitForAbort' | 'bytes'
    >();
    expectTypeOf<EventName<TestApi>>().toEqualTypeOf<'tick' | 'chatMessage' | 'blob'>();
    expectTypeOf(testApi.fingerprint).toEqualTypeOf<string>();
  });

  it('gives an empty contract no names', () => {
    const empty = defineContract({});
    expectTypeOf(empty.procedures).toEqualTypeOf<Record<never, never>>();
    expectTypeOf<ProcedureName<typeof empty>>().toEqualTypeOf<never>();
    expectTypeOf<EventName<typeof empty>>().toEqualTypeOf<never>();
    expectTypeOf<inferConnectionParams<typeof empty>>().toEqualTypeOf<undefined>();
  });

  it('refuses definitions that are not schemas', () => {
    // @ts-expect-error input must be a zod schema
    defineContract({ procedures: { add: { input: 'number', output: z.number() } } });
    // @ts-expect-error output is required
    defineContract({ procedures: { add: { input: z.number() } } });
    // @ts-expect-error payload is required
    defineContract({ events: { tick: { params: z.object({}) } } });
    // @ts-expect-error idempotent is a boolean
    defineContract({ procedures: { add: { input: z.number(), output: z.number(), idempotent: 'yes' } } });
  });
});

describe('inference helpers', () => {
  it('infers procedure inputs and outputs', () => {
    expectTypeOf<inferInput<TestApi, 'add'>>().toEqualTypeOf<{ a: number; b: number }>();
    expectTypeOf<inferOutput<TestApi, 'add'>>().toEqualTypeOf<number>();
    expectTypeOf<inferOutput<TestApi, 'getUser'>>().toEqualTypeOf<{ id: string; name: string; createdAt: Date }>();
    expectTypeOf<inferInput<TestApi, 'sleep'>>().toEqualTypeOf<{ ms: number; tag?: string | undefined }>();
    expectTypeOf<inferInput<TestApi, 'fail'>>().toEqualTypeOf<{ kind: 'typed' | 'plain' | 'string' | 'badOutput' }>();
    expectTypeOf<inferOutput<TestApi, 'bytes'>>().toEqualTypeOf<Uint8Array<ArrayBuffer>>();
  });

  it('infers event payloads and params', () => {
    expectTypeOf<inferPayload<TestApi, 'tick'>>().toEqualTypeOf<{ seq: number; at: Date }>();
    expectTypeOf<inferPayload<TestApi, 'blob'>>().toEqualTypeOf<{ data: Uint8Array<ArrayBuffer>; tags: Set<string> }>();
    expectTypeOf<inferParams<TestApi, 'chatMessage'>>().toEqualTypeOf<{ room: string }>();
    expectTypeOf<inferParams<TestApi, 'tick'>>().toEqualTypeOf<undefined>();
  });

  it('keeps the caller side (schema input) and the handler side (schema output) apart', () => {
    // Caller sends a string; the handler gets the parsed number.
    expectTypeOf<inferInput<TransformApi, 'length'>>().toEqualTypeOf<string>();
    expectTypeOf<inferParsedInput<TransformApi, 'length'>>().toEqualTypeOf<number>();
    // Handler returns a number; the caller receives the transformed string.
    expectTypeOf<inferHandlerOutput<TransformApi, 'length'>>().toEqualTypeOf<number>();
    expectTypeOf<inferOutput<TransformApi, 'length'>>().toEqualTypeOf<string>();
    // A default makes the field optional for the caller only.
    expectTypeOf<inferInput<TransformApi, 'withDefault'>>().toEqualTypeOf<{ n?: number | undefined }>();
    expectTypeOf<inferParsedInput<TransformApi, 'withDefault'>>().toEqualTypeOf<{ n: number }>();
    // emit takes the payload's input; subscribers get its output.
    expectTypeOf<inferPayloadInput<TransformApi, 'stamped'>>().toEqualTypeOf<{ at: string }>();
    expectTypeOf<inferPayload<TransformApi, 'stamped'>>().toEqualTypeOf<{ at: Date }>();
  });

  it('infers connection params', () => {
    expectTypeOf<inferConnectionParams<TransformApi>>().toEqualTypeOf<{ token: string }>();
    expectTypeOf<inferConnectionParams<TestApi>>().toEqualTypeOf<undefined>();
  });

  it('only accepts names of the contract', () => {
    // @ts-expect-error not a procedure of the contract
    expectTypeOf<inferInput<TestApi, 'nope'>>().toBeUnknown();
    // @ts-expect-error an event is not a procedure
    expectTypeOf<inferOutput<TestApi, 'tick'>>().toBeUnknown();
    // @ts-expect-error not an event of the contract
    expectTypeOf<inferPayload<TestApi, 'add'>>().toBeUnknown();
  });
});

describe('WirecallError', () => {
  it('takes only documented codes', () => {
    expectTypeOf<ErrorCode>().toEqualTypeOf<
      | 'BAD_REQUEST'
      | 'UNAUTHORIZED'
      | 'FORBIDDEN'
      | 'NOT_FOUND'
      | 'TIMEOUT'
      | 'PAYLOAD_TOO_LARGE'
      | 'RATE_LIMITED'
      | 'CANCELLED'
      | 'INTERNAL'
      | 'UNAVAILABLE'
      | 'CONNECTION_LOST'
      | 'CLOSED'
    >();
    expectTypeOf(new WirecallError('NOT_FOUND', 'x').code).toEqualTypeOf<'NOT_FOUND'>();
    void new WirecallError('BAD_REQUEST', 'x', { data: { issues: [] } });
    expectTypeOf(WirecallError).toBeConstructibleWith('INTERNAL', 'x', { cause: new Error('root') });
    // @ts-expect-error not a documented code
    expectTypeOf(WirecallError).toBeConstructibleWith('NOPE', 'x');
    // @ts-expect-error codes are case-sensitive
    expectTypeOf(WirecallError).toBeConstructibleWith('not_found', 'x');
    // @ts-expect-error the message is required
    expectTypeOf(WirecallError).toBeConstructibleWith('NOT_FOUND');
  });

  it('refuses an undocumented code in a throw', () => {
    const never = (): never => {
      // @ts-expect-error not a documented code
      throw new WirecallError('NOPE', 'x');
    };
    expectTypeOf(never).returns.toBeNever();
  });
});
