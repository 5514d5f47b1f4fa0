import type { z } from 'zod';
import type { AnyContract, inferSend, ProcedureName, SchemaLike } from '../contract/types.js';
import type { ErrorCode } from './codes.js';
import type { WirecallError } from './wirecall-error.js';

/**
 * The `data` each built-in code carries when wirecall itself raises it. Codes not listed carry
 * whatever the handler that threw them gave (`unknown`).
 */
export interface BuiltinErrorData {
  /** Input, params or connection params failed the schema (absent for a malformed frame). */
  BAD_REQUEST: { issues: z.core.$ZodIssue[] } | undefined;
  /** Absent, or `issues` when the client found the server's answer off-contract. */
  INTERNAL: { issues: z.core.$ZodIssue[] } | undefined;
  /** `maxInFlightCalls` or `maxStreams` when the server's window of concurrent calls or streams was full. */
  RATE_LIMITED: { maxInFlightCalls: number } | { maxStreams: number } | undefined;
  /** `notExecuted: true` when the server refused the call unrun (it is shutting down). */
  UNAVAILABLE: { notExecuted: true } | undefined;
}

/** `data` of a built-in code. */
export type BuiltinData<TCode extends ErrorCode> = TCode extends keyof BuiltinErrorData
  ? BuiltinErrorData[TCode]
  : unknown;

/** One procedure's declared errors: code to data schema (`{}` when it declares none). */
export type inferErrorSchemas<
  TContract extends AnyContract,
  TName extends ProcedureName<TContract>,
> = TContract['procedures'][TName] extends { errors: infer TErrors extends Record<string, SchemaLike> }
  ? TErrors
  : Record<never, never>;

/**
 * Every error a call of `TName` can reject with, as a union the caller narrows on `code`: the
 * procedure's declared errors with their parsed `data`, and the built-in codes.
 */
export type inferCallError<TContract extends AnyContract, TName extends ProcedureName<TContract>> =
  | {
      [TCode in keyof inferErrorSchemas<TContract, TName> & string]: WirecallError<
        TCode,
        z.output<inferErrorSchemas<TContract, TName>[TCode]>
      >;
    }[keyof inferErrorSchemas<TContract, TName> & string]
  | { [TCode in ErrorCode]: WirecallError<TCode, BuiltinData<TCode>> }[ErrorCode];

/**
 * Register a contract to have `new WirecallError(code, message, { data })` checked against its
 * declared errors everywhere in the app (an unknown code or the wrong `data` is a compile error):
 *
 * @example
 * declare module '@wirecall/core' {
 *   interface Register {
 *     contract: typeof api;
 *   }
 * }
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type -- filled in by the app's declaration merging
export interface Register {}

/** Every procedure's declared errors, its groups' included, as one union of code-to-schema maps. */
type AllErrorSchemas<TContract extends AnyContract> =
  | {
      [TName in ProcedureName<TContract>]: inferErrorSchemas<TContract, TName>;
    }[ProcedureName<TContract>]
  | GroupErrorSchemas<TContract['groups']>;

/** {@link AllErrorSchemas} of each group (nothing for the widest contract's `any` groups). */
type GroupErrorSchemas<TGroups> = 0 extends 1 & TGroups
  ? never
  : {
      [TGroup in keyof TGroups]: TGroups[TGroup] extends AnyContract ? AllErrorSchemas<TGroups[TGroup]> : never;
    }[keyof TGroups];

/** The data a handler gives for a declared code (its schema's sending side, over every procedure declaring it). */
type DeclaredData<TContract extends AnyContract, TCode extends string> =
  AllErrorSchemas<TContract> extends infer TMap
    ? TMap extends Record<TCode, infer TSchema extends SchemaLike>
      ? inferSend<TSchema>
      : never
    : never;

type DeclaredCode<TContract extends AnyContract> =
  AllErrorSchemas<TContract> extends infer TMap ? (TMap extends unknown ? keyof TMap & string : never) : never;

/**
 * The codes `new WirecallError` accepts: the built-in codes, and those the registered contract's
 * procedures declare (a typo is a compile error either way).
 */
export type KnownErrorCode = Register extends { contract: infer TContract extends AnyContract }
  ? ErrorCode | DeclaredCode<TContract>
  : ErrorCode;

/** The `data` a code takes in `new WirecallError`. */
export type ErrorDataFor<TCode extends string> = TCode extends ErrorCode
  ? BuiltinData<TCode>
  : Register extends { contract: infer TContract extends AnyContract }
    ? DeclaredData<TContract, TCode>
    : unknown;
