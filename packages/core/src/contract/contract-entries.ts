import type { AnyContract, MessageDef, ProcedureDef } from './types.js';

/** One procedure or message of a contract, wherever it sits among the groups. */
export interface ContractEntry<TDef> {
  /** Its wire name: `<group>.<name>` for a group's (recursively), its name for the root's. */
  name: string;
  /** The groups it sits in, then its name: where its handler is in nested handlers. */
  path: readonly string[];
  def: TDef;
}

/**
 * A contract's procedures, its groups' included. Events need no such walk: a contract's `events`
 * already holds its groups' under their wire names.
 */
export function procedureEntries(contract: AnyContract): ContractEntry<ProcedureDef>[] {
  return entries(contract, (part) => part.procedures as Record<string, ProcedureDef>, []);
}

/** A contract's client messages, its groups' included. */
export function messageEntries(contract: AnyContract): ContractEntry<MessageDef>[] {
  return entries(contract, (part) => (part.messages ?? {}) as Record<string, MessageDef>, []);
}

function entries<TDef>(
  contract: AnyContract,
  own: (part: AnyContract) => Record<string, TDef>,
  groups: readonly string[],
): ContractEntry<TDef>[] {
  const found = Object.entries(own(contract)).map(([name, def]): ContractEntry<TDef> => ({
    name: [...groups, name].join('.'),
    path: [...groups, name],
    def,
  }));
  for (const [group, part] of Object.entries((contract.groups ?? {}) as Record<string, AnyContract>)) {
    found.push(...entries(part, own, [...groups, group]));
  }
  return found;
}

/** The value at `path` in nested objects (handlers by group), own properties only; else undefined. */
export function valueAt(root: unknown, path: readonly string[]): unknown {
  let node = root;
  for (const part of path) {
    if (typeof node !== 'object' || node === null || !Object.hasOwn(node, part)) return undefined;
    node = (node as Record<string, unknown>)[part];
  }
  return node;
}

/**
 * Puts `value` at `path` in nested plain objects, making the groups on the way (the client's
 * `call.users.get`). A group is never also a function: defineContract refuses a group named like a
 * procedure or message of the same contract.
 */
export function placeAt(root: Record<string, unknown>, path: readonly string[], value: unknown): void {
  let node = root;
  for (const part of path.slice(0, -1)) {
    if (!Object.hasOwn(node, part)) node[part] = {};
    node = node[part] as Record<string, unknown>;
  }
  node[path[path.length - 1]!] = value;
}

/** Freezes nested plain objects, innermost first (the client's call and send proxies). */
export function freezeDeep<T extends object>(root: T): T {
  for (const value of Object.values(root)) {
    if (typeof value === 'object' && value !== null) freezeDeep(value);
  }
  return Object.freeze(root);
}
