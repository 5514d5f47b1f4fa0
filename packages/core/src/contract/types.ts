import type { z } from 'zod';

/**
 * A schema, as the types see it: what zod's `z.input` and `z.output` read. A contract's schemas are
 * zod schemas (defineContract checks that each can parse); the types ask for no more than this,
 * because matching a schema against the `z.ZodType` class is a structural comparison that made a
 * 400-procedure contract type-check twice as slowly as tRPC (bench/README.md, "Type-checking cost").
 */
export interface SchemaLike {
  readonly _zod: { readonly input: unknown; readonly output: unknown };
}

/**
 * One procedure: what the caller sends (`input`) and what the handler returns (`output`); or, for
 * a streaming procedure, the items the handler yields (`stream`), with `output` as an optional
 * final value. `inputStream` makes the caller send a stream of items too (an upload).
 * `idempotent: true` lets the client retry the call after a dropped connection.
 */
export interface ProcedureDef {
  input: SchemaLike;
  /** The result; for a streaming procedure the final value after the items (optional there). */
  output?: SchemaLike;
  /**
   * Items the handler yields (an async generator), delivered to the caller as an async iterable
   * under credit-based flow control. See docs/streams.md.
   */
  stream?: SchemaLike;
  /** Items the caller sends (an async iterable), delivered to the handler as one. */
  inputStream?: SchemaLike;
  /**
   * The stream survives a dropped connection: the handler yields each item with an id
   * (`tracked(id, item)`), and after a reconnect the client calls again with the last id it saw,
   * which the handler gets as `lastEventId`, so the app's iteration goes on. @default false
   */
  resumable?: boolean;
  /** Safe to run twice: the client retries it transparently after a drop. @default false */
  idempotent?: boolean;
  /**
   * Errors of this procedure's own, by code (SCREAMING_SNAKE, not a built-in code), each with the
   * schema of its `data`. A handler throws `new WirecallError('OUT_OF_STOCK', message, { data })`;
   * the caller narrows on `error.code` (see `isCallError`) and reads `error.data` typed.
   *
   * @example errors: { OUT_OF_STOCK: z.object({ sku: z.string(), left: z.number() }) }
   */
  errors?: Record<string, SchemaLike>;
}

/**
 * One event stream family: its `payload` and, optionally, subscription `params` that pick a stream
 * (for example `{ room }`); the server sends an event only to subscribers of its params.
 */
export interface EventDef {
  payload: SchemaLike;
  params?: SchemaLike;
  /** Latest-value stream: a slow consumer gets only the newest pending event. @default false */
  conflate?: boolean;
  /**
   * Who is there: the data each member of a stream shows (a name, an avatar). A client observes a
   * stream's members with `client.presence(...)` and joins with its own data. See docs/rooms.md.
   */
  presence?: SchemaLike;
  /**
   * `'user'`: a personal event. Each subscriber gets its own stream (per user, from the server's
   * `identify`), with its own history and resume; `server.emit(name, payload, { user })` sends to
   * every connection of that user on every node.
   */
  to?: 'user';
}

/**
 * One message the client sends without an answer (a typing notice, a cursor position): its
 * `payload` schema. Dropped while the client is offline, unless `queue: true`.
 */
export interface MessageDef {
  payload: SchemaLike;
  /** Keep it while offline and send it on the next connection (a stale notice is usually worse). @default false */
  queue?: boolean;
}

export type MessageMap = Record<string, MessageDef>;
/** Groups of a contract: each a contract of its own (one team's part), by its name. */
export type GroupMap = Record<string, AnyContract>;
export type ProcedureMap = Record<string, ProcedureDef>;
export type EventMap = Record<string, EventDef>;

/** What defineContract returns; shared by server and client, the single source of types. */
export interface Contract<
  TProcedures extends ProcedureMap = ProcedureMap,
  TEvents extends EventMap = EventMap,
  TConnectionParams extends SchemaLike | undefined = SchemaLike | undefined,
  TMessages extends MessageMap = MessageMap,
  TGroups extends GroupMap = GroupMap,
