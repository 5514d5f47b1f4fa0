import type { z } from 'zod';

/**
 * One procedure: what the caller sends (`input`) and what the handler returns (`output`).
 * `idempotent: true` lets the client retry the call after a dropped connection.
 */
export interface ProcedureDef {
  input: z.ZodType;
  output: z.ZodType;
  /** Safe to run twice: the client retries it transparently after a drop. @default false */
  idempotent?: boolean;
}

/**
 * One event stream family: its `payload` and, optionally, subscription `params` that pick a stream
 * (for example `{ room }`); the server sends an event only to subscribers of its params.
 */
export interface EventDef {
  payload: z.ZodType;
  params?: z.ZodType;
  /** Latest-value stream: a slow consumer gets only the newest pending event. @default false */
  conflate?: boolean;
}

export type ProcedureMap = Record<string, ProcedureDef>;
export type EventMap = Record<string, EventDef>;

/** What defineContract returns; shared by server and client, the single source of types. */
export interface Contract<
  TProcedures extends ProcedureMap = ProcedureMap,
  TEvents extends EventMap = EventMap,
  TConnectionParams extends z.ZodType | undefined = z.ZodType | undefined,
> {
  readonly procedures: TProcedures;
  readonly events: TEvents;
  /** Schema of the params a client sends when it connects (browsers cannot set headers). */
  readonly connectionParams: TConnectionParams;
  /** Hash of the contract's names and schemas; client and server compare it at connect. */
  readonly fingerprint: string;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the widest contract, for constraints
export type AnyContract = Contract<any, any, any>;

export type inferProcedures<TContract extends AnyContract> = TContract['procedures'];
export type inferEvents<TContract extends AnyContract> = TContract['events'];
export type ProcedureName<TContract extends AnyContract> = keyof TContract['procedures'] & string;
export type EventName<TContract extends AnyContract> = keyof TContract['events'] & string;

/** What the caller passes to a procedure (the input schema's input type). */
export type inferInput<TContract extends AnyContract, TName extends ProcedureName<TContract>> = z.input<
  TContract['procedures'][TName]['input']
>;
/** What the handler receives (the input schema's output type, after parsing). */
export type inferParsedInput<TContract extends AnyContract, TName extends ProcedureName<TContract>> = z.output<
  TContract['procedures'][TName]['input']
>;
/** What the handler may return (the output schema's input type). */
export type inferHandlerOutput<TContract extends AnyContract, TName extends ProcedureName<TContract>> = z.input<
  TContract['procedures'][TName]['output']
>;
/** What the caller's promise resolves to. */
export type inferOutput<TContract extends AnyContract, TName extends ProcedureName<TContract>> = z.output<
  TContract['procedures'][TName]['output']
>;
/** What `server.emit` takes. */
export type inferPayloadInput<TContract extends AnyContract, TName extends EventName<TContract>> = z.input<
  TContract['events'][TName]['payload']
>;
/** What a subscriber's handler receives. */
export type inferPayload<TContract extends AnyContract, TName extends EventName<TContract>> = z.output<
  TContract['events'][TName]['payload']
>;
/** The params of an event, or `undefined` for an event without params. */
export type inferParams<
  TContract extends AnyContract,
  TName extends EventName<TContract>,
> = TContract['events'][TName] extends { params: infer TParams extends z.ZodType } ? z.input<TParams> : undefined;
/** The connection params a client must send, or `undefined` when the contract declares none. */
export type inferConnectionParams<TContract extends AnyContract> = TContract['connectionParams'] extends z.ZodType
  ? z.input<TContract['connectionParams']>
  : undefined;
