import { isErrorCode } from '../errors/codes.js';
import { fingerprintOf, fingerprintText } from './fingerprint.js';
import { messageEntries, procedureEntries } from './contract-entries.js';
import type {
  AnyContract,
  Contract,
  EventMap,
  GroupEvents,
  GroupMap,
  MessageMap,
  ProcedureMap,
  SchemaLike,
} from './types.js';

/**
 * Names become properties (`client.call.add`) and parts of stream keys, so they are identifier-like:
 * a letter, `_` or `$`, then letters, digits and `_ $ . : -` (Socket.IO-style `room:message` works),
 * at most 128 characters in all.
 */
const NAME_PATTERN = /^[A-Za-z_$][\w$.:-]{0,127}$/;
const NAME_RULE = 'start with a letter, _ or $, then only letters, digits, _ $ . : - (at most 128 characters)';

/** A code a procedure declares: SCREAMING_SNAKE, like the built-in ones, and not one of them. */
const DECLARED_CODE_PATTERN = /^[A-Z][A-Z0-9_]{0,63}$/;

/** Group names are plain identifiers: they become a property (`client.call.users`) and a prefix. */
const GROUP_PATTERN = /^[A-Za-z_$][\w$]{0,63}$/;

function assertGroups(groups: GroupMap, taken: object): void {
  for (const [name, group] of Object.entries(groups)) {
    if (Object.hasOwn(taken, name)) {
      throw new TypeError(`wirecall: group ${name} has the name of a procedure or message of the same contract`);
    }
    if (!GROUP_PATTERN.test(name) || name === '__proto__') {
      throw new TypeError(`wirecall: group name ${JSON.stringify(name)} is not allowed: letters, digits, _ and $`);
    }
    if (typeof group !== 'object' || group === null || typeof group.procedures !== 'object') {
      throw new TypeError(`wirecall: group ${name} is not a contract (make it with defineContract)`);
    }
    if (group.connectionParams !== undefined) {
      throw new TypeError(`wirecall: group ${name} declares connectionParams; only the root contract may`);
    }
  }
}

/** Every event, the groups' under `<group>.<name>`; a name taken twice is refused. */
function allEvents(events: EventMap, groups: GroupMap): EventMap {
  const all: EventMap = { ...events };
  for (const [group, contract] of Object.entries(groups)) {
    for (const [name, def] of Object.entries(contract.events as EventMap)) {
      const wireName = `${group}.${name}`;
      if (Object.hasOwn(all, wireName)) throw new TypeError(`wirecall: event ${wireName} is declared twice`);
      all[wireName] = def;
    }
  }
  return all;
}

/** A group's procedure or message may not take a wire name the root already uses. */
function assertUnique(kind: string, names: Iterable<string>): void {
  const seen = new Set<string>();
  for (const name of names) {
    if (seen.has(name)) throw new TypeError(`wirecall: ${kind} ${name} is declared twice`);
    seen.add(name);
  }
}

function assertNames(kind: string, map: object): void {
  for (const name of Object.keys(map)) {
    if (!NAME_PATTERN.test(name) || name === '__proto__') {
      throw new TypeError(`wirecall: ${kind} name ${JSON.stringify(name)} is not allowed: ${NAME_RULE}`);
    }
  }
}

/**
 * The types accept anything shaped like a zod schema (see `SchemaLike`); the runtime parses with
 * zod, so a schema position that holds something else fails here, at definition, not mid-call.
 */
function isZodSchema(value: unknown): boolean {
  return typeof (value as { safeParse?: unknown } | undefined)?.safeParse === 'function';
}

function assertSchemas(kind: string, map: object, keys: readonly string[]): void {
  for (const [name, def] of Object.entries(map) as [string, Record<string, unknown>][]) {
    for (const key of keys) {
      if (def[key] === undefined && key !== keys[0]) continue;
      if (!isZodSchema(def[key])) throw new TypeError(`wirecall: ${kind} ${name}: ${key} is not a zod schema`);
    }
  }
}

function assertProcedures(procedures: ProcedureMap): void {
  for (const [name, def] of Object.entries(procedures)) {
    if (def.output === undefined && def.stream === undefined) {
      throw new TypeError(`wirecall: procedure ${name} needs an output schema (or a stream)`);
    }
    for (const code of Object.keys(def.errors ?? {})) {
      if (!DECLARED_CODE_PATTERN.test(code) || isErrorCode(code)) {
        throw new TypeError(
          `wirecall: procedure ${name} declares error ${JSON.stringify(code)}: declared codes are ` +
            'SCREAMING_SNAKE (A-Z, 0-9, _; at most 64) and not a built-in code',
        );
      }
      if (!isZodSchema(def.errors![code])) {
        throw new TypeError(`wirecall: procedure ${name}: the data of error ${code} is not a zod schema`);
      }
    }
  }
}

type Letter =
  | 'a'
  | 'b'
  | 'c'
  | 'd'
  | 'e'
  | 'f'
  | 'g'
  | 'h'
  | 'i'
  | 'j'
  | 'k'
  | 'l'
  | 'm'
  | 'n'
  | 'o'
  | 'p'
  | 'q'
  | 'r'
  | 's'
  | 't'
  | 'u'
  | 'v'
  | 'w'
  | 'x'
  | 'y'
  | 'z';
