import type { z } from 'zod';
import { fingerprintContract } from './fingerprint.js';
import type { Contract, EventMap, ProcedureMap } from './types.js';

/**
 * Names become properties (`client.call.add`) and parts of stream keys, so they are identifier-like:
 * no spaces, no control characters, at most 128 characters.
 */
const NAME_PATTERN = /^[A-Za-z_$][\w$.-]{0,127}$/;

function assertNames(kind: string, map: object): void {
  for (const name of Object.keys(map)) {
    if (!NAME_PATTERN.test(name) || name === '__proto__') {
      throw new TypeError(`wirecall: ${kind} name ${JSON.stringify(name)} must match ${String(NAME_PATTERN)}`);
    }
  }
}

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
  TConnectionParams extends z.ZodType | undefined = undefined,
>(definition: {
  procedures?: TProcedures;
  events?: TEvents;
  connectionParams?: TConnectionParams;
}): Contract<TProcedures, TEvents, TConnectionParams> {
  const procedures = (definition.procedures ?? {}) as TProcedures;
  const events = (definition.events ?? {}) as TEvents;
  const connectionParams = definition.connectionParams as TConnectionParams;
  assertNames('procedure', procedures);
  assertNames('event', events);
  let fingerprint: string | undefined;
  return Object.freeze({
    procedures,
    events,
    connectionParams,
    // Computed on first use: converting every schema to JSON Schema is not free at import time.
    get fingerprint(): string {
      fingerprint ??= fingerprintContract(procedures, events, connectionParams);
      return fingerprint;
    },
  });
}