> {
  /** This contract's own procedures (its groups' are in `groups`). */
  readonly procedures: TProcedures;
  /** Every event, its groups' included under `<group>.<name>`: events are addressed by name. */
  readonly events: TEvents;
  /** Messages the client sends without an answer. */
  readonly messages: TMessages;
  /** Schema of the params a client sends when it connects (browsers cannot set headers). */
  readonly connectionParams: TConnectionParams;
  /** Hash of the contract's names and schemas; client and server compare it at connect. */
  readonly fingerprint: string;
  /**
   * Groups (`users`, `billing`): contracts of their own, whose procedures are called as
   * `client.call.users.get(...)`, implemented by `handlers: { users: { get } }`, and travel as
   * `users.get`. See docs/contracts.md.
   */
  readonly groups: TGroups;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the widest contract, for constraints
export type AnyContract = Contract<any, any, any, any, any>;

/** The events of `TGroups`, named `<group>.<event>` (a group's own groups are already in its events). */
export type GroupEvents<TGroups extends GroupMap> = {
  [
    TKey in {
      [TGroup in keyof TGroups & string]: `${TGroup}.${keyof TGroups[TGroup]['events'] & string}`;
    }[keyof TGroups & string]
  ]: TKey extends `${infer TGroup}.${infer TEvent}` ? TGroups[TGroup]['events'][TEvent] : never;
};

export type inferProcedures<TContract extends AnyContract> = TContract['procedures'];
export type inferEvents<TContract extends AnyContract> = TContract['events'];
export type ProcedureName<TContract extends AnyContract> = keyof TContract['procedures'] & string;
export type EventName<TContract extends AnyContract> = keyof TContract['events'] & string;
export type MessageName<TContract extends AnyContract> = keyof TContract['messages'] & string;
/** What `client.send.<name>` takes (the payload schema's sending side). */
export type inferMessageInput<TContract extends AnyContract, TName extends MessageName<TContract>> = inferSend<
  TContract['messages'][TName]['payload']
>;
/** What a message handler receives (parsed by the server). */
export type inferMessage<TContract extends AnyContract, TName extends MessageName<TContract>> = z.output<
  TContract['messages'][TName]['payload']
>;

/** Depth past which {@link inferSend} stops looking for codecs (deeper ones take their input side). */
type SendDepth = [unknown, unknown, unknown, unknown, unknown, unknown];

/** A zod schema's definition, as the types read it (`_zod.def`: what kind of schema, its parts). */
type DefOf<TSchema> = TSchema extends { _zod: { def: infer TDef } } ? TDef : never;

/**
 * Whether a codec sits inside `TSchema`, through objects, arrays and optional wrappers. Read from
 * `_zod.def` rather than by matching zod's classes: a class match is a structural comparison that
 * cost hundreds of types per schema (bench/README.md, "Type-checking cost").
 */
type HasCodec<TSchema, TDepth extends unknown[] = []> = TDepth['length'] extends SendDepth['length']
  ? false
  : DefOf<TSchema> extends { reverseTransform: unknown }
    ? true
    : DefOf<TSchema> extends { type: 'object'; shape: infer TShape }
      ? true extends { [K in keyof TShape]: HasCodec<TShape[K], [...TDepth, unknown]> }[keyof TShape]
        ? true
        : false
      : DefOf<TSchema> extends { type: 'array'; element: infer TItem }
        ? HasCodec<TItem, [...TDepth, unknown]>
        : DefOf<TSchema> extends { type: 'optional' | 'nullable' | 'default'; innerType: infer TItem }
          ? HasCodec<TItem, [...TDepth, unknown]>
          : false;

type Simplify<T> = { [K in keyof T]: T[K] } & {};
/** Whether zod makes this schema's key optional on the input side (optional, or with a default). */
type IsOptionalKey<TSchema> = TSchema extends { _zod: { optin: infer TOptional } }
  ? [TOptional] extends ['optional' | 'defaulted']
    ? true
    : false
  : false;

/** {@link inferSend} for a schema with a codec inside: the codec's place takes either side. */
type SendWithCodec<TSchema> =
  DefOf<TSchema> extends { reverseTransform: unknown; in: infer TWire; out: infer TApp }
    ? z.input<TWire> | z.output<TApp>
    : DefOf<TSchema> extends { type: 'object'; shape: infer TShape }
      ? Simplify<
          { [K in keyof TShape as IsOptionalKey<TShape[K]> extends true ? never : K]: inferSend<TShape[K]> } & {
            [K in keyof TShape as IsOptionalKey<TShape[K]> extends true ? K : never]?: inferSend<TShape[K]>;
          }
        >
      : DefOf<TSchema> extends { type: 'array'; element: infer TItem }
        ? inferSend<TItem>[]
        : DefOf<TSchema> extends { type: 'optional' | 'default'; innerType: infer TItem }
          ? inferSend<TItem> | undefined
          : DefOf<TSchema> extends { type: 'nullable'; innerType: infer TItem }
            ? inferSend<TItem> | null
            : z.input<TSchema>;

/**
 * What the sending end of a position writes: the schema's input side (what travels; the receiver
 * parses it into the output side), except that a codec also takes its decoded side, which the
 * sender encodes (a `Date` for an ISO-string codec). See docs/protocol.md, "Transforms and codecs".
 */
export type inferSend<TSchema> = HasCodec<TSchema> extends true ? SendWithCodec<TSchema> : z.input<TSchema>;

/** What the caller passes to a procedure (the input schema's input side; codecs take either side). */
export type inferInput<TContract extends AnyContract, TName extends ProcedureName<TContract>> = inferSend<
  TContract['procedures'][TName]['input']
>;
/** What the handler receives (the input schema's output type, after parsing). */
export type inferParsedInput<TContract extends AnyContract, TName extends ProcedureName<TContract>> = z.output<
  TContract['procedures'][TName]['input']
>;
/** A procedure's schema at `TKey` (`output`, `stream`, `inputStream`), or undefined when it has none. */
type SchemaAt<
  TContract extends AnyContract,
  TName extends ProcedureName<TContract>,
  TKey extends string,
> = TContract['procedures'][TName] extends { [K in TKey]: infer TSchema extends SchemaLike } ? TSchema : undefined;

/**
 * What the handler may return: the output schema's input side (a one-way `.transform` runs on the
 * client, which receives its result); codecs take either side. `undefined` without an output.
 */
export type inferHandlerOutput<TContract extends AnyContract, TName extends ProcedureName<TContract>> =
  SchemaAt<TContract, TName, 'output'> extends SchemaLike ? inferSend<SchemaAt<TContract, TName, 'output'>> : undefined;
/** What the caller's promise resolves to (the output schema's output side, parsed by the client). */
export type inferOutput<TContract extends AnyContract, TName extends ProcedureName<TContract>> =
  SchemaAt<TContract, TName, 'output'> extends SchemaLike ? z.output<SchemaAt<TContract, TName, 'output'>> : undefined;
/** Whether a procedure answers with a stream of items. */
export type isStreamProcedure<TContract extends AnyContract, TName extends ProcedureName<TContract>> =
  SchemaAt<TContract, TName, 'stream'> extends SchemaLike ? true : false;
/** What the handler of a streaming procedure yields (the stream schema's sending side). */
export type inferStreamItemInput<TContract extends AnyContract, TName extends ProcedureName<TContract>> =
  SchemaAt<TContract, TName, 'stream'> extends SchemaLike ? inferSend<SchemaAt<TContract, TName, 'stream'>> : never;
/** What the caller's input stream yields (the `inputStream` schema's sending side). */
export type inferInputStreamItem<TContract extends AnyContract, TName extends ProcedureName<TContract>> =
  SchemaAt<TContract, TName, 'inputStream'> extends SchemaLike
    ? inferSend<SchemaAt<TContract, TName, 'inputStream'>>
    : never;
/** What the handler's `inputStream` yields (the `inputStream` schema's output side, parsed by the server). */
export type inferParsedInputStreamItem<TContract extends AnyContract, TName extends ProcedureName<TContract>> =
  SchemaAt<TContract, TName, 'inputStream'> extends SchemaLike
    ? z.output<SchemaAt<TContract, TName, 'inputStream'>>
    : never;
/** What the caller's iteration yields (the stream schema's output side, parsed by the client). */
export type inferStreamItem<TContract extends AnyContract, TName extends ProcedureName<TContract>> =
  SchemaAt<TContract, TName, 'stream'> extends SchemaLike ? z.output<SchemaAt<TContract, TName, 'stream'>> : never;
/** What `server.emit` takes. */
export type inferPayloadInput<TContract extends AnyContract, TName extends EventName<TContract>> = inferSend<
  TContract['events'][TName]['payload']
>;
/** What a subscriber's handler receives. */
export type inferPayload<TContract extends AnyContract, TName extends EventName<TContract>> = z.output<
  TContract['events'][TName]['payload']
>;
/** What a member of an event stream's presence sends when it joins (the schema's sending side). */
export type inferPresenceInput<
  TContract extends AnyContract,
  TName extends EventName<TContract>,
> = TContract['events'][TName] extends { presence: infer TSchema extends SchemaLike } ? inferSend<TSchema> : never;
/** What observers of an event stream's presence read about each member (parsed on receipt). */
export type inferPresence<
  TContract extends AnyContract,
  TName extends EventName<TContract>,
> = TContract['events'][TName] extends { presence: infer TSchema extends SchemaLike } ? z.output<TSchema> : never;
/** Events of the contract that declare presence. */
export type PresenceEventName<TContract extends AnyContract> = {
  [TName in EventName<TContract>]: TContract['events'][TName] extends { presence: SchemaLike } ? TName : never;
}[EventName<TContract>];
/** The params of an event, or `undefined` for an event without params. */
export type inferParams<
  TContract extends AnyContract,
  TName extends EventName<TContract>,
> = TContract['events'][TName] extends { params: infer TParams extends SchemaLike } ? inferSend<TParams> : undefined;
/** The connection params a client must send, or `undefined` when the contract declares none. */
export type inferConnectionParams<TContract extends AnyContract> = TContract['connectionParams'] extends SchemaLike
  ? inferSend<TContract['connectionParams']>
  : undefined;
/** The connection params as the server's `context` factory gets them (parsed by the schema). */
export type inferParsedConnectionParams<TContract extends AnyContract> =
  TContract['connectionParams'] extends SchemaLike ? z.output<TContract['connectionParams']> : undefined;