type Digit = '0' | '1' | '2' | '3' | '4' | '5' | '6' | '7' | '8' | '9';
type NameStart = Letter | Uppercase<Letter> | '_' | '$';
type NameChar = NameStart | Digit | '.' | ':' | '-';
type IsNameRest<TRest extends string> = TRest extends ''
  ? true
  : TRest extends `${infer TChar}${infer TTail}`
    ? TChar extends NameChar
      ? IsNameRest<TTail>
      : false
    : false;
type IsName<TName extends string> = string extends TName
  ? true
  : TName extends `${infer TFirst}${infer TRest}`
    ? TFirst extends NameStart
      ? IsNameRest<TRest>
      : false
    : false;

/** What the compiler shows in place of a definition whose name breaks the rules. */
export type InvalidName<TName extends string> =
  `wirecall: the name "${TName}" is not allowed: start with a letter, _ or $, then only letters, digits, _ $ . : -`;

/** What the compiler shows in place of a procedure with neither an output nor a stream. */
export type MissingOutput<TName extends string> =
  `wirecall: procedure "${TName}" needs an output schema (or a stream of items)`;

/** The procedures, each with a name the wire can carry and an output or a stream. */
export type CheckProcedures<TMap> = {
  [TName in keyof TMap]: TName extends string
    ? IsName<TName> extends true
      ? TMap[TName] extends { output: SchemaLike } | { stream: SchemaLike }
        ? TMap[TName]
        : MissingOutput<TName>
      : InvalidName<TName>
    : TMap[TName];
};

/** The map with every badly named entry replaced by an {@link InvalidName} message. */
export type CheckNames<TMap> = {
  [TName in keyof TMap]: TName extends string
    ? IsName<TName> extends true
      ? TMap[TName]
      : InvalidName<TName>
    : TMap[TName];
};

/**
 * Declares an API once, for both ends: procedures with input and output schemas, events with payload
 * (and optional params) schemas, and optional connection params.
 *
 * @example
 * export const api = defineContract({
 *   procedures: { add: { input: z.object({ a: z.number(), b: z.number() }), output: z.number() } },
 *   events: { tick: { payload: z.object({ seq: z.number() }) } },
 * });
 */
export function defineContract<
  const TProcedures extends ProcedureMap = Record<never, never>,
  const TEvents extends EventMap = Record<never, never>,
  TConnectionParams extends SchemaLike | undefined = undefined,
  const TMessages extends MessageMap = Record<never, never>,
  const TGroups extends GroupMap = Record<never, never>,
>(definition: {
  procedures?: TProcedures & CheckProcedures<TProcedures>;
  events?: TEvents & CheckNames<TEvents>;
  connectionParams?: TConnectionParams;
  /** Messages the client sends without an answer (a typing notice): `client.send.<name>(payload)`. */
  messages?: TMessages & CheckNames<TMessages>;
  /**
   * Groups, each a contract of its own (`groups: { users: usersContract }`): called as
   * `client.call.users.get(...)`, handled by `handlers: { users: { get } }`, on the wire `users.get`;
   * their events are `users.<event>`.
   */
  groups?: TGroups;
}): Contract<
  TProcedures,
  [keyof TGroups] extends [never] ? TEvents : TEvents & GroupEvents<TGroups>,
  TConnectionParams,
  TMessages,
  TGroups
> {
  const procedures = (definition.procedures ?? {}) as TProcedures;
  const messages = (definition.messages ?? {}) as TMessages;
  const groups = Object.freeze({ ...definition.groups }) as TGroups;
  const connectionParams = definition.connectionParams as TConnectionParams;
  assertNames('procedure', procedures);
  assertNames('event', definition.events ?? {});
  assertNames('message', messages);
  assertSchemas('procedure', procedures, ['input', 'output', 'stream', 'inputStream']);
  assertSchemas('event', definition.events ?? {}, ['payload', 'params', 'presence']);
  assertSchemas('message', messages, ['payload']);
  if (connectionParams !== undefined && !isZodSchema(connectionParams)) {
    throw new TypeError('wirecall: connectionParams is not a zod schema');
  }
  assertGroups(groups, { ...procedures, ...messages });
  assertProcedures(procedures);
  const events = allEvents(definition.events ?? {}, groups) as TEvents & GroupEvents<TGroups>;
  let fingerprint: string | undefined;
  const contract = Object.freeze({
    procedures,
    events,
    messages,
    connectionParams,
    groups,
    // Computed on first use: converting every schema to JSON Schema is not free at import time.
    get fingerprint(): string {
      fingerprint ??= fingerprintOf(fingerprintText(contract));
      return fingerprint;
    },
  });
  assertUnique(
    'procedure',
    procedureEntries(contract as AnyContract).map(({ name }) => name),
  );
  assertUnique(
    'message',
    messageEntries(contract as AnyContract).map(({ name }) => name),
  );
  return contract;
}
